"""`/api/v1/credits/` routes."""

from django.urls import path

from credits.api import views

app_name = "credits"

urlpatterns = [
    path("wallets", views.WalletCreateApi.as_view(), name="wallet-create"),
    path("wallets/<int:pk>", views.WalletDetailApi.as_view(), name="wallet-detail"),
    path("wallets/<int:pk>/transactions", views.WalletTransactionsApi.as_view(), name="wallet-transactions"),
    path("grants", views.GrantCreateApi.as_view(), name="grant-create"),
    path("grants/batch", views.GrantBatchApi.as_view(), name="grant-batch"),
    path("consume", views.ConsumeApi.as_view(), name="consume"),
    path("reservations", views.ReservationCreateApi.as_view(), name="reservation-create"),
    path("reservations/<uuid:pk>", views.ReservationDetailApi.as_view(), name="reservation-detail"),
    path("reservations/<uuid:pk>/commit", views.ReservationCommitApi.as_view(), name="reservation-commit"),
    path("reservations/<uuid:pk>/release", views.ReservationReleaseApi.as_view(), name="reservation-release"),
]

"""`/api/v1/disputes` routes."""

from django.urls import path

from disputes.api import views

app_name = "disputes"

urlpatterns = [
    path("", views.DisputeListCreateApi.as_view(), name="dispute-list"),
    path("/<int:pk>", views.DisputeDetailApi.as_view(), name="dispute-detail"),
    path("/<int:pk>/evidence", views.DisputeEvidenceApi.as_view(), name="dispute-evidence"),
    path("/<int:pk>/submit", views.DisputeSubmitApi.as_view(), name="dispute-submit"),
    path("/<int:pk>/accept", views.DisputeAcceptApi.as_view(), name="dispute-accept"),
    path("/<int:pk>/resolve", views.DisputeResolveApi.as_view(), name="dispute-resolve"),
    path("/<int:pk>/escalate", views.DisputeEscalateApi.as_view(), name="dispute-escalate"),
]

"""`/api/v1/disputes` routes (the collection has no trailing slash, as the issue names it, so the app
owns its prefix and is included at the API root)."""

from django.urls import path

from disputes.api import views

app_name = "disputes"

urlpatterns = [
    path("disputes", views.DisputeListCreateApi.as_view(), name="dispute-list"),
    path("disputes/<int:pk>", views.DisputeDetailApi.as_view(), name="dispute-detail"),
    path("disputes/<int:pk>/evidence", views.DisputeEvidenceApi.as_view(), name="dispute-evidence"),
    path("disputes/<int:pk>/submit", views.DisputeSubmitApi.as_view(), name="dispute-submit"),
    path("disputes/<int:pk>/accept", views.DisputeAcceptApi.as_view(), name="dispute-accept"),
    path("disputes/<int:pk>/resolve", views.DisputeResolveApi.as_view(), name="dispute-resolve"),
    path("disputes/<int:pk>/escalate", views.DisputeEscalateApi.as_view(), name="dispute-escalate"),
]

"""All `/api/v1/` routes, gathered from each app's `api/urls.py`."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("common.api.urls")),
    path("vault/", include("vault.api.urls")),
    path("ledger/", include("ledger.api.urls")),
    path("credits/", include("credits.api.urls")),
    path("reserves/", include("reserves.api.urls")),
    path("", include("disputes.api.urls")),
]

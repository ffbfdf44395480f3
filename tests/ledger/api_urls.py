"""Only the ledger API, so its schema can be checked for warnings on its own."""

from django.urls import include, path

urlpatterns = [path("api/v1/ledger/", include("ledger.api.urls"))]

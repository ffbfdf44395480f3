from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common import health, metrics
from common.errors import api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/live", health.live_view, name="health-live"),
    path("health/ready", health.ready_view, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the CSP needs no inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Unknown API paths answer in the error envelope, in dev mode too.
    re_path(r"^api/", api_not_found),
]

handler404 = "common.errors.handler404"
handler500 = "common.errors.handler500"

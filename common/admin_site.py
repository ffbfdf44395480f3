"""The Strongroom admin site: branded, with a live status dashboard on its home page."""

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse

from common import health
from common.dashboard import tiles_for


class StrongroomAdminSite(AdminSite):
    site_header = "Strongroom"
    site_title = "Strongroom back-office"
    index_title = "Back-office"
    index_template = "admin/strongroom_index.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {
            "system_status": health.run_checks(),
            "dashboard_tiles": tiles_for(request),
            **(extra_context or {}),
        }
        return super().index(request, extra_context=context)

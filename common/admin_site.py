"""The Strongroom admin site: branded, with a live status dashboard on its home page."""

from typing import Any

from django.contrib.admin import AdminSite, ModelAdmin
from django.http import HttpRequest, HttpResponse

from common import health
from common.dashboard import tiles_for

# Mixins applied to every ModelAdmin registered on the site (audit adds its change recorder here
# from its AppConfig.ready(), which runs before admin autodiscovery).
MODEL_ADMIN_MIXINS: list[type] = []


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

    def register(self, model_or_iterable: Any, admin_class: type | None = None, **options: Any) -> None:
        admin_class = admin_class or ModelAdmin
        missing = tuple(mixin for mixin in MODEL_ADMIN_MIXINS if not issubclass(admin_class, mixin))
        if missing:
            admin_class = type(admin_class.__name__, (*missing, admin_class), {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)

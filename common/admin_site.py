"""The Strongroom admin site: branded, with a live status dashboard on its home page."""

from typing import Any

from django.contrib.admin import AdminSite, ModelAdmin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

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
    login_template = "admin/strongroom_login.html"

    @property
    def login_form(self):  # noqa: ANN201 - imported lazily: the form needs the app registry
        from common.staff_auth import StaffLoginForm

        return StaffLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, active, and past the second factor (django-otp)."""
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "is_verified", lambda: False)())

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from common.staff_auth import ip_login_failures_exceeded

        if request.method == "POST" and ip_login_failures_exceeded(request):
            return TemplateResponse(request, "admin/locked_out.html", {"reason": "ip"}, status=429)
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 200:  # the form came back: a failure
            ip_login_failures_exceeded(request, increment=True)
        return response

    def get_urls(self):  # noqa: ANN201
        from django.urls import path

        from common.staff_auth import otp_backup_codes_view, otp_enroll_view

        return [
            # Logging out needs no permission: a session stuck before its second factor must end too.
            path("logout/", self.logout, name="logout"),
            path("otp/enroll/", otp_enroll_view, name="otp_enroll"),
            path("otp/backup-codes/", otp_backup_codes_view, name="otp_backup_codes"),
            *super().get_urls(),
        ]

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

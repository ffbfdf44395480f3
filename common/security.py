"""HTTP security plumbing: staff two-factor gate, Content-Security-Policy, spoofed identity headers."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_otp import user_has_device

from audit.services import audit_record

# Everything a staff user may reach before the second factor: the login/logout and enrolment pages.
_TWO_FACTOR_EXEMPT = ("admin:login", "admin:logout", "admin:otp_enroll", "admin:otp_backup_codes", "admin:jsi18n")


class StaffTwoFactorMiddleware:
    """No admin page without a verified second factor.

    A staff user who passed the password but not the OTP step is sent to the enrolment page (no
    confirmed device yet) or back to the login page (device present). The admin site's own
    `has_permission` also requires `is_verified()`, so this cannot be bypassed by a missed URL.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if request.path.startswith("/admin/") and user is not None and user.is_authenticated and not user.is_verified():
            try:
                view_name = resolve(request.path_info).view_name
            except Resolver404:
                view_name = ""
            if view_name not in _TWO_FACTOR_EXEMPT:
                target = "admin:login" if user_has_device(user) else "admin:otp_enroll"
                return redirect(f"{reverse(target)}?next={request.path}")
        return self.get_response(request)


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline scripts anywhere
        "style-src 'self' 'unsafe-inline'",  # the admin uses style attributes
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


IDENTITY_HEADERS = ("X-User-Id", "X-Merchant-Id", "X-Partner-Id", "X-Tenant-Id", "X-Client-Id", "X-Actor")


class IgnoredIdentityHeadersMiddleware:
    """Identity comes only from the verified token. Headers claiming one are ignored and recorded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            sent = sorted(name for name in IDENTITY_HEADERS if name in request.headers)
            if sent:
                audit_record(
                    action="security.identity_header.ignored",
                    data={"headers": sent, "method": request.method, "path": request.path},
                )
        return response

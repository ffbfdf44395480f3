"""Per-request audit context, and an event for every state-changing API request."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit import context
from audit.context import Actor
from audit.services import audit_record
from common.client_ip import client_ip

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class AuditContextMiddleware:
    """After AuthenticationMiddleware: staff user, IP and user agent for every event of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        actor = Actor.for_user(user) if user is not None and user.is_authenticated else None
        user_agent = request.headers.get("User-Agent", "")[:512]
        with context.acting(actor=actor, ip=client_ip(request), user_agent=user_agent, tenant=""):
            response = self.get_response(request)
            if request.method in STATE_CHANGING and request.path.startswith("/api/"):
                self._record_api_request(request, response)
            return response

    @staticmethod
    def _record_api_request(request: HttpRequest, response: HttpResponse) -> None:
        audit_record(
            action="api.request.completed",
            data={"method": request.method, "path": request.path, "status": response.status_code},
        )

"""The one error envelope for every API error, and the `DomainError` base all apps raise.

    {"error": {"code": "...", "message": "...", "fields": {...}, "request_id": "..."}}

Codes are stable strings, listed in the README; messages are for people and may change.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from common.request_id import get_request_id

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused the action. Subclasses set a stable `code` and an HTTP status."""

    code = "domain_error"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "The request could not be carried out."

    def __init__(self, message: str | None = None, *, fields: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.fields = fields or {}
        super().__init__(self.message)


# DRF exception class → stable code.
_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}, "request_id": get_request_id()}}


def _flatten(detail: Any) -> Any:
    """DRF's ErrorDetail trees as plain strings and lists."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def _validation_envelope(detail: Any) -> tuple[str, dict[str, Any]]:
    detail = _flatten(detail)
    if isinstance(detail, dict):
        non_field = detail.pop("non_field_errors", None) or detail.pop("__all__", None)
        message = " ".join(non_field) if non_field else "The request has invalid fields."
        return message, detail
    if isinstance(detail, list):
        return " ".join(str(d) for d in detail), {}
    return str(detail), {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception, expected or not, leaves in the envelope."""
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.APIException):
        set_rollback()
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None) or str(exc.default_code)
        if isinstance(exc, exceptions.ValidationError):
            message, fields = _validation_envelope(exc.detail)
        else:
            message, fields = str(_flatten(exc.detail)), {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        return Response(error_body(code, message, fields), status=exc.status_code, headers=headers)

    # Unexpected: log the traceback (masked), answer without internals.
    set_rollback()
    view = context.get("view")
    logger.error("Unhandled API exception in %s", type(view).__name__ if view else "?", exc_info=exc)
    return Response(
        error_body("internal_error", "An internal error occurred. Quote the request id when reporting it."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return JsonResponse(error_body("not_found", "No such resource."), status=404)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        body = error_body("internal_error", "An internal error occurred. Quote the request id when reporting it.")
        return JsonResponse(body, status=500)
    return defaults.server_error(request)

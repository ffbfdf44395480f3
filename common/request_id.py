"""Request ids: accepted from `X-Request-ID` when well formed, made otherwise, returned on the
response, stamped on every log line and carried into Celery tasks started by the request."""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.conf import settings
from django.http import HttpRequest, HttpResponse

_request_id: ContextVar[str] = ContextVar("request_id", default="")

# Letters, digits and a few separators; long enough for a UUID or a trace id, short enough for logs.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")
_TASK_HEADER = "strongroom_request_id"


def get_request_id() -> str:
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_or_make(candidate: str | None) -> str:
    """Keep a caller's id if it is well formed; anything else could forge or flood the logs."""
    if candidate and _WELL_FORMED.match(candidate):
        return candidate
    return new_request_id()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.meta_key = "HTTP_" + settings.REQUEST_ID_HEADER.upper().replace("-", "_")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accept_or_make(request.META.get(self.meta_key))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[settings.REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter:
    """Adds `record.request_id` (the current request's or task's id, or "-")."""

    def filter(self, record) -> bool:  # noqa: ANN001 - logging's protocol
        record.request_id = _request_id.get() or "-"
        return True


@before_task_publish.connect
def _attach_request_id(headers: dict | None = None, **kwargs) -> None:
    request_id = _request_id.get()
    if headers is not None and request_id:
        headers[_TASK_HEADER] = request_id


_task_tokens: dict[str, object] = {}


@task_prerun.connect
def _restore_request_id(task_id: str | None = None, task=None, **kwargs) -> None:  # noqa: ANN001
    request = getattr(task, "request", None)
    incoming = getattr(request, _TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(_TASK_HEADER)
    # Eager tasks run inside the request: keep its id. Worker tasks adopt the publisher's or get their own.
    if not _request_id.get() or incoming:
        _task_tokens[task_id or ""] = _request_id.set(accept_or_make(incoming))


@task_postrun.connect
def _clear_request_id(task_id: str | None = None, **kwargs) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        _request_id.reset(token)  # type: ignore[arg-type]

"""Who is acting, and from where: set once per request or task, read by `audit_record`.

Middleware sets the staff user, IP and user agent; the API authentication sets the API client;
commands and tasks act as the system unless told otherwise (`--actor`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from audit.choices import ActorKind


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str = ""
    label: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=label)

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        return cls(kind=ActorKind.STAFF, id=str(user.pk), label=user.get_username())

    @classmethod
    def anonymous(cls, label: str = "") -> Actor:
        return cls(kind=ActorKind.ANONYMOUS, label=label[:255])


@dataclass(frozen=True)
class AuditContext:
    actor: Actor | None = None
    ip: str = ""
    user_agent: str = ""
    tenant: str = ""


_context: ContextVar[AuditContext] = ContextVar("audit_context", default=AuditContext())  # noqa: B039 (frozen)


def current() -> AuditContext:
    return _context.get()


@contextmanager
def acting(**changes: Any) -> Iterator[AuditContext]:
    """Within the block, events default to these actor/ip/user_agent/tenant values."""
    token = _context.set(replace(_context.get(), **changes))
    try:
        yield _context.get()
    finally:
        _context.reset(token)


def set_for_request(**changes: Any) -> None:
    """For middleware and authentication: refine the context of the request being served."""
    _context.set(replace(_context.get(), **changes))

"""`Idempotency-Key` for POSTs: a retried request gets the first response instead of acting twice.

Per API client, each key is stored with a fingerprint of method, path and body. Race-free by the
unique constraint on (client, key): the first request inserts the record (committed at once, so
concurrent twins see it), runs, and stores its response; a repeat replays it with
`Idempotent-Replayed: true`; the same key with another body is a 422 `idempotency_key_reused`; a
twin arriving while the first still runs is a 409 `idempotency_key_in_use`. Only successful
(2xx) responses are kept, in the same transaction as the change they report; a failed request
releases its key, so a corrected retry can run.
Keys expire after IDEMPOTENCY_TTL_HOURS (hourly beat cleanup).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import DomainError
from common.models import IdempotencyRecord, IdempotencyState

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"
    default_message = "This endpoint requires an Idempotency-Key header."


class IdempotencyKeyInvalid(DomainError):
    code = "idempotency_key_invalid"
    default_message = f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = "This Idempotency-Key was used with a different request."


class IdempotencyKeyInUse(DomainError):
    code = "idempotency_key_in_use"
    status_code = status.HTTP_409_CONFLICT
    default_message = "A request with this Idempotency-Key is still being processed; retry shortly."


def fingerprint(request: Request) -> str:
    """A keyed hash (HMAC-SHA256 under a key derived from SECRET_KEY) of method, path and body.

    Keyed, not a plain hash: a tokenize body holds a PAN, and a plain SHA-256 kept for 24 hours
    would let anyone reading the table confirm a guessed card number (PCI DSS 3.5.1.1).
    """
    if (request.content_type or "").startswith("multipart/"):
        body = _multipart_digest(request)
    else:
        body = request.body if hasattr(request, "body") else b""
    message = b"".join(
        len(part).to_bytes(8, "big") + part for part in (request.method.encode(), request.path.encode(), body)
    )
    return salted_hmac("strongroom.idempotency.fingerprint", message, algorithm="sha256").hexdigest()


def _multipart_digest(request: Request) -> bytes:
    """Uploads: the parsed fields and each file's name and SHA-256 (the multipart boundary differs per
    retry, and reading `request.body` would refuse files over DATA_UPLOAD_MAX_MEMORY_SIZE)."""
    digest = hashlib.sha256()
    for name in sorted(request.data.keys()):
        for value in request.data.getlist(name):
            digest.update(len(name).to_bytes(8, "big") + name.encode())
            if isinstance(value, UploadedFile):
                content = hashlib.sha256()
                for chunk in value.chunks():
                    content.update(chunk)
                value.seek(0)
                part = f"file:{value.name}:{content.hexdigest()}".encode()
            else:
                part = f"value:{value}".encode()
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.digest()


def _claim(client_id: str, key: str, print_: str) -> IdempotencyRecord | None:
    """Insert the in-progress record (own transaction). None = claimed; else the existing record."""
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                client_id=client_id, key=key, fingerprint=print_, created_at=now,
                expires_at=now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
            )  # fmt: skip
        return None
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(client_id=client_id, key=key)
    if existing.fingerprint != print_:
        raise IdempotencyKeyReused()
    if existing.state == IdempotencyState.IN_PROGRESS:
        stale_before = now - timedelta(seconds=settings.IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS)
        # A crashed first attempt leaves its claim behind; after the timeout one retry may take it over.
        taken = IdempotencyRecord.objects.filter(
            pk=existing.pk, state=IdempotencyState.IN_PROGRESS, created_at__lt=stale_before
        ).update(created_at=now)
        if taken:
            return None
        raise IdempotencyKeyInUse()
    return existing


def idempotent(*, required: bool = True) -> Callable:
    """Decorator for a DRF view method (after authentication), e.g. `post`."""

    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    raise IdempotencyKeyRequired()
                return handler(view, request, *args, **kwargs)
            if not (1 <= len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()):
                raise IdempotencyKeyInvalid()
            client_id = request.auth.client.client_id
            existing = _claim(client_id, key, fingerprint(request))
            if existing is not None:
                response = Response(json.loads(existing.response_body), status=existing.response_status)
                response["Idempotent-Replayed"] = "true"
                return response
            records = IdempotencyRecord.objects.filter(client_id=client_id, key=key)
            try:
                # The stored response commits with the business change (services join this
                # transaction), so a crash can never leave an executed request marked as not done.
                with transaction.atomic():
                    response = handler(view, request, *args, **kwargs)
                    if 200 <= response.status_code < 300:
                        records.update(
                            state=IdempotencyState.COMPLETED,
                            response_status=response.status_code,
                            response_body=json.dumps(response.data, default=str),
                        )
            except BaseException:
                records.delete()
                raise
            if not 200 <= response.status_code < 300:
                records.delete()
            return response

        return wrapper

    return decorate


def idempotency_purge_expired(*, now: Any = None) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted

"""The client's IP address: REMOTE_ADDR, unless a trusted proxy count is configured.

`X-Forwarded-For` is only read when STRONGROOM_TRUSTED_PROXY_COUNT says how many proxies in front
of us append to it; then the address that many hops from the right is the client's.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    return forwarded[-hops]

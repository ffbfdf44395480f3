"""`/metrics` for Prometheus, readable only from configured networks or with a bearer token."""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView

from common.client_ip import client_ip


def _from_allowed_network(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_NETWORKS)


def _has_token(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    supplied = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(supplied.encode(), f"Bearer {expected}".encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not (_has_token(request) or _from_allowed_network(request)):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return ExportToDjangoView(request)

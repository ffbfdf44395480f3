"""Per-client API rate limits (GCRA) and the headers that describe them.

GCRA ("generic cell rate algorithm") is a token bucket kept as one timestamp per key, the
theoretical arrival time (TAT): a client may send `burst` requests at once, then one every
1/rate seconds. Unlike a fixed window, it never lets twice the limit through at a window edge.

Backends:
- Redis (when REDIS_URL is set): one atomic Lua script using Redis's clock, correct across
  processes and hosts.
- Embedded (no Redis): the same algorithm in process memory under a lock. Semantics: limits hold
  per process, so N server processes allow up to N times the limit. `make run` serves from one.
When Redis is unreachable an endpoint class fails open (allowed, counted, logged) or closed (503),
per RATE_LIMIT_FAIL_CLOSED_CLASSES; detokenization fails closed.
"""

from __future__ import annotations

import abc
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from common.client_ip import client_ip

logger = logging.getLogger(__name__)

limiter_errors = Counter(
    "strongroom_ratelimit_backend_errors_total",
    "Rate-limit decisions made without the backend (Redis unreachable), by outcome.",
    ["endpoint_class", "outcome"],
)
rate_limited = Counter("strongroom_ratelimit_rejected_total", "Requests refused by a rate limit.", ["endpoint_class"])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # seconds until the bucket is full again
    retry_after: float  # seconds until the next request would be allowed (0 when allowed)


class LimiterUnavailable(Exception):
    pass


_EPSILON = 1e-9


def _decide(tat: float, now: float, rate: float, burst: int) -> tuple[Decision, float | None]:
    """The GCRA step: the decision and the new TAT to store (None when refused)."""
    interval = 1.0 / rate
    tat = max(tat, now)
    new_tat = tat + interval
    allow_at = new_tat - burst * interval
    if allow_at > now + _EPSILON:  # tolerance: 10 x 0.1 s is not exactly 1.0 s in floating point
        remaining = 0
        return Decision(False, burst, remaining, tat - now, allow_at - now), None
    remaining = int((burst * interval - (new_tat - now)) / interval + 1e-9)
    return Decision(True, burst, remaining, new_tat - now, 0.0), new_tat


class EmbeddedBackend:
    """In-process GCRA. `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, rate: float, burst: int) -> Decision:
        with self._lock:
            now = self.clock()
            decision, new_tat = _decide(self._tats.get(key, now), now, rate, burst)
            if new_tat is not None:
                self._tats[key] = new_tat
            if len(self._tats) > 100_000:  # forget buckets that are full again
                self._tats = {k: v for k, v in self._tats.items() if v > now}
            return decision


_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = 1 / tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if allow_at > now + 1e-9 then
  return {0, tostring(tat - now), tostring(allow_at - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return {1, tostring(new_tat - now), '0'}
"""


class RedisBackend:
    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._client.register_script(_LUA)
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

    def hit(self, key: str, rate: float, burst: int) -> Decision:
        try:
            allowed, reset_after, retry_after = self._script(keys=[key], args=[rate, burst])
        except self._errors as error:
            raise LimiterUnavailable(str(error)) from error
        reset, retry = float(reset_after), float(retry_after)
        interval = 1.0 / rate
        remaining = max(0, int((burst * interval - reset) / interval + 1e-9)) if allowed else 0
        return Decision(bool(allowed), burst, remaining, reset, retry)


@lru_cache(maxsize=4)
def _backend_for(redis_url: str) -> EmbeddedBackend | RedisBackend:
    return RedisBackend(redis_url) if redis_url else EmbeddedBackend()


def backend() -> EmbeddedBackend | RedisBackend:
    return _backend_for(settings.REDIS_URL)


def check(*, key: str, rate: float, burst: int, endpoint_class: str = "default") -> Decision | None:
    """One hit. None = decided without the backend (fail open); raises when the class fails closed."""
    try:
        decision = backend().hit(key, rate, burst)
    except LimiterUnavailable:
        closed = endpoint_class in settings.RATE_LIMIT_FAIL_CLOSED_CLASSES
        limiter_errors.labels(endpoint_class, "refused" if closed else "allowed").inc()
        logger.warning("rate limiter unavailable; %s fails %s", endpoint_class, "closed" if closed else "open")
        if closed:
            raise RateLimiterUnavailable() from None
        return None
    if not decision.allowed:
        rate_limited.labels(endpoint_class).inc()
    return decision


class RateLimiterUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The rate limiter is unavailable; this endpoint refuses requests until it is back."
    default_code = "rate_limiter_unavailable"


class _GcraThrottle(BaseThrottle, abc.ABC):
    """A DRF throttle over `check()`; the decision goes on the request for RateLimitHeadersMiddleware."""

    @abc.abstractmethod
    def bucket(self, request: Request, view: Any) -> tuple[str, float, int, str] | None:
        """(key, rate, burst, endpoint class), or None when this throttle does not apply."""

    def allow_request(self, request: Request, view: Any) -> bool:
        bucket = self.bucket(request, view)
        if bucket is None:
            return True
        key, rate, burst, endpoint_class = bucket
        decision = check(key=key, rate=rate, burst=burst, endpoint_class=endpoint_class)
        request._request.rate_limit_decision = decision
        self._wait = decision.retry_after if decision else 0.0
        return decision is None or decision.allowed

    def wait(self) -> float:
        return math.ceil(self._wait)


class ApiClientRateThrottle(_GcraThrottle):
    """Each API client's own rate and burst. Views may set `rate_limit_class` and `rate_limit` =
    (rate, burst) for a separate, stricter bucket (e.g. detokenization)."""

    def bucket(self, request: Request, view: Any) -> tuple[str, float, int, str] | None:
        from common.api_auth import ApiAuth

        auth = request.auth
        if not isinstance(auth, ApiAuth):
            return None  # public endpoints use ClientIpRateThrottle
        endpoint_class = getattr(view, "rate_limit_class", "default")
        rate, burst = getattr(view, "rate_limit", settings.API_RATE_LIMIT_DEFAULT)
        if endpoint_class == "default":
            rate, burst = auth.client.rate_per_second or rate, auth.client.burst or burst
        return f"rl:{endpoint_class}:{auth.client.client_id}", rate, burst, endpoint_class


class ClientIpRateThrottle(_GcraThrottle):
    """Public endpoints (the token endpoint): one bucket per client IP and `rate_limit_class`."""

    def bucket(self, request: Request, view: Any) -> tuple[str, float, int, str] | None:
        endpoint_class = getattr(view, "rate_limit_class", "public")
        rate, burst = getattr(view, "rate_limit", settings.API_RATE_LIMIT_DEFAULT)
        return f"rl:{endpoint_class}:ip:{client_ip(request._request)}", rate, burst, endpoint_class


class RateLimitHeadersMiddleware:
    """RateLimit-Limit / -Remaining / -Reset on every rate-limited response (429s included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        decision: Decision | None = getattr(request, "rate_limit_decision", None)
        if decision is not None:
            response["RateLimit-Limit"] = str(decision.limit)
            response["RateLimit-Remaining"] = str(decision.remaining)
            response["RateLimit-Reset"] = str(math.ceil(decision.reset_after))
            if not decision.allowed:
                response["Retry-After"] = str(max(1, math.ceil(decision.retry_after)))
        return response


def failures_exceeded(request: HttpRequest, *, group: str, key: Callable, rate: str, increment: bool) -> bool:
    """Per-IP limits on unauthenticated endpoints that count failed attempts only (django-ratelimit).

    Call with increment=False before acting (True once the limit's count of failures is reached)
    and with increment=True after a failure.
    """
    from django_ratelimit import ALL
    from django_ratelimit.core import get_usage

    usage = get_usage(request, group=group, key=key, rate=rate, method=ALL, increment=increment)
    return usage is not None and usage["count"] >= usage["limit"]

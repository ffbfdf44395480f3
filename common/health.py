"""Liveness and readiness, and the same dependency checks for the admin dashboard.

Each check runs in its own thread, bounded by HEALTH_CHECK_TIMEOUT_SECONDS, so one hung
dependency cannot hold the probe (or the admin home page) hostage.
"""

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


class CheckSkipped(Exception):
    """The dependency is not configured here (e.g. no Redis in the embedded setup)."""


def check_database() -> str:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return connection.vendor
    finally:
        connection.close()  # the check runs in a throw-away thread: do not leak its connection


def check_migrations() -> str:
    connection = connections["default"]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    finally:
        connection.close()
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        raise RuntimeError(f"{len(plan)} unapplied migration(s): {names}")
    return "all applied"


def check_redis() -> str:
    if not settings.REDIS_URL:
        raise CheckSkipped("REDIS_URL not set; embedded cache and rate-limit backends in use")
    import redis

    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()
    return "pong"


def check_broker() -> str:
    from config.celery_app import app

    if app.conf.broker_url.startswith("filesystem://"):
        options = app.conf.broker_transport_options
        for key in ("data_folder_out", "control_folder"):
            folder = options[key]
            if not os.access(folder, os.W_OK):
                raise RuntimeError(f"queue folder {folder} is not writable")
        return "filesystem queue writable"
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    return "reachable"


READINESS_CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "migrations": check_migrations,
    "redis": check_redis,
    "celery_broker": check_broker,
}


def run_checks(checks: dict[str, Callable[[], str]] | None = None) -> dict[str, dict[str, Any]]:
    """Run every check concurrently; each answers within the timeout or counts as failed."""
    checks = checks or READINESS_CHECKS
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
    started = time.monotonic()
    futures = {name: pool.submit(check) for name, check in checks.items()}
    results: dict[str, dict[str, Any]] = {}
    for name, future in futures.items():
        remaining = max(0.0, timeout - (time.monotonic() - started))
        try:
            results[name] = {"status": OK, "detail": future.result(timeout=remaining)}
        except CheckSkipped as skipped:
            results[name] = {"status": SKIPPED, "detail": str(skipped)}
        except FutureTimeout:
            results[name] = {"status": FAILED, "detail": f"no answer within {timeout:g}s"}
        except Exception as error:  # noqa: BLE001 - any failure is reported, by its class and message
            results[name] = {"status": FAILED, "detail": f"{type(error).__name__}: {error}"[:300]}
    pool.shutdown(wait=False, cancel_futures=True)  # a hung check must not hold the response
    return results


@never_cache
@require_GET
def live_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": OK})


@never_cache
@require_GET
def ready_view(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    healthy = all(result["status"] != FAILED for result in results.values())
    return JsonResponse({"status": OK if healthy else FAILED, "checks": results}, status=200 if healthy else 503)

"""Benchmark harness: Django on a throw-away PostgreSQL with durable commits, and timing helpers."""

import atexit
import os
import secrets
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable

from common.testing.servers import PostgresServer


def setup_django(*, durable: bool = True) -> PostgresServer:
    """Start a private PostgreSQL (fsync and synchronous_commit on), point Django at it, migrate."""
    server = PostgresServer(durable=durable)
    os.environ["DATABASE_URL"] = server.start()
    atexit.register(server.stop)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("STRONGROOM_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.bench"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return server


def run_threads(count: int, work: Callable[[int], object], duration: float) -> tuple[int, Counter, float]:
    """Run work(i) in `count` threads (own database connections) for `duration` seconds, started together.
    Returns (operations done, errors by code, seconds)."""
    from django.db import connections

    done = [0] * count
    errors: Counter = Counter()
    barrier = threading.Barrier(count + 1)

    def target(i: int) -> None:
        barrier.wait()
        stop_at = time.perf_counter() + duration
        try:
            while time.perf_counter() < stop_at:
                try:
                    work(i)
                    done[i] += 1
                except Exception as error:
                    errors[getattr(error, "code", None) or type(error).__name__] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return sum(done), errors, time.perf_counter() - started


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def time_each(call: Callable[[], object], repeat: int) -> list[float]:
    """Seconds taken by each of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def summary_ms(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"p50 {statistics.median(ms):.3f} ms, p99 {percentile(ms, 0.99):.3f} ms (n={len(ms)})"


def row(label: str, value: str) -> None:
    print(f"  {label:<58} {value}", flush=True)

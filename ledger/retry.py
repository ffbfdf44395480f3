"""The one transaction helper of the ledger: atomic, and retried on serialization failures and deadlocks.

Ordered locks (ledger/locks.py) keep deadlocks out of the ledger's own paths, but a caller mixing
other rows, or a lock-timeout, can still meet one; PostgreSQL then aborts one transaction with
SQLSTATE 40P01 (or 40001 under SERIALIZABLE). `run_atomic` reruns the whole unit of work a bounded
number of times with jittered exponential backoff, so no such error reaches a caller unless it
persists. Inside a caller's transaction the work joins it (a savepoint) and is not retried here:
only the outermost transaction can be rerun, so the caller's own `run_atomic` does it.
"""

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, transaction

P = ParamSpec("P")
T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


def is_retryable(error: BaseException) -> bool:
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error)  # SQLite writer contention


def run_atomic(work: Callable[[], T], *, using: str = DEFAULT_DB_ALIAS) -> T:
    """Run `work()` in a transaction; rerun it on a retryable failure (bounded, with backoff)."""
    if transaction.get_connection(using).in_atomic_block:
        with transaction.atomic(using=using):
            return work()
    attempts = settings.LEDGER_RETRY_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using, durable=True):
                return work()
        except OperationalError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            delay = settings.LEDGER_RETRY_BASE_DELAY_SECONDS * (2 ** (attempt - 1))
            time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")  # pragma: no cover


def atomic_with_retry(function: Callable[P, T]) -> Callable[P, T]:
    """Decorator form of `run_atomic` for service entry points."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_atomic(lambda: function(*args, **kwargs))

    return wrapper

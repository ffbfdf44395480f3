"""Tampering tools for tests: what an attacker with database access could do."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from common.sql_migrations import execute_sql_file


@contextmanager
def triggers_lifted() -> Iterator[None]:
    """Remove the append-only triggers inside the block (inside the test's transaction)."""
    execute_sql_file(connection, "audit", "0002_immutability", reverse=True)
    try:
        yield
    finally:
        execute_sql_file(connection, "audit", "0002_immutability", reverse=False)


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])

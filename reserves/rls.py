"""The partner context row-level security reads on PostgreSQL.

`partner_context(partner_id)` runs `set_config('strongroom.partner_id', …, true)` — the transaction-
scoped form of `SET LOCAL` — so the policies in migrations/sql/0003_row_level_security hide every
approval row the partner is not eligible for (or did not request). The block is a savepoint: on
success the previous value is put back, on error the rollback to the savepoint restores it, so the
setting never leaks into the rest of a caller's transaction. Without the setting (platform, engine,
beat tasks) the policies let every row through; the querysets filter by partner as well, so SQLite
deployments keep the isolation in the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

SETTING = "strongroom.partner_id"


def _set(value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [SETTING, value])


@contextmanager
def partner_context(partner_id: int | None) -> Iterator[None]:
    """A (sub)transaction in which row-level security shows only this partner's approval rows."""
    with transaction.atomic():
        if partner_id is None or connection.vendor != "postgresql":
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [SETTING])
            previous = cursor.fetchone()[0] or ""
        _set(str(int(partner_id)))
        yield
        _set(previous)  # only reached without an error; on error the savepoint's rollback restores it

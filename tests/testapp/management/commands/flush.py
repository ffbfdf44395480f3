"""Test-only `flush`: lifts the append-only triggers, flushes, and puts them back.

In the product, `flush` is refused by those triggers, which is the point; transactional tests
need an empty database between tests, so this override exists only in test settings.
"""

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from common.sql_migrations import APPEND_ONLY_SQL, execute_sql_file


class Command(DjangoFlush):
    def handle(self, **options) -> None:
        connection = connections[options["database"]]
        for app_label, name in reversed(APPEND_ONLY_SQL):
            execute_sql_file(connection, app_label, name, reverse=True)
        try:
            super().handle(**options)
        finally:
            for app_label, name in APPEND_ONLY_SQL:
                execute_sql_file(connection, app_label, name, reverse=False)

"""A migration operation that runs vendor-specific SQL files kept in `<app>/migrations/sql/`.

`RunVendorSQL("audit", "0002_immutability")` runs `0002_immutability.postgresql.sql` on PostgreSQL
and `0002_immutability.sqlite.sql` on SQLite (whichever exist), and the matching `*.reverse.sql`
when the migration is unapplied. Triggers and constraint functions live in those files.
"""

from pathlib import Path

from django.apps import apps as global_apps
from django.db import migrations


class RunVendorSQL(migrations.RunPython):
    def __init__(self, app_label: str, name: str) -> None:
        self.app_label, self.name = app_label, name
        super().__init__(self._forward, self._backward, elidable=False)

    def _run(self, schema_editor, reverse: bool) -> None:  # noqa: ANN001
        execute_sql_file(schema_editor.connection, self.app_label, self.name, reverse=reverse)

    def _forward(self, apps, schema_editor) -> None:  # noqa: ANN001
        self._run(schema_editor, reverse=False)

    def _backward(self, apps, schema_editor) -> None:  # noqa: ANN001
        self._run(schema_editor, reverse=True)

    def describe(self) -> str:
        return f"Run {self.app_label}/migrations/sql/{self.name}.<vendor>.sql"

    def deconstruct(self):  # noqa: ANN201
        return (self.__class__.__qualname__, [self.app_label, self.name], {})


# SQL files whose triggers make tables append-only. Nothing in the product lifts them; the test
# suite's `flush` (tests/testapp) runs their reverse and forward files around a flush.
APPEND_ONLY_SQL: list[tuple[str, str]] = []


def register_append_only(app_label: str, name: str) -> None:
    if (app_label, name) not in APPEND_ONLY_SQL:
        APPEND_ONLY_SQL.append((app_label, name))


def execute_sql_file(connection, app_label: str, name: str, *, reverse: bool) -> None:  # noqa: ANN001
    """Run `<app>/migrations/sql/<name>.<vendor>[.reverse].sql` on `connection`, if that file exists."""
    folder = Path(global_apps.get_app_config(app_label).path) / "migrations" / "sql"
    path = folder / f"{name}.{connection.vendor}{'.reverse' if reverse else ''}.sql"
    if not path.exists():
        return
    sql = path.read_text()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # sqlite3 runs one statement per execute(); triggers contain ';' so files split on a marker.
            for statement in sql.split("-- statement"):
                if statement.strip():
                    cursor.execute(statement)
        else:
            cursor.execute(sql, None)  # None: "%" in PL/pgSQL is not a placeholder

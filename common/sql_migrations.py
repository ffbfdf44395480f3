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

    def _path(self, vendor: str, reverse: bool) -> Path:
        folder = Path(global_apps.get_app_config(self.app_label).path) / "migrations" / "sql"
        return folder / f"{self.name}.{vendor}{'.reverse' if reverse else ''}.sql"

    def _run(self, schema_editor, reverse: bool) -> None:  # noqa: ANN001
        path = self._path(schema_editor.connection.vendor, reverse)
        if not path.exists():
            return
        sql = path.read_text()
        if schema_editor.connection.vendor == "sqlite":
            # sqlite3 runs one statement per execute(); triggers contain ';' so split on a marker.
            for statement in sql.split("-- statement"):
                if statement.strip():
                    schema_editor.execute(statement, params=None)
        else:
            schema_editor.execute(sql, params=None)  # None: "%" in PL/pgSQL is not a placeholder

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


def run_sql_file(schema_editor, app_label: str, name: str, *, reverse: bool) -> None:  # noqa: ANN001
    RunVendorSQL(app_label, name)._run(schema_editor, reverse=reverse)

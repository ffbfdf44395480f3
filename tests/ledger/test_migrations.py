import re
from pathlib import Path

import ledger
from common.money import ISO_4217_EXPONENTS

MIGRATIONS = Path(ledger.__file__).parent / "migrations"


class TestMigrations:
    def test_no_hard_coded_currency_or_precision(self) -> None:
        codes = "|".join(sorted(ISO_4217_EXPONENTS))
        pattern = re.compile(rf"['\":]({codes})['\"]|decimal_places|DecimalField|FloatField")
        offenders = [
            f"{path.name}: {match.group(0)}"
            for path in sorted(MIGRATIONS.rglob("*"))
            if path.is_file() and path.suffix in {".py", ".sql"}
            for match in pattern.finditer(path.read_text())
        ]

        assert offenders == []

    def test_every_sql_file_has_a_reverse(self) -> None:
        forward = {p.name for p in (MIGRATIONS / "sql").glob("*.sql") if not p.name.endswith(".reverse.sql")}

        assert forward
        for name in forward:
            assert (MIGRATIONS / "sql" / (name.removesuffix(".sql") + ".reverse.sql")).exists(), name

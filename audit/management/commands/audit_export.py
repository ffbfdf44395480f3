from django.core.management.base import BaseCommand

from audit.services import audit_chain_pending, audit_export_lines


class Command(BaseCommand):
    help = "Write the audit chain and its checkpoints as JSON Lines (verify offline with audit/offline.py)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--output", required=True, help="file to write")
        parser.add_argument("--from-sequence", type=int, default=1)

    def handle(self, *args, output: str, from_sequence: int, **options) -> None:
        audit_chain_pending()
        count = 0
        with open(output, "w", encoding="utf-8") as handle:  # noqa: PTH123
            for line in audit_export_lines(from_sequence=from_sequence):
                handle.write(line + "\n")
                count += 1
        self.stdout.write(f"wrote {count} lines to {output}")

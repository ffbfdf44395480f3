"""Run the reserve engine for one day: release matured tranches, post the day's holds (idempotent)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from audit.context import Actor
from reserves.services import reserve_engine_run


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Run the reserve engine for --date (default: yesterday, UTC). Running a day twice changes nothing."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--date", help="The day to run, YYYY-MM-DD (default: yesterday, UTC).")
        parser.add_argument("--merchant", type=int, action="append", help="Only this merchant id (repeatable).")
        parser.add_argument("--actor", default="manage.py run_reserve_engine", help="Label for the audit trail.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would happen, then roll back.")

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else now.date() - timedelta(days=1)
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, not {options['date']!r}") from None
        if day >= now.date():  # today's volume is still coming in; its run row would skip the rest
            raise CommandError("The engine runs only days that have ended (UTC); today and later are refused.")
        kwargs = {"run_date": day, "actor": Actor.system(options["actor"]), "now": now,
                  "merchant_ids": options["merchant"]}  # fmt: skip
        if not options["dry_run"]:
            result = reserve_engine_run(**kwargs)
        else:
            try:
                with transaction.atomic():
                    result = reserve_engine_run(**kwargs)
                    raise _DryRun
            except _DryRun:
                pass
        prefix = "[dry run] " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{day}: {len(result.runs)} merchant(s) run, {result.skipped} already done; "
            f"held {result.held}, released {result.released} (minor units)"
        )
        for merchant_id, code in result.failed:
            self.stderr.write(f"merchant {merchant_id} refused: {code} (nothing posted; a rerun retries it)")
        if result.failed:
            raise CommandError(f"{len(result.failed)} merchant(s) could not be run")

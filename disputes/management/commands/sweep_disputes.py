"""Run the deadline sweep once: expire unanswered disputes past due_by, send due alerts."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from audit.context import Actor
from disputes.services import disputes_sweep


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Expire disputes past their internal deadline and send deadline alerts (what beat runs every 15 min)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--actor", default="manage.py sweep_disputes", help="Label for the audit trail.")
        parser.add_argument("--limit", type=int, default=None, help="Disputes per step (default: setting).")
        parser.add_argument("--dry-run", action="store_true", help="Report what would happen, then roll back.")

    def handle(self, *args, **options) -> None:
        actor = Actor.system(options["actor"])
        if not options["dry_run"]:
            result = disputes_sweep(now=timezone.now(), actor=actor, limit=options["limit"])
        else:
            try:
                with transaction.atomic():
                    result = disputes_sweep(now=timezone.now(), actor=actor, limit=options["limit"])
                    raise _DryRun
            except _DryRun:
                pass
        prefix = "[dry run] " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}expired {result.expired}, alerts recorded {result.alerts_recorded}, "
            f"notifications {result.notifications}"
        )

"""Release reservations past their TTL and expire lots past `expires_at` now (what the beat does)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from audit.context import Actor
from credits import services


class Command(BaseCommand):
    help = "Release timed-out credit reservations, then expire due credit lots (breakage)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--actor", default="credits_expire", help="Label of the acting system in the audit trail.")

    def handle(self, *args, **options) -> None:
        actor, now = Actor.system(options["actor"]), timezone.now()
        released = services.reservations_expire(now=now, actor=actor)
        expired = services.lots_expire(now=now, actor=actor)
        self.stdout.write(f"released {released} reservation(s), expired {expired} lot(s)")

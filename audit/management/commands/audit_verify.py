import base64
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audit.models import AuditEvent
from audit.services import audit_chain_pending, audit_verify


class Command(BaseCommand):
    help = "Recompute every hash of the audit chain; report the first break. Exit status 1 when broken."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--checkpoint", help="an exported checkpoint (JSON) the log must still extend")
        parser.add_argument("--public-key", help="file with the trusted Ed25519 public key (base64, raw 32 bytes)")
        parser.add_argument("--no-chain", action="store_true", help="do not chain pending events first")
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self, *args, checkpoint: str | None, public_key: str | None, no_chain: bool, no_progress: bool, **options
    ) -> None:
        external = json.loads(open(checkpoint).read()) if checkpoint else None  # noqa: SIM115, PTH123
        trusted = base64.b64decode(open(public_key).read().strip()) if public_key else None  # noqa: SIM115, PTH123
        if not no_chain:
            audit_chain_pending()
        total = AuditEvent.objects.filter(sequence__isnull=False).count()
        bar = tqdm(total=total, unit="ev", file=sys.stderr, disable=no_progress, mininterval=0.5)
        result = audit_verify(external_checkpoint=external, trusted_public_key=trusted, progress=bar.update)
        bar.close()
        report = result.report
        if report.broken is not None:
            raise CommandError(
                f"BROKEN at sequence {report.broken.sequence}: {report.broken.reason} ({report.broken.detail}); "
                f"{report.checked} events verified before it.",
                returncode=1,
            )
        for problem in result.checkpoint_problems:
            self.stderr.write(f"FAILED {problem}")
        if result.checkpoint_problems:
            raise CommandError("checkpoint verification failed", returncode=1)
        self.stdout.write(
            f"OK: {report.checked} events verified (sequences 1..{report.last_sequence or 0}); "
            f"{result.unchained} waiting to be chained."
        )

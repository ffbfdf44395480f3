"""Re-encrypt every card (and sub-key, and encrypted field) under the newest KEK and fingerprint key."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from vault import services
from vault.management.commands._actor import resolve_actor


class Command(BaseCommand):
    help = "Rewrap all data to the active key versions, in short resumable batches, while the vault stays online."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--max-batches", type=int, default=None, help="Stop after this many card batches.")
        parser.add_argument("--actor", help="User name recorded in the audit trail (default: system).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (e.g. in logs).")

    def handle(self, *args, **options) -> None:
        actor = resolve_actor(options["actor"], "vault_rewrap")
        total = services.cards_needing_rewrap().count()
        with tqdm(total=total, unit="card", disable=options["no_progress"], file=self.stderr) as bar:
            report = services.vault_rewrap(
                actor=actor, batch_size=options["batch_size"], progress=bar.update, max_batches=options["max_batches"]
            )
        self.stdout.write(
            f"Rewrapped {report.cards} card(s) in {report.batches} batch(es), {report.subkeys} sub-key(s), "
            f"{report.fields} encrypted value(s) to KEK v{report.kek_version} / "
            f"fingerprint v{report.fingerprint_version}."
        )
        if report.remaining:
            self.stdout.write(
                self.style.WARNING(f"{report.remaining} card(s) still need a rewrap; run the command again.")
            )
        else:
            self.stdout.write(self.style.SUCCESS("Every live card uses the active keys."))

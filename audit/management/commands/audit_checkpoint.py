import json

from django.core.management.base import BaseCommand, CommandError

from audit.services import UnableToCheckpoint, audit_checkpoint_create, public_key_base64


class Command(BaseCommand):
    help = "Sign the current head of the audit chain (Ed25519) and store the checkpoint; optionally export it."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--output", help="also write the checkpoint as JSON to this file (keep it elsewhere)")
        parser.add_argument("--print-public-key", action="store_true", help="print the verifying public key and exit")

    def handle(self, *args, output: str | None, print_public_key: bool, **options) -> None:
        try:
            if print_public_key:
                self.stdout.write(public_key_base64())
                return
            checkpoint = audit_checkpoint_create()
        except UnableToCheckpoint as error:
            raise CommandError(error.message) from error
        body = json.dumps(checkpoint.as_export(), indent=2)
        if output:
            with open(output, "w", encoding="ascii") as handle:  # noqa: PTH123
                handle.write(body + "\n")
        self.stdout.write(body)

"""Raise the minimum decryption version of a key: older versions are retired and never used again."""

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from vault.choices import KeyPurpose
from vault.management.commands._actor import resolve_actor
from vault.services import key_versions_retire


class Command(BaseCommand):
    help = "Retire every version below --min-version (refused while anything still needs one)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--purpose", choices=KeyPurpose.values, default=KeyPurpose.KEK)
        parser.add_argument("--min-version", type=int, required=True)
        parser.add_argument("--actor", help="User name recorded in the audit trail (default: system).")

    def handle(self, *args, **options) -> None:
        actor = resolve_actor(options["actor"], "vault_retire_keys")
        try:
            rows = key_versions_retire(purpose=options["purpose"], min_version=options["min_version"], actor=actor)
        except DomainError as error:
            raise CommandError(error.message) from error
        retired = ", ".join(f"v{row.version}" for row in rows) or "nothing (already retired)"
        self.stdout.write(self.style.SUCCESS(f"{options['purpose']}: retired {retired}."))

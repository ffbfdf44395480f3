"""Create the next KEK version (or fingerprint/CVV key version) and make it active for new data."""

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from vault.choices import KeyPurpose
from vault.management.commands._actor import resolve_actor
from vault.services import key_rotate


class Command(BaseCommand):
    help = "Rotate a vault key: a new version encrypts new data; old versions stay decrypt-only until retired."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--purpose", choices=KeyPurpose.values, default=KeyPurpose.KEK)
        parser.add_argument("--actor", help="User name recorded in the audit trail (default: system).")

    def handle(self, *args, **options) -> None:
        actor = resolve_actor(options["actor"], "vault_rotate_kek")
        try:
            row = key_rotate(purpose=options["purpose"], actor=actor)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{row.purpose} v{row.version} is now active ({row.provider}: {row.provider_ref or 'stored wrapped'})."
            )
        )
        self.stdout.write("Next: `manage.py vault_rewrap`, then `manage.py vault_retire_keys` to retire old versions.")

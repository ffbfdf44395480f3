import json

from django.core.management.base import BaseCommand, CommandError

from audit.context import Actor
from common.api_clients import api_client_create
from common.errors import DomainError
from tenants.models import Merchant, Partner


class Command(BaseCommand):
    help = "Create an API client; prints one JSON object {client_id, client_secret, tenant}. The secret is shown once."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", required=True, help="comma-separated, e.g. ledger:read,ledger:write")
        tenant = parser.add_mutually_exclusive_group(required=True)
        tenant.add_argument("--merchant", help="merchant reference (created when missing)")
        tenant.add_argument("--partner", help="partner reference (created when missing)")
        tenant.add_argument("--platform", action="store_true")
        parser.add_argument("--actor", default="operator", help="who runs this, for the audit trail")

    def handle(self, *args, name: str, scopes: str, merchant: str | None, partner: str | None, platform: bool,
               actor: str, **options) -> None:  # fmt: skip
        merchant_obj = (
            Merchant.objects.get_or_create(reference=merchant, defaults={"name": merchant})[0] if merchant else None
        )
        partner_obj = (
            Partner.objects.get_or_create(reference=partner, defaults={"name": partner})[0] if partner else None
        )
        try:
            issued = api_client_create(
                name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()], actor=Actor.system(actor),
                merchant=merchant_obj, partner=partner_obj, platform=platform,
            )  # fmt: skip
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(json.dumps(issued.as_dict()))

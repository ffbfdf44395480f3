from rest_framework.test import APIClient

from audit.context import Actor
from common.api_auth import token_issue
from common.api_clients import api_client_create
from tenants.models import Merchant, Partner


def make_client(*, scopes: list[str], merchant: Merchant | None = None, partner: Partner | None = None,
                platform: bool = False, **options):  # noqa: ANN201  # fmt: skip
    if not (merchant or partner or platform):
        merchant = Merchant.objects.create(reference=f"m{Merchant.objects.count() + 1}", name="Merchant")
    return api_client_create(
        name="test client", scopes=scopes, actor=Actor.system("test"), merchant=merchant, partner=partner,
        platform=platform, **options,
    )  # fmt: skip


def bearer(api_client: APIClient, issued) -> APIClient:  # noqa: ANN001
    token = token_issue(client=issued.client)["access_token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client

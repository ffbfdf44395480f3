import json

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from common.models import ApiClient
from tenants.models import Merchant, Partner

pytestmark = pytest.mark.django_db


class TestCreateCommand:
    def test_creates_the_merchant_and_prints_credentials_once_as_json(self, capsys) -> None:
        call_command("create_api_client", "--name", "acme checkout", "--scopes", "ledger:read,ledger:write",
                     "--merchant", "acme")  # fmt: skip

        printed = json.loads(capsys.readouterr().out)
        client = ApiClient.objects.get(client_id=printed["client_id"])
        merchant = Merchant.objects.get(reference="acme")
        assert printed["tenant"] == f"merchant:{merchant.pk}"
        assert client.scopes == ["ledger:read", "ledger:write"]
        assert printed["client_secret"] not in client.secret_hash
        assert check_password(printed["client_secret"], client.secret_hash)

    def test_partner_and_platform_tenants(self, capsys) -> None:
        call_command("create_api_client", "--name", "bank", "--scopes", "reserves:approve", "--partner", "first-bank")
        partner_out = json.loads(capsys.readouterr().out)
        call_command("create_api_client", "--name", "core", "--scopes", "ledger:write", "--platform")
        platform_out = json.loads(capsys.readouterr().out)

        assert partner_out["tenant"] == f"partner:{Partner.objects.get(reference='first-bank').pk}"
        assert platform_out["tenant"] == "platform"

    def test_unknown_scopes_are_refused(self) -> None:
        with pytest.raises(CommandError, match="Unknown scopes: ledger:destroy"):
            call_command("create_api_client", "--name", "x", "--scopes", "ledger:destroy", "--platform")


class TestAdmin:
    def test_creating_a_client_shows_the_secret_once_and_stores_only_its_hash(self, admin_client) -> None:
        response = admin_client.post("/admin/common/apiclient/add/", {"name": "ops", "scopes": ["audit:read"],
                                     "is_platform": "on"})  # fmt: skip

        secret = response.content.decode().split('id="client-secret">', 1)[1].split("<", 1)[0]
        client = ApiClient.objects.get(name="ops")
        assert "no-store" in response["Cache-Control"]
        assert check_password(secret, client.secret_hash)
        assert secret not in admin_client.get(f"/admin/common/apiclient/{client.pk}/change/").content.decode()

    def test_rotating_replaces_the_secret_and_disabling_deactivates(self, admin_client) -> None:
        admin_client.post(
            "/admin/common/apiclient/add/", {"name": "ops", "scopes": ["audit:read"], "is_platform": "on"}
        )
        client = ApiClient.objects.get(name="ops")
        old_hash = client.secret_hash

        rotated = admin_client.post(
            "/admin/common/apiclient/", {"action": "rotate_secret", "_selected_action": [client.pk]}
        )
        admin_client.post("/admin/common/apiclient/", {"action": "disable", "_selected_action": [client.pk]})

        client.refresh_from_db()
        assert 'id="client-secret"' in rotated.content.decode()
        assert client.secret_hash != old_hash
        assert not client.is_active


class TestDemoLogin:
    def test_the_demo_user_gets_a_printed_totp_secret_and_qr(self, settings, tmp_path, capsys) -> None:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        settings.DEV_MODE = True
        settings.VAR_DIR = tmp_path

        call_command("seed_demo")
        first = capsys.readouterr().out
        call_command("seed_demo")
        second = capsys.readouterr().out

        device = TOTPDevice.objects.get(user__username="demo", confirmed=True)
        from common.staff_auth import totp_secret_base32

        assert f"TOTP secret to any authenticator app: {totp_secret_base32(device)}" in first
        assert "█" in first or "▀" in first  # the QR code, drawn in the terminal
        assert first == second

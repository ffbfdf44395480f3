"""System check, readiness, dashboard tile, beat task and management commands."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone

from audit.models import AuditEvent
from config.settings import base
from tests.vault.factories import AMEX, tokenize
from vault.checks import check_vault_key_material
from vault.dashboard import vault_keys_tile
from vault.health import check_vault_keys
from vault.models import Card, KeyVersion
from vault.tasks import key_cryptoperiod_remind

pytestmark = pytest.mark.django_db


class TestDeploymentCheck:
    def test_missing_key_material_in_production_is_an_error_with_a_hint(self, settings) -> None:
        settings.DEV_MODE = False
        settings.VAULT_LOCAL_KEYRING_PATH = ""

        [error, warning] = check_vault_key_material()

        assert (error.id, warning.id) == ("strongroom.E010", "strongroom.W010")
        assert "STRONGROOM_VAULT_LOCAL_KEYRING_FILE" in error.hint

    @pytest.mark.parametrize(
        ("provider", "hint"), [("pkcs11", "STRONGROOM_VAULT_PKCS11_MODULE"), ("aws-kms", "REGION")]
    )
    def test_each_provider_names_what_is_missing(self, settings, provider: str, hint: str) -> None:
        settings.DEV_MODE = False
        settings.VAULT_KEY_PROVIDER = provider

        [error] = check_vault_key_material()

        assert error.id == "strongroom.E010" and hint in error.hint

    def test_dev_mode_is_exempt(self, settings) -> None:
        settings.DEV_MODE = True
        settings.VAULT_LOCAL_KEYRING_PATH = ""

        assert check_vault_key_material() == []

    def test_the_beat_schedule_carries_the_reminder(self) -> None:
        assert base.CELERY_BEAT_SCHEDULE["vault-key-cryptoperiod-reminder"]["task"] == "vault.key_cryptoperiod_remind"


class TestReadiness:
    def test_the_check_is_registered_and_reports_the_active_kek(self, tenant, actor) -> None:
        from common.health import READINESS_CHECKS

        tokenize(tenant=tenant, actor=actor)

        assert READINESS_CHECKS["vault_keys"] is check_vault_keys
        assert check_vault_keys() == "local keyring, versions 1; active KEK v1"

    def test_an_empty_keyring_fails_the_check(self, settings) -> None:
        settings.VAULT_LOCAL_KEYRING_PATH = ""

        with pytest.raises(Exception, match="empty"):
            check_vault_keys()


def _custodian(email: str = "keys@example.com") -> User:
    user = User.objects.create_user("custodian", email, "x-very-long-password", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="manage_keys"))
    return user


class TestCryptoperiod:
    def test_custodians_are_emailed_when_a_key_is_past_its_cryptoperiod(self, tenant, actor) -> None:
        custodian = _custodian()
        User.objects.create_user("bystander", "nobody@example.com", "x-very-long-password")
        tokenize(tenant=tenant, actor=actor)
        KeyVersion.objects.filter(purpose="kek").update(created_at=timezone.now() - timedelta(days=400))

        sent = key_cryptoperiod_remind.apply_async().get()

        assert sent == 1
        [message] = mail.outbox
        assert message.to == [custodian.email]
        assert "Key-encryption key (wraps data keys) v1: cryptoperiod ended" in message.body
        assert AuditEvent.objects.filter(action="vault.key.cryptoperiod_reminded").count() == 1

    def test_no_mail_while_every_key_is_within_its_cryptoperiod(self, tenant, actor) -> None:
        _custodian()
        tokenize(tenant=tenant, actor=actor)

        assert key_cryptoperiod_remind.apply_async().get() == 0
        assert mail.outbox == []

    def test_the_dashboard_tile_warns_about_an_expired_key(self, tenant, actor, admin_user) -> None:
        tokenize(tenant=tenant, actor=actor)
        request = RequestFactory().get("/admin/")
        request.user = admin_user

        fresh = vault_keys_tile(request)
        KeyVersion.objects.filter(purpose="kek").update(created_at=timezone.now() - timedelta(days=400))
        stale = vault_keys_tile(request)

        assert fresh.status == "ok" and stale.status == "warning"
        assert any("PAST CRYPTOPERIOD" in value for _, value in stale.rows)
        assert ("Live cards per KEK version", "v1: 1") in stale.rows


class TestCommands:
    def test_rotate_rewrap_retire_from_the_command_line(self, tenant, actor) -> None:
        for number in ("4242424242424242", AMEX):
            tokenize(tenant=tenant, actor=actor, number=number)
        _custodian()
        out = StringIO()

        call_command("vault_rotate_kek", "--actor", "custodian", stdout=out)
        call_command("vault_rewrap", "--batch-size", "1", "--no-progress", stdout=out)
        call_command("vault_retire_keys", "--min-version", "2", stdout=out)
        call_command("vault_keys", stdout=out)

        text = out.getvalue()
        assert "kek v2 is now active" in text
        assert "Rewrapped 2 card(s) in 2 batch(es)" in text
        assert "kek: retired v1." in text
        assert "kek          v1   retired" in text
        assert set(Card.objects.values_list("kek_version", flat=True)) == {2}
        assert AuditEvent.objects.get(action="vault.key.rotated").actor_label == "custodian"

    def test_rewrap_draws_a_progress_bar(self, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)
        call_command("vault_rotate_kek", stdout=StringIO())
        err = StringIO()

        call_command("vault_rewrap", stdout=StringIO(), stderr=err)

        assert "1/1" in err.getvalue() and "card" in err.getvalue()

    def test_retiring_too_early_fails_the_command(self, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)
        call_command("vault_rotate_kek", stdout=StringIO())

        with pytest.raises(CommandError, match="vault_rewrap"):
            call_command("vault_retire_keys", "--min-version", "2")

    def test_an_unknown_actor_is_refused(self) -> None:
        with pytest.raises(CommandError, match="No user"):
            call_command("vault_rotate_kek", "--actor", "ghost")

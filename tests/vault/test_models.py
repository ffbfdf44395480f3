"""Database constraints hold even when Python is bypassed (update/bulk)."""

import pytest
from django.db import IntegrityError, transaction

from tests.vault.factories import tokenize
from vault.models import Card, KeyVersion

pytestmark = pytest.mark.django_db


def _refused(**changes: object) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Card.objects.update(**changes)


class TestCardConstraints:
    def test_a_live_card_keeps_its_key_and_a_shredded_card_has_none(self, tenant, actor) -> None:
        from django.utils import timezone

        tokenize(tenant=tenant, actor=actor)

        _refused(wrapped_key=None)
        _refused(shredded_at=timezone.now())

    @pytest.mark.parametrize(
        "changes",
        [
            {"token": "4242424242424242"},
            {"brand": "maestro"},
            {"bin": "42"},
            {"last4": "42x2"},
            {"exp_month": 13},
            {"kek_version": 0},
            {"tenant_key": "platform"},  # a merchant's card
            {"merchant": None},
        ],
    )
    def test_malformed_rows_are_refused(self, tenant, actor, changes: dict) -> None:
        tokenize(tenant=tenant, actor=actor)

        _refused(**changes)

    def test_two_live_cards_with_one_fingerprint_are_refused(self, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor).card
        twin = Card.objects.get(pk=card.pk)
        twin.pk, twin.token = None, "tok_" + "A" * 24

        with pytest.raises(IntegrityError), transaction.atomic():
            Card.objects.bulk_create([twin])


class TestKeyVersionConstraints:
    def test_only_one_active_version_per_purpose(self, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)
        row = KeyVersion.objects.get(purpose="kek")
        row.pk, row.version = None, 9

        with pytest.raises(IntegrityError), transaction.atomic():
            KeyVersion.objects.bulk_create([row])

    def test_a_kek_is_never_stored_in_the_database(self, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)

        with pytest.raises(IntegrityError), transaction.atomic():
            KeyVersion.objects.filter(purpose="kek").update(wrapped_material=b"x" * 32, wrapped_under_version=1)

    def test_a_manage_keys_permission_exists(self) -> None:
        from django.contrib.auth.models import Permission

        assert Permission.objects.filter(content_type__app_label="vault", codename="manage_keys").exists()

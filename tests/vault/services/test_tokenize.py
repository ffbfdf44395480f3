import logging
import re

import pytest
from django.db import connection

from audit.models import AuditEvent
from tests.vault.conftest import NOW
from tests.vault.factories import AMEX, PAN, VALID_PANS, tokenize
from vault.errors import BatchTooLarge, CardExpired, InvalidCard
from vault.models import Card
from vault.services import CardInput, card_detokenize, card_tokenize_batch

pytestmark = pytest.mark.django_db


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


class TestCardTokenize:
    def test_a_new_card_gets_a_random_token_and_masked_metadata(self, tenant, actor) -> None:
        result = tokenize(tenant=tenant, actor=actor)

        card = Card.objects.get(pk=result.card.pk)
        assert result.created is True
        assert re.fullmatch(r"tok_[0-9A-Za-z]{24}", card.token)
        assert (card.brand, card.bin, card.last4, card.exp_month, card.exp_year) == (
            "visa",
            "42424242",
            "4242",
            12,
            2030,
        )
        assert (card.tenant_key, card.merchant_id, card.partner_id) == (tenant.key, tenant.merchant_id, None)
        assert (card.kek_version, card.fingerprint_version, card.shredded_at) == (1, 1, None)
        assert len(bytes(card.nonce)) == 12
        assert card.created_at == NOW

    def test_the_token_is_not_derived_from_the_pan(self, tenant, other_tenant, actor) -> None:
        first = tokenize(tenant=tenant, actor=actor).card.token
        second = tokenize(tenant=other_tenant, actor=actor).card.token

        assert first != second

    def test_the_audit_row_names_the_token_and_holds_no_card_data(self, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor, cvv="123").card

        [event] = _events("vault.card.tokenized")
        assert (event.object_type, event.object_id, event.tenant) == ("vault.card", str(card.pk), tenant.key)
        assert '"card_token":"' + card.token + '"' in event.data
        assert '"created":true' in event.data and '"cvv_held":true' in event.data
        assert (
            PAN not in event.data and "Lovelace" not in event.data and "123" not in event.data.replace(card.token, "")
        )

    def test_the_same_pan_in_the_same_tenant_returns_the_same_token(self, tenant, actor) -> None:
        first = tokenize(tenant=tenant, actor=actor)

        again = tokenize(tenant=tenant, actor=actor, number="4242 4242 4242 4242")

        assert (again.card.pk, again.created) == (first.card.pk, False)
        assert Card.objects.filter(tenant_key=tenant.key).count() == 1

    def test_a_match_with_a_new_expiry_and_name_updates_the_card(self, tenant, actor) -> None:
        first = tokenize(tenant=tenant, actor=actor)

        again = tokenize(tenant=tenant, actor=actor, expiry="01/31", cardholder="Ada King")

        card = Card.objects.get(pk=first.card.pk)
        assert (again.card.pk, card.exp_month, card.exp_year) == (first.card.pk, 1, 2031)
        revealed = card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="authorization")
        assert revealed.cardholder == "Ada King"

    def test_the_same_pan_in_another_tenant_gets_another_token(self, tenant, other_tenant, actor) -> None:
        mine = tokenize(tenant=tenant, actor=actor).card
        theirs = tokenize(tenant=other_tenant, actor=actor).card

        assert mine.token != theirs.token
        assert mine.fingerprint != theirs.fingerprint  # fingerprints are tenant-bound: no cross-tenant correlation

    def test_with_dedupe_off_every_call_creates_a_card(self, tenant, actor, settings) -> None:
        settings.VAULT_DEDUPE = False

        first = tokenize(tenant=tenant, actor=actor)
        second = tokenize(tenant=tenant, actor=actor)

        assert first.card.token != second.card.token
        assert second.created is True

    def test_an_invalid_card_writes_nothing(self, tenant, actor) -> None:
        with pytest.raises(InvalidCard) as caught:
            tokenize(tenant=tenant, actor=actor, number="4242424242424241")

        assert caught.value.fields == {"number": ["checksum"]}
        assert not Card.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="vault.").exists()

    def test_an_expired_card_is_refused(self, tenant, actor) -> None:
        with pytest.raises(CardExpired):
            tokenize(tenant=tenant, actor=actor, expiry="10/26")

    def test_platform_and_partner_tenants_are_supported(self, actor, db) -> None:
        from tenants.models import Partner
        from tenants.scoping import Tenant

        partner = Partner.objects.create(reference="bank", name="Bank")
        platform_card = tokenize(tenant=Tenant.platform(), actor=actor).card
        partner_card = tokenize(tenant=Tenant.for_partner(partner), actor=actor).card

        assert (platform_card.tenant_key, partner_card.tenant_key) == ("platform", f"partner:{partner.pk}")


class TestNothingLeaks:
    def _all_cells(self) -> list[tuple[str, object]]:
        cells = []
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names():
                cursor.execute(f'SELECT * FROM "{table}"')
                cells += [(table, value) for row in cursor.fetchall() for value in row]
        return cells

    @pytest.mark.parametrize(("number", "cvv"), [(PAN, "739"), (AMEX, "7391")])
    def test_no_column_of_any_table_holds_the_pan_cvv_or_name(self, tenant, actor, number: str, cvv: str) -> None:
        token = tokenize(tenant=tenant, actor=actor, number=number, cvv=cvv, cardholder="Grace Hopper").card.token
        card_detokenize(tenant=tenant, actor=actor, token=token, reason="authorization", include_cvv=True)

        for table, value in self._all_cells():
            raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
            assert number.encode() not in raw, table
            assert b"Grace" not in raw and b"Hopper" not in raw, table
            # Standalone digits only: hashes and encoded keys contain "739" between letters by chance.
            assert not re.search(rb"(?<![0-9A-Za-z])" + cvv.encode() + rb"(?![0-9A-Za-z])", raw), table

    def test_no_log_line_holds_the_pan_or_cvv(self, tenant, actor, caplog) -> None:
        caplog.set_level(logging.DEBUG)

        token = tokenize(tenant=tenant, actor=actor, cvv="739").card.token
        card_detokenize(tenant=tenant, actor=actor, token=token, reason="refund", include_cvv=True)
        with pytest.raises(InvalidCard):
            tokenize(tenant=tenant, actor=actor, number="4242424242424241")

        text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
        assert PAN not in text and "4242424242424241" not in text
        assert "739" not in text


class TestCardTokenizeBatch:
    def test_each_item_gets_its_own_result_and_one_bad_card_does_not_fail_the_others(self, tenant, actor) -> None:
        items = [
            CardInput(number=PAN, expiry="12/30"),
            CardInput(number="4242424242424241", expiry="12/30"),
            CardInput(number=AMEX, expiry="01/29", cvv="1234"),
            CardInput(number=PAN, expiry="12/30"),  # same PAN again in the batch
            CardInput(number=VALID_PANS["jcb"][0], expiry="10/26"),  # expired
        ]

        results = card_tokenize_batch(tenant=tenant, actor=actor, cards=items, now=NOW)

        assert [r.index for r in results] == [0, 1, 2, 3, 4]
        assert [r.is_ok for r in results] == [True, False, True, True, False]
        assert [r.created for r in results] == [True, False, True, False, False]
        assert results[3].card.token == results[0].card.token
        assert (results[1].error.code, results[1].error.fields) == ("invalid_card", {"number": ["checksum"]})
        assert results[4].error.code == "card_expired"
        assert Card.objects.filter(tenant_key=tenant.key).count() == 2

    def test_the_batch_is_audited_once_with_tokens_and_rejections(self, tenant, actor) -> None:
        results = card_tokenize_batch(
            tenant=tenant,
            actor=actor,
            cards=[CardInput(number=PAN, expiry="12/30"), CardInput(number="1", expiry="1")],
            now=NOW,
        )

        [event] = _events("vault.card.batch_tokenized")
        assert f'"created_tokens":["{results[0].card.token}"]' in event.data
        assert '"rejected":[{"code":"invalid_card","index":1}]' in event.data
        assert PAN not in event.data

    def test_known_cards_are_matched_across_calls(self, tenant, actor) -> None:
        existing = tokenize(tenant=tenant, actor=actor).card

        [result] = card_tokenize_batch(
            tenant=tenant, actor=actor, cards=[CardInput(number=PAN, expiry="12/30")], now=NOW
        )

        assert (result.card.pk, result.created) == (existing.pk, False)

    def test_a_batch_of_a_thousand_valid_cards_is_stored(self, tenant, actor) -> None:
        from common.logging import luhn_valid

        pans = []
        for body in range(400000000000000, 400000000010000):
            pan = next(str(body) + d for d in "0123456789" if luhn_valid(str(body) + d))
            pans.append(pan)
            if len(pans) == 1000:
                break

        results = card_tokenize_batch(
            tenant=tenant, actor=actor, cards=[CardInput(number=p, expiry="12/30") for p in pans], now=NOW
        )

        assert sum(r.created for r in results) == 1000
        assert Card.objects.filter(tenant_key=tenant.key).count() == 1000

    def test_more_than_the_limit_is_refused_whole(self, tenant, actor, settings) -> None:
        settings.VAULT_BATCH_MAX = 2

        with pytest.raises(BatchTooLarge) as caught:
            card_tokenize_batch(tenant=tenant, actor=actor, cards=[CardInput(number=PAN, expiry="12/30")] * 3, now=NOW)

        assert caught.value.code == "batch_too_large"
        assert not Card.objects.exists()

    def test_cvvs_given_in_a_batch_are_held_for_one_read(self, tenant, actor) -> None:
        [result] = card_tokenize_batch(
            tenant=tenant, actor=actor, cards=[CardInput(number=AMEX, expiry="12/30", cvv="1234")], now=NOW
        )

        first = card_detokenize(
            tenant=tenant, actor=actor, token=result.card.token, reason="authorization", include_cvv=True
        )
        second = card_detokenize(
            tenant=tenant, actor=actor, token=result.card.token, reason="authorization", include_cvv=True
        )

        assert (first.cvv, second.cvv) == ("1234", None)

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from common.logging import luhn_valid
from tests.vault.conftest import NOW
from tests.vault.factories import AMEX, PAN, VALID_PANS, tokenize
from vault.errors import CardNotFound, CardShredded, CardUndecryptable, InvalidDetokenizeReason
from vault.models import Card
from vault.services import card_detokenize, card_shred

pytestmark = pytest.mark.django_db


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-pk").first()


class TestCardDetokenize:
    def test_the_pan_expiry_and_name_come_back(self, tenant, actor) -> None:
        token = tokenize(tenant=tenant, actor=actor).card.token

        revealed = card_detokenize(tenant=tenant, actor=actor, token=token, reason="authorization")

        assert (revealed.token, revealed.pan, revealed.exp_month, revealed.exp_year) == (token, PAN, 12, 2030)
        assert (revealed.cardholder, revealed.brand, revealed.cvv) == ("Ada Lovelace", "visa", None)
        assert PAN not in repr(revealed) and "Lovelace" not in repr(revealed)

    def test_every_reveal_is_audited_with_its_reason(self, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor).card

        card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="other", reason_text="dispute 42 evidence")

        event = _last("vault.card.detokenized")
        assert (event.object_id, event.tenant, event.actor_label) == (str(card.pk), tenant.key, "tests")
        assert '"reason":"other"' in event.data and '"reason_text":"dispute 42 evidence"' in event.data
        assert '"outcome":"ok"' in event.data and PAN not in event.data

    @pytest.mark.parametrize(
        ("reason", "text", "fields"),
        [("curiosity", "", {"reason": ["invalid"]}), ("other", "  ", {"reason_text": ["required"]})],
    )
    def test_a_reason_outside_the_list_is_refused_and_audited(self, tenant, actor, reason, text, fields) -> None:
        token = tokenize(tenant=tenant, actor=actor).card.token

        with pytest.raises(InvalidDetokenizeReason) as caught:
            card_detokenize(tenant=tenant, actor=actor, token=token, reason=reason, reason_text=text)

        assert (caught.value.code, caught.value.fields) == ("invalid_reason", fields)
        assert '"outcome":"invalid_reason"' in _last("vault.card.detokenize_refused").data

    def test_another_tenants_token_behaves_exactly_like_an_unknown_one(self, tenant, other_tenant, actor) -> None:
        theirs = tokenize(tenant=other_tenant, actor=actor).card.token

        with pytest.raises(CardNotFound) as foreign:
            card_detokenize(tenant=tenant, actor=actor, token=theirs, reason="refund")
        with pytest.raises(CardNotFound) as unknown:
            card_detokenize(tenant=tenant, actor=actor, token="tok_" + "x" * 24, reason="refund")

        assert (foreign.value.code, foreign.value.status_code, foreign.value.message) == (
            unknown.value.code,
            404,
            unknown.value.message,
        )
        assert foreign.value.code == "not_found" and foreign.value.fields == unknown.value.fields == {}
        refusals = AuditEvent.objects.filter(action="vault.card.detokenize_refused").order_by("pk")
        assert [e.tenant for e in refusals] == [tenant.key, tenant.key]
        assert all('"outcome":"not_found"' in e.data and e.object_id == "" for e in refusals)

    def test_the_platform_sees_every_tenants_cards(self, tenant, actor) -> None:
        from tenants.scoping import Tenant

        token = tokenize(tenant=tenant, actor=actor).card.token

        assert (
            card_detokenize(tenant=Tenant.platform(), actor=actor, token=token, reason="chargeback_evidence").pan == PAN
        )

    def test_a_ciphertext_moved_to_another_row_fails_to_decrypt(self, tenant, actor) -> None:
        victim = tokenize(tenant=tenant, actor=actor).card
        donor = tokenize(tenant=tenant, actor=actor, number=AMEX).card
        Card.objects.filter(pk=victim.pk).update(
            ciphertext=donor.ciphertext, nonce=donor.nonce, wrapped_key=donor.wrapped_key
        )

        with pytest.raises(CardUndecryptable) as caught:
            card_detokenize(tenant=tenant, actor=actor, token=victim.token, reason="authorization")

        assert (caught.value.code, caught.value.status_code) == ("card_undecryptable", 500)
        assert '"outcome":"card_undecryptable"' in _last("vault.card.detokenize_refused").data

    def test_a_tampered_ciphertext_fails_to_decrypt(self, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor).card
        tampered = bytearray(card.ciphertext)
        tampered[0] ^= 1
        Card.objects.filter(pk=card.pk).update(ciphertext=bytes(tampered))

        with pytest.raises(CardUndecryptable):
            card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="authorization")

    def test_a_changed_key_version_column_fails_to_decrypt(self, tenant, actor) -> None:
        from vault.services import key_rotate

        card = tokenize(tenant=tenant, actor=actor).card
        key_rotate(purpose="kek", actor=actor)
        Card.objects.filter(pk=card.pk).update(kek_version=2)

        with pytest.raises(CardUndecryptable):
            card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="authorization")

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        body=st.text(alphabet="0123456789", min_size=13, max_size=13),
        name=st.sampled_from(["Ada Lovelace", "", "Zoë Ünal"]),
    )
    def test_any_valid_pan_round_trips(self, vault_settings, tenant, actor, body: str, name: str) -> None:
        vault_settings.VAULT_DEDUPE = False  # examples share one database; each must create its own card
        pan = next("51" + body + d for d in "0123456789" if luhn_valid("51" + body + d))

        token = tokenize(tenant=tenant, actor=actor, number=pan, cardholder=name).card.token
        revealed = card_detokenize(tenant=tenant, actor=actor, token=token, reason="authorization")

        assert (revealed.pan, revealed.cardholder) == (pan, name)


class TestCvv:
    def test_the_first_detokenize_with_cvv_gets_it_and_deletes_it(self, tenant, actor) -> None:
        token = tokenize(tenant=tenant, actor=actor, number=AMEX, cvv="1234").card.token

        first = card_detokenize(tenant=tenant, actor=actor, token=token, reason="authorization", include_cvv=True)
        second = card_detokenize(tenant=tenant, actor=actor, token=token, reason="authorization", include_cvv=True)

        assert (first.cvv, second.cvv) == ("1234", None)
        assert '"cvv_returned":false' in _last("vault.card.detokenized").data

    def test_a_detokenize_without_cvv_leaves_it_for_the_authorization(self, tenant, actor) -> None:
        token = tokenize(tenant=tenant, actor=actor, cvv="739").card.token

        card_detokenize(tenant=tenant, actor=actor, token=token, reason="customer_request")

        assert (
            card_detokenize(tenant=tenant, actor=actor, token=token, reason="authorization", include_cvv=True).cvv
            == "739"
        )

    def test_the_cvv_is_held_encrypted_in_the_cache_with_the_configured_ttl(self, tenant, actor, settings) -> None:
        from unittest import mock

        from django.core.cache import caches

        settings.VAULT_CVV_TTL_SECONDS = 60
        with mock.patch.object(caches["default"], "set", wraps=caches["default"].set) as spy:
            token = tokenize(tenant=tenant, actor=actor, cvv="739").card.token

        [call] = spy.call_args_list
        key, (version, blob) = call.args
        assert (key, version, call.kwargs["timeout"]) == (f"vault:cvv:{token}", 1, 60)
        assert b"739" not in blob and len(blob) == 12 + 3 + 16

    def test_the_cvv_expires_with_its_ttl(self, tenant, actor) -> None:
        from django.core.cache import caches

        token = tokenize(tenant=tenant, actor=actor, cvv="739").card.token
        caches["default"].delete(f"vault:cvv:{token}")  # what the TTL does

        assert (
            card_detokenize(tenant=tenant, actor=actor, token=token, reason="authorization", include_cvv=True).cvv
            is None
        )

    def test_the_ttl_setting_is_capped_at_one_hour(self) -> None:
        from config.settings import vault as vault_settings

        assert vault_settings.VAULT_CVV_TTL_SECONDS <= 3600


class TestCardShred:
    def test_shredding_destroys_the_key_and_detokenize_answers_410(self, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor, cvv="739").card

        shredded = card_shred(tenant=tenant, actor=actor, token=card.token, reason_text="GDPR erasure", now=NOW)

        stored = Card.objects.get(pk=card.pk)
        assert (stored.wrapped_key, bytes(stored.ciphertext), stored.shredded_at) == (None, b"", NOW)
        assert (shredded.last4, shredded.brand) == ("4242", "visa")  # metadata remains
        with pytest.raises(CardShredded) as caught:
            card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="refund", include_cvv=True)
        assert (caught.value.code, caught.value.status_code) == ("card_shredded", 410)
        event = _last("vault.card.shredded")
        assert event.object_id == str(card.pk) and '"reason_text":"GDPR erasure"' in event.data

    def test_shredding_twice_changes_nothing(self, tenant, actor) -> None:
        token = tokenize(tenant=tenant, actor=actor).card.token
        card_shred(tenant=tenant, actor=actor, token=token, now=NOW)

        card_shred(tenant=tenant, actor=actor, token=token)

        assert AuditEvent.objects.filter(action="vault.card.shredded").count() == 1

    def test_after_shredding_the_same_pan_gets_a_new_token(self, tenant, actor) -> None:
        old = tokenize(tenant=tenant, actor=actor).card
        card_shred(tenant=tenant, actor=actor, token=old.token)

        new = tokenize(tenant=tenant, actor=actor)

        assert new.created is True and new.card.token != old.token

    def test_another_tenant_cannot_shred(self, tenant, other_tenant, actor) -> None:
        token = tokenize(tenant=tenant, actor=actor).card.token

        with pytest.raises(CardNotFound):
            card_shred(tenant=other_tenant, actor=actor, token=token)

        assert Card.objects.get(token=token).shredded_at is None


class TestMetadata:
    def test_masked_metadata_shows_bin_and_last4_only(self, tenant, other_tenant, actor) -> None:
        from vault.selectors import card_metadata_get

        token = tokenize(tenant=tenant, actor=actor, number=VALID_PANS["unionpay"][1]).card.token

        meta = card_metadata_get(tenant=tenant, token=token)

        assert (meta.bin, meta.last4, meta.masked_number, meta.brand) == (
            "62055000",
            "0004",
            "62055000••••0004",
            "unionpay",
        )
        with pytest.raises(CardNotFound):
            card_metadata_get(tenant=other_tenant, token=token)


class TestCardDetokenizeBatch:
    def test_each_token_gets_its_own_result_and_one_audit_event_lists_them(self, tenant, other_tenant, actor) -> None:
        from vault.services import card_detokenize_batch

        visa = tokenize(tenant=tenant, actor=actor).card.token
        amex = tokenize(tenant=tenant, actor=actor, number=AMEX).card.token
        foreign = tokenize(tenant=other_tenant, actor=actor).card.token
        shredded = tokenize(tenant=tenant, actor=actor, number=VALID_PANS["jcb"][0]).card.token
        card_shred(tenant=tenant, actor=actor, token=shredded)

        results = card_detokenize_batch(
            tenant=tenant, actor=actor, tokens=[visa, foreign, amex, shredded], reason="chargeback_evidence"
        )

        assert [r.card.pan if r.card else r.error.code for r in results] == [PAN, "not_found", AMEX, "card_shredded"]
        event = _last("vault.card.batch_detokenized")
        assert f'"revealed_tokens":["{visa}","{amex}"]' in event.data
        assert f'{{"card_token":"{foreign}","code":"not_found"}}' in event.data
        assert PAN not in event.data and AMEX not in event.data

    def test_an_invalid_reason_refuses_the_whole_batch(self, tenant, actor) -> None:
        from vault.services import card_detokenize_batch

        token = tokenize(tenant=tenant, actor=actor).card.token

        with pytest.raises(InvalidDetokenizeReason):
            card_detokenize_batch(tenant=tenant, actor=actor, tokens=[token], reason="because")

        assert '"outcome":"invalid_reason"' in _last("vault.card.detokenize_refused").data

import pytest

from audit.models import AuditEvent
from tests.vault.factories import AMEX, PAN, VALID_PANS, tokenize
from vault import keys
from vault.choices import KeyPurpose, KeyState
from vault.errors import CardUndecryptable, UnableToRetireKey
from vault.models import Card, KeyVersion
from vault.selectors import min_decryption_version
from vault.services import card_detokenize, key_rotate, key_versions_retire, vault_rewrap

pytestmark = pytest.mark.django_db

ALL_PANS = [pan for pans in VALID_PANS.values() for pan in pans]


def _reveal_all(tenant, actor) -> dict[str, str]:  # noqa: ANN001
    return {
        card.token: card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="authorization").pan
        for card in Card.objects.filter(shredded_at__isnull=True, tenant_key=tenant.key).order_by("pk")
    }


class TestKeyRotate:
    def test_a_new_kek_version_is_used_for_new_cards_and_the_old_one_still_decrypts(self, tenant, actor) -> None:
        old = tokenize(tenant=tenant, actor=actor).card

        row = key_rotate(purpose="kek", actor=actor)
        new = tokenize(tenant=tenant, actor=actor, number=AMEX).card

        assert (row.version, row.state, row.provider) == (2, KeyState.ACTIVE, "local")
        assert KeyVersion.objects.get(purpose="kek", version=1).state == KeyState.DECRYPT_ONLY
        assert (old.kek_version, new.kek_version) == (1, 2)
        assert card_detokenize(tenant=tenant, actor=actor, token=old.token, reason="refund").pan == PAN
        event = AuditEvent.objects.get(action="vault.key.rotated")
        assert '"previous_version":1' in event.data and '"version":2' in event.data

    def test_the_local_provider_appends_the_new_version_to_the_keyring_file(self, tenant, actor, settings) -> None:
        from pathlib import Path

        tokenize(tenant=tenant, actor=actor)

        key_rotate(purpose="kek", actor=actor)

        lines = Path(settings.VAULT_LOCAL_KEYRING_PATH).read_text().split()
        assert [line.split(":")[0] for line in lines] == ["1", "2"]

    def test_a_keyring_from_an_env_var_cannot_grow_so_rotation_is_refused_with_a_hint(
        self, actor, settings, db
    ) -> None:
        import base64
        import secrets

        from vault.errors import UnableToRotateKey

        settings.VAULT_LOCAL_KEYRING = f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
        settings.VAULT_LOCAL_KEYRING_PATH = ""
        keys.active_version("kek")

        with pytest.raises(UnableToRotateKey) as caught:
            key_rotate(purpose="kek", actor=actor)

        assert "add '2:<base64" in caught.value.message
        assert KeyVersion.objects.get(purpose="kek", version=1).state == KeyState.ACTIVE


class TestRewrap:
    def test_rotation_and_rewrap_keep_every_card_decryptable(self, tenant, other_tenant, actor) -> None:
        for pan in ALL_PANS:
            tokenize(tenant=tenant, actor=actor, number=pan)
        tokenize(tenant=other_tenant, actor=actor)
        before = _reveal_all(tenant=tenant, actor=actor) | _reveal_all(tenant=other_tenant, actor=actor)
        key_rotate(purpose="kek", actor=actor)
        key_rotate(purpose="fingerprint", actor=actor)

        report = vault_rewrap(actor=actor, batch_size=4)

        assert (report.cards, report.batches, report.remaining) == (len(ALL_PANS) + 1, 5, 0)
        assert report.subkeys == 1  # fingerprint v1 was wrapped under KEK v1 (v2 was made under KEK v2)
        assert set(Card.objects.values_list("kek_version", "fingerprint_version")) == {(2, 2)}
        assert _reveal_all(tenant=tenant, actor=actor) | _reveal_all(tenant=other_tenant, actor=actor) == before
        assert AuditEvent.objects.filter(action="vault.card.rewrapped").count() == 5

    def test_rewrap_is_resumable_batch_by_batch(self, tenant, actor) -> None:
        for pan in ALL_PANS[:6]:
            tokenize(tenant=tenant, actor=actor, number=pan)
        key_rotate(purpose="kek", actor=actor)

        first = vault_rewrap(actor=actor, batch_size=2, max_batches=1)
        rest = vault_rewrap(actor=actor, batch_size=2)

        assert (first.cards, first.remaining, rest.cards, rest.remaining) == (2, 4, 4, 0)

    def test_shredded_cards_are_left_alone(self, tenant, actor) -> None:
        from vault.services import card_shred

        card = tokenize(tenant=tenant, actor=actor).card
        card_shred(tenant=tenant, actor=actor, token=card.token)
        key_rotate(purpose="kek", actor=actor)

        assert vault_rewrap(actor=actor).cards == 0


class TestMinimumDecryptionVersion:
    def test_retiring_is_refused_while_a_card_needs_the_old_version(self, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)
        key_rotate(purpose="kek", actor=actor)

        with pytest.raises(UnableToRetireKey) as caught:
            key_versions_retire(purpose="kek", min_version=2, actor=actor)

        assert caught.value.code == "key_retirement_refused"
        assert "1 cards" in caught.value.message
        assert min_decryption_version() == 1

    def test_after_rewrap_old_versions_retire_and_never_decrypt_again(self, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor).card
        old_wrapped = bytes(card.wrapped_key)
        key_rotate(purpose="kek", actor=actor)
        vault_rewrap(actor=actor)

        [retired] = key_versions_retire(purpose="kek", min_version=2, actor=actor)

        assert (retired.version, retired.state) == (1, KeyState.RETIRED)
        assert min_decryption_version() == 2
        assert card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="refund").pan == PAN
        keys.reset_caches()
        with pytest.raises(CardUndecryptable):
            keys.unwrap_data_key(1, old_wrapped, f"strongroom.vault/card-dek|{card.token}".encode())

    def test_the_active_version_cannot_be_retired(self, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)

        with pytest.raises(UnableToRetireKey):
            key_versions_retire(purpose="kek", min_version=2, actor=actor)


class TestFingerprintRotation:
    def test_dedupe_keeps_working_while_cards_still_carry_the_old_fingerprint(self, tenant, actor) -> None:
        first = tokenize(tenant=tenant, actor=actor).card
        key_rotate(purpose="fingerprint", actor=actor)

        again = tokenize(tenant=tenant, actor=actor)

        assert (again.card.pk, again.created) == (first.pk, False)
        assert Card.objects.get(pk=first.pk).fingerprint_version == 2  # upgraded on the way

    def test_dedupe_works_after_rewrap_and_retirement_of_the_old_fingerprint_key(self, tenant, actor) -> None:
        first = tokenize(tenant=tenant, actor=actor, number=AMEX).card
        key_rotate(purpose="fingerprint", actor=actor)
        vault_rewrap(actor=actor)
        key_versions_retire(purpose="fingerprint", min_version=2, actor=actor)

        again = tokenize(tenant=tenant, actor=actor, number=AMEX)

        assert (again.card.pk, again.created) == (first.pk, False)
        assert KeyVersion.objects.get(purpose=KeyPurpose.FINGERPRINT, version=1).state == KeyState.RETIRED

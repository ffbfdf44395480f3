import base64
import secrets
from unittest import mock

import pytest

from tests.vault.factories import AMEX, PAN, tokenize
from vault import keys
from vault.errors import CardUndecryptable, VaultUnavailable
from vault.models import Card, KeyVersion
from vault.providers import ProviderError, get_provider
from vault.providers.local import LocalKeyringProvider, parse_keyring
from vault.services import card_detokenize, key_rotate, key_versions_retire, vault_rewrap

pytestmark = pytest.mark.django_db

CONTEXT = b"strongroom.vault/card-dek|tok_test"


class TestLocalKeyring:
    def test_entries_are_read_from_commas_or_lines(self) -> None:
        one, two = secrets.token_bytes(32), secrets.token_bytes(32)
        text = f"1:{base64.b64encode(one).decode()},\n2:{base64.b64encode(two).decode()}\n"

        assert parse_keyring(text) == {1: one, 2: two}

    @pytest.mark.parametrize("text", ["1:notbase64!", "x:AAAA", f"1:{base64.b64encode(b'short').decode()}"])
    def test_malformed_keyrings_are_refused(self, text: str) -> None:
        from vault.providers import ProviderNotConfigured

        with pytest.raises(ProviderNotConfigured):
            parse_keyring(text)

    def test_a_wrapped_key_only_unwraps_with_its_context(self) -> None:
        provider = LocalKeyringProvider(keyring=f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
        wrapped = provider.wrap(version=1, ref="", plaintext=b"k" * 32, context=CONTEXT)

        assert provider.unwrap(version=1, ref="", wrapped=wrapped, context=CONTEXT) == b"k" * 32
        from vault.providers import ProviderIntegrityFailure

        with pytest.raises(ProviderIntegrityFailure):
            provider.unwrap(version=1, ref="", wrapped=wrapped, context=b"another record")

    def test_an_empty_keyring_makes_the_vault_unavailable(self, settings, tenant, actor) -> None:
        settings.VAULT_LOCAL_KEYRING_PATH = ""

        with pytest.raises(VaultUnavailable) as caught:
            tokenize(tenant=tenant, actor=actor)

        assert (caught.value.code, caught.value.status_code) == ("vault_unavailable", 503)


class TestRetriesAndCache:
    def test_transient_provider_errors_are_retried_a_bounded_number_of_times(self, settings, tenant, actor) -> None:
        settings.VAULT_PROVIDER_RETRIES = 2
        settings.VAULT_PROVIDER_RETRY_BACKOFF_SECONDS = 0
        keys.active_version("kek")
        provider = get_provider()
        real = provider.wrap
        calls = []

        def flaky(**kwargs):  # noqa: ANN003, ANN202
            calls.append(1)
            if len(calls) < 3:
                raise ProviderError("timeout")
            return real(**kwargs)

        with mock.patch.object(provider, "wrap", side_effect=flaky):
            keys.wrap_data_key(b"k" * 32, CONTEXT)
        assert len(calls) == 3

        calls.clear()
        with mock.patch.object(provider, "wrap", side_effect=ProviderError("down")), pytest.raises(VaultUnavailable):
            keys.wrap_data_key(b"k" * 32, CONTEXT)

    def test_unwrapped_data_keys_are_cached_briefly_and_in_bounded_number(self, settings, tenant, actor) -> None:
        settings.VAULT_DATA_KEY_CACHE_SIZE = 2
        card = tokenize(tenant=tenant, actor=actor).card
        keys.reset_caches(provider=False)
        provider = get_provider()

        with mock.patch.object(provider, "unwrap", wraps=provider.unwrap) as spy:
            for _ in range(3):
                card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="authorization")

        assert spy.call_count == 1  # the card's data key once; later reads hit the cache
        assert len(keys._dek_cache()) <= 2

    def test_the_cache_forgets_after_its_ttl(self) -> None:
        from vault.crypto.cache import TTLCache

        cache = TTLCache(maxsize=10, ttl=60)
        cache.set("a", b"k")
        with mock.patch("vault.crypto.cache.time.monotonic", return_value=10**9):
            assert cache.get("a") is None


class TestPkcs11SoftHsm:
    def test_no_kek_exists_until_a_custodian_creates_one(self, pkcs11_settings, tenant, actor) -> None:
        with pytest.raises(VaultUnavailable) as caught:
            tokenize(tenant=tenant, actor=actor)

        assert "vault_rotate_kek" in caught.value.message

    def test_cards_round_trip_through_the_hsm_and_rotate(self, pkcs11_settings, tenant, actor) -> None:
        first = key_rotate(purpose="kek", actor=actor)
        card = tokenize(tenant=tenant, actor=actor, cvv="739").card

        revealed = card_detokenize(
            tenant=tenant, actor=actor, token=card.token, reason="authorization", include_cvv=True
        )
        second = key_rotate(purpose="kek", actor=actor)
        report = vault_rewrap(actor=actor)
        key_versions_retire(purpose="kek", min_version=2, actor=actor)
        keys.reset_caches()
        after = card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="refund")

        assert (first.provider, first.provider_ref) == ("pkcs11", f"{pkcs11_settings.VAULT_PKCS11_KEY_LABEL_PREFIX}-v1")
        assert (revealed.pan, revealed.cvv, second.version, report.cards) == (PAN, "739", 2, 1)
        assert (after.pan, Card.objects.get(pk=card.pk).kek_version) == (PAN, 2)

    def test_the_kek_is_non_extractable_inside_the_token(self, pkcs11_settings, actor) -> None:
        import pkcs11
        from pkcs11 import Attribute

        row = key_rotate(purpose="kek", actor=actor)
        provider = get_provider()

        key = provider._key(row.provider_ref)
        assert key[Attribute.SENSITIVE] is True and key[Attribute.EXTRACTABLE] is False
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[Attribute.VALUE]  # noqa: B018

    def test_a_moved_wrapped_key_fails_inside_the_hsm(self, pkcs11_settings, tenant, actor) -> None:
        key_rotate(purpose="kek", actor=actor)
        victim = tokenize(tenant=tenant, actor=actor).card
        donor = tokenize(tenant=tenant, actor=actor, number=AMEX).card
        Card.objects.filter(pk=victim.pk).update(wrapped_key=donor.wrapped_key)
        keys.reset_caches()

        with pytest.raises(CardUndecryptable):
            card_detokenize(tenant=tenant, actor=actor, token=victim.token, reason="authorization")

    def test_a_broken_hsm_is_unavailable_and_never_replaced_by_software_keys(
        self, pkcs11_settings, tenant, actor
    ) -> None:
        key_rotate(purpose="kek", actor=actor)
        card = tokenize(tenant=tenant, actor=actor).card
        keys.reset_caches()
        pkcs11_settings.VAULT_PKCS11_PIN = "wrong-pin"

        with pytest.raises(VaultUnavailable):
            card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="authorization")

        assert list(KeyVersion.objects.values_list("provider", flat=True).distinct()) == ["pkcs11"]

    def test_readiness_reports_the_token_and_key(self, pkcs11_settings, actor) -> None:
        from vault.health import check_vault_keys

        row = key_rotate(purpose="kek", actor=actor)

        assert check_vault_keys() == f"PKCS#11 token 'strongroom-test', key '{row.provider_ref}' present; active KEK v1"


@pytest.fixture
def kms_settings(settings, monkeypatch):  # noqa: ANN001, ANN201
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "t",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        settings.VAULT_KEY_PROVIDER = "aws-kms"
        settings.VAULT_KMS_REGION = "eu-west-1"
        keys.reset_caches()
        yield settings
        keys.reset_caches()


class TestAwsKms:
    def test_cards_round_trip_through_kms_with_a_key_per_kek_version(self, kms_settings, tenant, actor) -> None:
        first = key_rotate(purpose="kek", actor=actor)
        card = tokenize(tenant=tenant, actor=actor).card
        second = key_rotate(purpose="kek", actor=actor)
        vault_rewrap(actor=actor)
        keys.reset_caches()

        revealed = card_detokenize(tenant=tenant, actor=actor, token=card.token, reason="authorization")

        assert first.provider_ref.startswith("arn:aws:kms:eu-west-1:") and second.provider_ref != first.provider_ref
        assert (revealed.pan, Card.objects.get(pk=card.pk).kek_version) == (PAN, 2)

    def test_an_existing_kms_key_can_be_kek_v1(self, kms_settings, actor) -> None:
        import boto3

        arn = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["Arn"]
        kms_settings.VAULT_KMS_KEY_ID = arn

        assert key_rotate(purpose="kek", actor=actor).provider_ref == arn

    def test_the_encryption_context_binds_the_key_to_its_card(self, kms_settings, tenant, actor) -> None:
        key_rotate(purpose="kek", actor=actor)
        victim = tokenize(tenant=tenant, actor=actor).card
        donor = tokenize(tenant=tenant, actor=actor, number=AMEX).card
        Card.objects.filter(pk=victim.pk).update(wrapped_key=donor.wrapped_key)
        keys.reset_caches()

        with pytest.raises(CardUndecryptable):
            card_detokenize(tenant=tenant, actor=actor, token=victim.token, reason="authorization")

    def test_kms_errors_are_unavailable_after_bounded_retries(self, kms_settings, tenant, actor) -> None:
        from botocore.exceptions import EndpointConnectionError

        kms_settings.VAULT_PROVIDER_RETRY_BACKOFF_SECONDS = 0
        key_rotate(purpose="kek", actor=actor)
        client = get_provider().client()

        with (
            mock.patch.object(
                client, "encrypt", side_effect=EndpointConnectionError(endpoint_url="https://kms")
            ) as call,
            pytest.raises(VaultUnavailable),
        ):
            tokenize(tenant=tenant, actor=actor)
        assert call.call_count == 1 + kms_settings.VAULT_PROVIDER_RETRIES

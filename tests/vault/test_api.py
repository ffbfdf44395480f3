"""`/api/v1/vault/`: tokenize (single, batch), detokenize, card metadata, shredding — over the real API stack."""

import json
import logging
import re
from datetime import datetime

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from common import ratelimit
from common.models import IdempotencyRecord
from common.ratelimit import EmbeddedBackend, LimiterUnavailable
from tests.security.helpers import bearer, make_client
from tests.vault.factories import AMEX, PAN, VALID_PANS
from tests.vault.services import test_tokenize as service_tests
from vault.models import Card

pytestmark = pytest.mark.django_db

TOKENIZE = "/api/v1/vault/tokenize"
BATCH = "/api/v1/vault/tokenize/batch"
DETOKENIZE = "/api/v1/vault/detokenize"
TOKENIZED_FIELDS = {"token", "brand", "bin", "last4", "expiry", "fingerprint", "created"}
METADATA_FIELDS = {"token", "brand", "bin", "last4", "expiry", "created", "shredded", "shredded_at"}
CARD = {"pan": PAN, "expiry": "12/30", "cardholder": "Ada Lovelace"}
all_cells = service_tests.TestNothingLeaks._all_cells  # every cell of every table
_LOG_RECORD_FIELDS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def holds_cvv(cvv: str, raw: bytes) -> bool:
    """The CVV standing alone (not inside a longer number, hex digest, token or timestamp)."""
    return re.search(rb"(?<![0-9A-Za-z])" + cvv.encode() + rb"(?![0-9A-Za-z])", raw) is not None


def log_text(records: list[logging.LogRecord]) -> str:
    """What a handler could write: messages, arguments, tracebacks and extra attributes (not clock fields)."""
    lines = []
    for record in records:
        extra = {k: v for k, v in record.__dict__.items() if k not in _LOG_RECORD_FIELDS}
        lines.append(f"{record.getMessage()} {record.args!r} {record.exc_text or ''} {record.exc_info!r} {extra!r}")
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def limiter(monkeypatch) -> EmbeddedBackend:  # noqa: ANN001
    """A fresh in-process rate limiter per test."""
    backend = EmbeddedBackend()
    monkeypatch.setattr(ratelimit, "backend", lambda: backend)
    return backend


@pytest.fixture
def issued(merchant):  # noqa: ANN001, ANN201
    return make_client(scopes=["vault:tokenize", "vault:detokenize"], merchant=merchant)


@pytest.fixture
def api(issued) -> APIClient:  # noqa: ANN001
    return bearer(APIClient(), issued)


@pytest.fixture
def other_api(other_merchant) -> APIClient:  # noqa: ANN001
    return bearer(APIClient(), make_client(scopes=["vault:tokenize", "vault:detokenize"], merchant=other_merchant))


_keys = iter(range(10**9))


def tokenize(api: APIClient, body: dict | None = None, *, key: str | None = None, url: str = TOKENIZE, **extra):  # noqa: ANN003, ANN201
    """POST with its own Idempotency-Key unless one is given ("" = none at all)."""
    key = f"key-{next(_keys)}" if key is None else key
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(url, CARD if body is None else body, format="json", **headers, **extra)


def detokenize(api: APIClient, token: str, **body):  # noqa: ANN003, ANN201
    return api.post(DETOKENIZE, {"token": token, "reason": "authorization", **body}, format="json")


def card_token(api: APIClient, **overrides) -> str:  # noqa: ANN003
    response = tokenize(api, {**CARD, **overrides})
    assert response.status_code in (200, 201), response.content
    return response.json()["token"]


def without_request_id(response) -> dict:  # noqa: ANN001
    body = json.loads(response.content)
    assert body["error"].pop("request_id")
    return body


class TestTokenize:
    def test_a_new_card_is_201_with_token_metadata_only(self, api, merchant) -> None:
        response = tokenize(api, {**CARD, "cvv": "739"})

        assert response.status_code == 201
        body = response.json()
        assert set(body) == TOKENIZED_FIELDS
        card = Card.objects.get(token=body["token"])
        assert re.fullmatch(r"tok_[0-9A-Za-z]{24}", body["token"])
        assert (body["brand"], body["bin"], body["last4"], body["expiry"]) == ("visa", "42424242", "4242", "12/30")
        assert body["fingerprint"] == card.fingerprint and re.fullmatch(r"[0-9a-f]{64}", body["fingerprint"])
        assert datetime.fromisoformat(body["created"].replace("Z", "+00:00")) == card.created_at
        assert card.tenant_key == f"merchant:{merchant.pk}"
        assert response["Cache-Control"] == "no-store"
        assert PAN.encode() not in response.content and not holds_cvv("739", response.content)
        assert b"Lovelace" not in response.content

    def test_the_same_card_again_is_200_with_the_existing_token(self, api) -> None:
        first = tokenize(api)

        again = tokenize(api, {**CARD, "pan": "4242-4242-4242-4242", "expiry": "01/31"})

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["token"] == first.json()["token"]
        assert again.json()["created"] == first.json()["created"]
        assert again.json()["expiry"] == "01/31"
        assert Card.objects.count() == 1

    def test_the_same_card_in_another_tenant_is_another_token(self, api, other_api) -> None:
        mine, theirs = tokenize(api).json(), tokenize(other_api).json()

        assert mine["token"] != theirs["token"]
        assert mine["fingerprint"] != theirs["fingerprint"]

    def test_a_retry_with_the_same_key_replays_without_tokenizing_again(self, api) -> None:
        first = tokenize(api, key="order-42")
        replay = tokenize(api, key="order-42")

        assert (first.status_code, replay.status_code) == (201, 201)
        assert replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true"
        assert AuditEvent.objects.filter(action="vault.card.tokenized").count() == 1
        stored = IdempotencyRecord.objects.get(key="order-42").response_body
        assert PAN not in stored and "Lovelace" not in stored

    def test_the_same_key_with_another_card_is_a_422(self, api) -> None:
        tokenize(api, key="order-43")

        response = tokenize(api, {**CARD, "pan": AMEX}, key="order-43")

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
        assert AMEX.encode() not in response.content and PAN.encode() not in response.content

    def test_an_idempotency_key_is_required(self, api) -> None:
        response = tokenize(api, key="")

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "idempotency_key_required"
        assert not Card.objects.exists()

    @pytest.mark.parametrize(
        ("overrides", "status", "code", "fields"),
        [
            ({"pan": "4242424242424241"}, 400, "invalid_card", {"pan": ["checksum"]}),
            ({"pan": "42424242424242427"}, 400, "invalid_card", {"pan": ["length"]}),
            ({"pan": "4242 4242 4242 4242 4242 4242 4242 4242 4242"}, 400, "validation_error", None),
            ({"pan": "9242424242424242"}, 400, "invalid_card", {"pan": ["brand"]}),
            ({"pan": "4242x42424242424"}, 400, "invalid_card", {"pan": ["format"]}),
            ({"pan": None}, 400, "validation_error", None),
            ({"expiry": "01/20"}, 400, "card_expired", {"expiry": ["expired"]}),
            ({"expiry": "13/30"}, 400, "invalid_card", {"expiry": ["month"]}),
            ({"expiry": "2030-12"}, 400, "invalid_card", {"expiry": ["format"]}),
            ({"cvv": "73"}, 400, "invalid_card", {"cvv": ["format"]}),
            ({"cvv": "7391"}, 400, "invalid_card", {"cvv": ["format"]}),  # 4 digits: Amex only
            ({"cvv": "73912"}, 400, "validation_error", None),
            ({"cardholder": "Ada 4242424242424242"}, 400, "invalid_card", {"cardholder": ["characters"]}),
            ({"cardholder": ""}, 400, "validation_error", None),
        ],
    )
    def test_an_invalid_card_names_the_field_and_never_echoes_the_card(
        self, api, overrides: dict, status: int, code: str, fields: dict | None
    ) -> None:
        body = {**CARD, "cvv": "739", **overrides}

        response = tokenize(api, body)

        assert response.status_code == status
        error = response.json()["error"]
        assert error["code"] == code
        field = next(iter(overrides))
        if fields is None:
            assert set(error["fields"]) == {field}
        else:
            assert error["fields"] == fields
        for value in (body["pan"], PAN):
            if value:
                assert str(value).encode() not in response.content
        assert not holds_cvv(body["cvv"], response.content)
        assert b"4242424242" not in response.content
        assert not Card.objects.exists()
        assert not IdempotencyRecord.objects.exists()  # a refused request releases its key

    def test_an_amex_takes_a_four_digit_cvv(self, api) -> None:
        response = tokenize(api, {**CARD, "pan": AMEX, "cvv": "7391"})

        assert response.status_code == 201
        assert (response.json()["brand"], response.json()["bin"]) == ("amex", "378282")

    def test_no_token_is_a_401(self, api_client) -> None:
        response = tokenize(api_client)

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    def test_a_token_without_the_scope_is_a_403(self, api_client, merchant) -> None:
        bearer(api_client, make_client(scopes=["vault:detokenize"], merchant=merchant))

        response = tokenize(api_client)

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert not Card.objects.exists()


class TestTokenizeBatch:
    def test_one_bad_card_fails_only_its_own_item(self, api) -> None:
        cards = [
            CARD,
            {**CARD, "pan": "4242424242424241"},  # Luhn
            {"expiry": "12/30", "cardholder": "No Number"},  # shape: no pan
            "4000056655665556",  # not an object
            {**CARD, "pan": AMEX, "cvv": "7391"},
            {**CARD, "pan": "4242 4242 4242 4242"},  # the first card again
            {**CARD, "pan": VALID_PANS["jcb"][0], "expiry": "01/20"},
        ]

        response = tokenize(api, {"cards": cards}, url=BATCH)

        assert response.status_code == 200
        body = response.json()
        assert body["summary"] == {"created": 2, "matched": 1, "failed": 4}
        results = body["results"]
        assert [r["index"] for r in results] == list(range(7))
        assert [r["outcome"] for r in results] == ["created", "failed", "failed", "failed", "created", "matched",
                                                   "failed"]  # fmt: skip
        assert set(results[0]["card"]) == TOKENIZED_FIELDS
        assert results[5]["card"]["token"] == results[0]["card"]["token"]
        assert results[4]["card"]["brand"] == "amex"
        assert results[1]["error"] == {"code": "invalid_card", "message": results[1]["error"]["message"],
                                       "fields": {"pan": ["checksum"]}}  # fmt: skip
        assert (results[2]["error"]["code"], set(results[2]["error"]["fields"])) == ("validation_error", {"pan"})
        assert results[3]["error"]["code"] == "validation_error"
        assert (results[6]["error"]["code"], results[6]["error"]["fields"]) == ("card_expired", {"expiry": ["expired"]})
        assert all(r["card"] is None for r in results if r["outcome"] == "failed")
        for pan in (PAN, AMEX, "4242424242424241", "4000056655665556", VALID_PANS["jcb"][0]):
            assert pan.encode() not in response.content
        assert not holds_cvv("7391", response.content)
        assert Card.objects.count() == 2
        [event] = AuditEvent.objects.filter(action="vault.card.batch_tokenized")
        assert '"submitted":7' in event.data
        assert all(f'"index":{i}' in event.data for i in (1, 2, 3, 6))  # the audit indexes are the request's

    def test_a_batch_replays_with_its_key(self, api) -> None:
        first = tokenize(api, {"cards": [CARD]}, url=BATCH, key="batch-1")
        replay = tokenize(api, {"cards": [CARD]}, url=BATCH, key="batch-1")

        assert replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true"
        assert AuditEvent.objects.filter(action="vault.card.batch_tokenized").count() == 1

    def test_too_many_cards_is_refused_whole(self, api, settings) -> None:
        settings.VAULT_BATCH_MAX = 2

        response = tokenize(api, {"cards": [CARD, CARD, CARD]}, url=BATCH)

        assert response.status_code == 400
        assert (response.json()["error"]["code"], response.json()["error"]["fields"]) == (
            "batch_too_large",
            {"cards": ["too_many"]},
        )
        assert not Card.objects.exists()

    @pytest.mark.parametrize("body", [{}, {"cards": []}, {"cards": "4242424242424242"}, {"cards": {"pan": PAN}}])
    def test_a_request_without_a_list_of_cards_is_a_validation_error(self, api, body: dict) -> None:
        response = tokenize(api, body, url=BATCH)

        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"cards"}
        assert PAN.encode() not in response.content


class TestDetokenize:
    def test_reveals_the_card_once_audited_with_no_store(self, api, issued, merchant) -> None:
        token = card_token(api)

        response = detokenize(api, token)

        assert response.status_code == 200
        assert response.json() == {"pan": PAN, "expiry": "12/30", "cardholder": "Ada Lovelace"}
        assert response["Cache-Control"] == "no-store"
        [event] = AuditEvent.objects.filter(action="vault.card.detokenized")
        assert (event.actor_kind, event.actor_id) == ("api_client", issued.client.client_id)
        assert event.tenant == f"merchant:{merchant.pk}"
        assert f'"card_token":"{token}"' in event.data and '"reason":"authorization"' in event.data
        assert PAN not in event.data and "Lovelace" not in event.data

    def test_every_detokenization_is_audited_refusals_included(self, api) -> None:
        token = card_token(api)

        detokenize(api, token)
        detokenize(api, token, reason="refund")
        detokenize(api, "tok_" + "x" * 24)
        detokenize(api, token, reason="curiosity")

        assert AuditEvent.objects.filter(action="vault.card.detokenized").count() == 2
        assert AuditEvent.objects.filter(action="vault.card.detokenize_refused").count() == 2

    def test_include_cvv_returns_the_cvv_once_then_null(self, api) -> None:
        token = card_token(api, cvv="739")

        first = detokenize(api, token, include_cvv=True)
        second = detokenize(api, token, include_cvv=True)
        without = detokenize(api, token)

        assert first.json() == {"pan": PAN, "expiry": "12/30", "cardholder": "Ada Lovelace", "cvv": "739"}
        assert second.json()["cvv"] is None
        assert "cvv" not in without.json()

    @pytest.mark.parametrize(
        ("body", "code", "fields"),
        [
            ({"reason": "curiosity"}, "invalid_reason", {"reason": ["invalid"]}),
            ({"reason": "other"}, "invalid_reason", {"reason_text": ["required"]}),
            ({"reason": "other", "reason_text": "x" * 201}, "invalid_reason", {"reason_text": ["length"]}),
            ({"reason": None}, "validation_error", None),
            ({"include_cvv": PAN}, "validation_error", None),
        ],
    )
    def test_a_bad_reason_or_field_is_a_400_naming_it(self, api, body: dict, code: str, fields) -> None:  # noqa: ANN001
        token = card_token(api)

        response = detokenize(api, token, **body)

        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == code
        assert error["fields"] == fields if fields else set(error["fields"]) == set(body)
        assert PAN.encode() not in response.content

    def test_other_with_an_explanation_is_accepted(self, api) -> None:
        token = card_token(api)

        response = detokenize(api, token, reason="other", reason_text="Issuer asked for a re-check")

        assert response.status_code == 200
        event = AuditEvent.objects.get(action="vault.card.detokenized")
        assert "Issuer asked for a re-check" in event.data

    def test_an_idempotency_key_is_optional_and_ignored(self, api) -> None:
        token = card_token(api)
        IdempotencyRecord.objects.all().delete()

        responses = [
            api.post(DETOKENIZE, {"token": token, "reason": "refund"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
            for _ in range(2)
        ]

        assert [r.status_code for r in responses] == [200, 200]
        assert "Idempotent-Replayed" not in responses[1]
        assert not IdempotencyRecord.objects.exists()  # a PAN is never stored as a response
        assert AuditEvent.objects.filter(action="vault.card.detokenized").count() == 2

    def test_a_shredded_card_is_410(self, api) -> None:
        token = card_token(api)

        shredded = api.delete(f"/api/v1/vault/cards/{token}")
        response = detokenize(api, token)

        assert shredded.status_code == 200
        assert response.status_code == 410
        assert response.json()["error"]["code"] == "card_shredded"

    def test_no_token_is_a_401_and_the_tokenize_scope_is_not_enough(self, api_client, merchant) -> None:
        assert detokenize(api_client, "tok_" + "x" * 24).status_code == 401
        bearer(api_client, make_client(scopes=["vault:tokenize"], merchant=merchant))
        token = card_token(api_client)

        response = detokenize(api_client, token)

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert not AuditEvent.objects.filter(action__startswith="vault.card.detokeniz").exists()


class TestTenantIsolation:
    """Another tenant's token answers exactly like a token that does not exist."""

    UNKNOWN = "tok_" + "Z" * 24

    def test_detokenize(self, api, other_api) -> None:
        theirs = card_token(other_api)

        foreign, unknown = detokenize(api, theirs), detokenize(api, self.UNKNOWN)

        assert (foreign.status_code, unknown.status_code) == (404, 404)
        assert without_request_id(foreign) == without_request_id(unknown)
        assert without_request_id(foreign)["error"] == {"code": "not_found", "message": "No such card.", "fields": {}}
        assert theirs.encode() not in foreign.content

    def test_get(self, api, other_api) -> None:
        theirs = card_token(other_api)

        foreign = api.get(f"/api/v1/vault/cards/{theirs}")
        unknown = api.get(f"/api/v1/vault/cards/{self.UNKNOWN}")
        malformed = api.get("/api/v1/vault/cards/not-a-token")

        assert (foreign.status_code, unknown.status_code, malformed.status_code) == (404, 404, 404)
        assert without_request_id(foreign) == without_request_id(unknown) == without_request_id(malformed)

    def test_delete(self, api, other_api) -> None:
        theirs = card_token(other_api)

        foreign = api.delete(f"/api/v1/vault/cards/{theirs}")
        unknown = api.delete(f"/api/v1/vault/cards/{self.UNKNOWN}")

        assert (foreign.status_code, unknown.status_code) == (404, 404)
        assert without_request_id(foreign) == without_request_id(unknown)
        assert Card.objects.get(token=theirs).shredded_at is None
        assert detokenize(other_api, theirs).status_code == 200


class TestCards:
    def test_get_returns_masked_metadata_only(self, api) -> None:
        created = tokenize(api).json()

        response = api.get(f"/api/v1/vault/cards/{created['token']}")

        assert response.status_code == 200
        body = response.json()
        assert set(body) == METADATA_FIELDS
        assert {k: body[k] for k in ("token", "brand", "bin", "last4", "expiry", "created")} == {
            k: created[k] for k in ("token", "brand", "bin", "last4", "expiry", "created")
        }
        assert (body["shredded"], body["shredded_at"]) == (False, None)
        assert PAN.encode() not in response.content

    def test_delete_shreds_and_is_idempotent(self, api, issued) -> None:
        token = card_token(api)

        first = api.delete(f"/api/v1/vault/cards/{token}", {"reason_text": "customer left"}, format="json")
        again = api.delete(f"/api/v1/vault/cards/{token}")

        assert (first.status_code, again.status_code) == (200, 200)
        assert first.json()["shredded"] is True and first.json()["shredded_at"]
        assert again.json()["shredded_at"] == first.json()["shredded_at"]
        card = Card.objects.get(token=token)
        assert (card.wrapped_key, bytes(card.ciphertext)) == (None, b"")
        [event] = AuditEvent.objects.filter(action="vault.card.shredded")
        assert event.actor_id == issued.client.client_id and "customer left" in event.data
        assert api.get(f"/api/v1/vault/cards/{token}").json()["shredded"] is True

    def test_the_detokenize_scope_alone_cannot_read_or_shred(self, api_client, api, merchant) -> None:
        token = card_token(api)
        bearer(api_client, make_client(scopes=["vault:detokenize"], merchant=merchant))

        assert api_client.get(f"/api/v1/vault/cards/{token}").status_code == 403
        assert api_client.delete(f"/api/v1/vault/cards/{token}").status_code == 403
        assert Card.objects.get(token=token).shredded_at is None


class TestDetokenizeRateLimit:
    def test_its_own_stricter_bucket_answers_429_with_headers(self, api, settings) -> None:
        settings.VAULT_DETOKENIZE_RATE, settings.VAULT_DETOKENIZE_BURST = 0.5, 2
        token = card_token(api)

        responses = [detokenize(api, token) for _ in range(3)]

        assert [r.status_code for r in responses] == [200, 200, 429]
        refused = responses[2]
        assert refused.json()["error"]["code"] == "rate_limited"
        assert (refused["RateLimit-Limit"], refused["RateLimit-Remaining"]) == ("2", "0")
        assert int(refused["Retry-After"]) >= 1 and int(refused["RateLimit-Reset"]) >= 1
        assert PAN.encode() not in refused.content
        assert tokenize(api).status_code == 200  # the default bucket is untouched

    def test_the_default_setting_is_stricter_than_the_default_api_limit(self, settings) -> None:
        rate, burst = settings.API_RATE_LIMIT_DEFAULT
        assert settings.VAULT_DETOKENIZE_RATE < rate and settings.VAULT_DETOKENIZE_BURST < burst
        assert "detokenize" in settings.RATE_LIMIT_FAIL_CLOSED_CLASSES

    def test_it_fails_closed_when_the_limiter_is_unreachable(self, api, monkeypatch) -> None:
        token = card_token(api)

        class Unreachable:
            def hit(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
                raise LimiterUnavailable("connection refused")

        monkeypatch.setattr(ratelimit, "backend", Unreachable)

        response = detokenize(api, token)

        assert response.status_code == 503
        assert response.json()["error"]["code"] == "rate_limiter_unavailable"
        assert PAN.encode() not in response.content
        assert not AuditEvent.objects.filter(action="vault.card.detokenized").exists()
        assert tokenize(api).status_code == 200  # tokenize is in the default class: it fails open


class TestNothingLeaks:
    def test_no_column_of_any_table_holds_the_pan_cvv_or_name(self, api) -> None:
        token = card_token(api, cvv="739", cardholder="Grace Hopper")
        tokenize(api, {"cards": [{**CARD, "pan": AMEX, "cvv": "7391", "cardholder": "Grace Hopper"}]}, url=BATCH)
        detokenize(api, token, include_cvv=True)
        tokenize(api, {**CARD, "pan": "4242424242424241", "cvv": "739"})
        api.delete(f"/api/v1/vault/cards/{token}")

        for table, value in all_cells(None):
            raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
            for secret in (PAN, AMEX, "4242424242424241", "Grace", "Hopper"):
                assert secret.encode() not in raw, table
            assert not holds_cvv("739", raw) and not holds_cvv("7391", raw), table

    def test_no_log_line_holds_the_pan_or_cvv(self, api, caplog) -> None:
        caplog.set_level(logging.DEBUG)

        token = card_token(api, cvv="739")
        detokenize(api, token, include_cvv=True)
        tokenize(api, {**CARD, "pan": "4242424242424241", "cvv": "739"})
        tokenize(api, {**CARD, "cvv": "73912"})
        tokenize(api, {"cards": [{**CARD, "pan": AMEX, "cvv": "7391"}, {**CARD, "pan": "4242424242424241"}]},
                 url=BATCH)  # fmt: skip

        text = log_text(caplog.records)
        assert caplog.records  # the refusals were logged (django.request), just without card data
        assert PAN not in text and AMEX not in text and "4242424242424241" not in text
        assert not holds_cvv("739", text.encode()) and not holds_cvv("7391", text.encode())


class TestSchema:
    def test_the_openapi_schema_documents_the_vault_endpoints(self, api_client) -> None:
        response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

        paths = response.json()["paths"]
        assert {"post"} <= set(paths["/api/v1/vault/tokenize"])
        assert {"post"} <= set(paths["/api/v1/vault/tokenize/batch"])
        assert {"post"} <= set(paths["/api/v1/vault/detokenize"])
        assert {"get", "delete"} <= set(paths["/api/v1/vault/cards/{token}"])
        tokenize_op = paths["/api/v1/vault/tokenize"]["post"]
        assert {"201", "200", "400"} <= set(tokenize_op["responses"])
        assert any(p["name"] == "Idempotency-Key" and p["required"] for p in tokenize_op["parameters"])

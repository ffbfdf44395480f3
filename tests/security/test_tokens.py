import base64
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.utils import timezone

from audit.context import Actor
from audit.models import AuditEvent
from common.api_auth import signing_key, token_issue
from common.api_clients import api_client_set_active
from common.models import ApiClient
from tests.security.helpers import bearer, make_client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.common.urls")]


def token_for(api_client, issued) -> str:  # noqa: ANN001
    response = api_client.post(
        "/api/v1/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": issued.client.client_id,
            "client_secret": issued.client_secret,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def call(api_client, token: str):  # noqa: ANN001, ANN201
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client.get("/api/test/clients/")


class TestTokenEndpoint:
    def test_client_credentials_give_a_short_lived_signed_token(self, api_client) -> None:
        issued = make_client(scopes=["audit:read", "ledger:read"])

        response = api_client.post("/api/v1/auth/token", {"grant_type": "client_credentials",
                                   "client_id": issued.client.client_id, "client_secret": issued.client_secret},
                                   format="json")  # fmt: skip

        body = response.json()
        assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 900, "audit:read ledger:read")
        header = jwt.get_unverified_header(body["access_token"])
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert header["alg"] == "EdDSA" and header["kid"] == signing_key()[0]
        assert claims["sub"] == issued.client.client_id
        assert claims["tenant"] == f"merchant:{issued.client.merchant_id}"
        assert claims["exp"] - claims["iat"] == 900
        assert claims["jti"]
        assert response["Cache-Control"] == "no-store"

    def test_a_wrong_secret_is_a_401_in_the_envelope_and_recorded(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])

        response = api_client.post("/api/v1/auth/token", {"grant_type": "client_credentials",
                                   "client_id": issued.client.client_id, "client_secret": "sec_wrong"})  # fmt: skip

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"
        assert AuditEvent.objects.filter(action="auth.token.refused").exists()

    def test_only_granted_scopes_can_be_requested(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])

        request = {"grant_type": "client_credentials", "scope": "ledger:write", "client_id": issued.client.client_id,
                   "client_secret": issued.client_secret}  # fmt: skip

        response = api_client.post("/api/v1/auth/token", request)

        assert response.status_code == 403

    def test_repeated_failures_from_one_address_are_rate_limited(self, api_client, settings) -> None:
        settings.TOKEN_ENDPOINT_IP_RATE = "3/m"
        issued = make_client(scopes=["audit:read"])
        bad = {"grant_type": "client_credentials", "client_id": issued.client.client_id, "client_secret": "nope"}

        statuses = [api_client.post("/api/v1/auth/token", bad, REMOTE_ADDR="192.0.2.77").status_code for _ in range(4)]
        good = {**bad, "client_secret": issued.client_secret}
        after = api_client.post("/api/v1/auth/token", good, REMOTE_ADDR="192.0.2.77")
        elsewhere = api_client.post("/api/v1/auth/token", good, REMOTE_ADDR="192.0.2.78")

        assert statuses == [401, 401, 401, 429]
        assert after.status_code == 429
        assert after.json()["error"]["code"] == "rate_limited"
        assert elsewhere.status_code == 200


class TestTokenVerification:
    def test_a_valid_token_opens_the_endpoint(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])

        assert call(api_client, token_for(api_client, issued)).status_code == 200

    def tamper(self, token: str, **claims) -> str:  # noqa: ANN003
        header, payload, signature = token.split(".")
        body = json.loads(base64.urlsafe_b64decode(payload + "=="))
        forged = base64.urlsafe_b64encode(json.dumps({**body, **claims}).encode()).rstrip(b"=").decode()
        return f"{header}.{forged}.{signature}"

    def test_a_tampered_payload_is_refused(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])
        token = self.tamper(token_for(api_client, issued), tenant="platform")

        response = call(api_client, token)

        assert response.status_code == 401
        assert response.json()["error"] == {"code": "authentication_failed", "message": "Invalid token.", "fields": {},
                                            "request_id": response["X-Request-ID"]}  # fmt: skip

    def test_a_token_signed_with_another_key_is_refused(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])
        claims = jwt.decode(token_for(api_client, issued), options={"verify_signature": False})
        forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": signing_key()[0]})

        assert call(api_client, forged).status_code == 401

    def test_alg_none_is_refused(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])
        claims = jwt.decode(token_for(api_client, issued), options={"verify_signature": False})
        unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": signing_key()[0]})

        assert call(api_client, unsigned).status_code == 401

    def test_hmac_signed_with_the_public_key_is_refused(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])
        claims = jwt.decode(token_for(api_client, issued), options={"verify_signature": False})
        public = signing_key()[1].public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        confused = jwt.encode(claims, public, algorithm="HS256", headers={"kid": signing_key()[0]})

        assert call(api_client, confused).status_code == 401

    def test_an_expired_token_is_refused(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])
        old = token_issue(client=issued.client, now=timezone.now() - timedelta(minutes=16))["access_token"]

        response = call(api_client, old)

        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Token expired."

    def test_a_disabled_client_is_refused_at_once(self, api_client) -> None:
        issued = make_client(scopes=["audit:read"])
        token = token_for(api_client, issued)
        api_client_set_active(client=issued.client, active=False, actor=Actor.system())

        assert call(api_client, token).status_code == 401

    def test_a_missing_scope_is_a_403(self, api_client) -> None:
        issued = make_client(scopes=["ledger:read"])

        response = call(api_client, token_for(api_client, issued))

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"

    def test_no_token_is_a_401(self, api_client) -> None:
        response = api_client.get("/api/test/clients/")

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    def test_tokens_of_the_previous_key_stay_valid_after_rotation(self, api_client, settings) -> None:
        issued = make_client(scopes=["audit:read"])
        old_token = token_for(api_client, issued)
        new_key = base64.b64encode(b"\x01" * 32).decode()
        settings.JWT_SIGNING_KEYS = f"next:{new_key},{settings.JWT_SIGNING_KEYS}"

        new_token = token_for(api_client, issued)

        assert jwt.get_unverified_header(new_token)["kid"] == "next"
        assert call(api_client, old_token).status_code == 200
        assert call(api_client, new_token).status_code == 200


class TestIdentity:
    def test_spoofed_identity_headers_change_nothing_and_are_recorded(self, api_client) -> None:
        mine = make_client(scopes=["audit:read"])
        other = make_client(scopes=["audit:read"])
        bearer(api_client, mine)

        response = api_client.get("/api/test/clients/", HTTP_X_MERCHANT_ID=str(other.client.merchant_id),
                                  HTTP_X_USER_ID="1")  # fmt: skip

        assert [row["client_id"] for row in response.json()["results"]] == [mine.client.client_id]
        event = AuditEvent.objects.filter(action="security.identity_header.ignored").latest("pk")
        assert json.loads(event.data)["headers"] == ["X-Merchant-Id", "X-User-Id"]
        assert event.actor_id == mine.client.client_id


class TestTenantScoping:
    def test_a_merchant_client_sees_only_its_tenant_and_others_look_unknown(self, api_client) -> None:
        mine = make_client(scopes=["audit:read"])
        sibling = make_client(scopes=["ledger:read"], merchant=mine.client.merchant)
        other = make_client(scopes=["audit:read"])
        bearer(api_client, mine)

        listed = api_client.get("/api/test/clients/").json()["results"]
        foreign = api_client.get(f"/api/test/clients/{other.client.pk}/")
        unknown = api_client.get("/api/test/clients/999999/")

        assert sorted(r["client_id"] for r in listed) == sorted([mine.client.client_id, sibling.client.client_id])
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.json()["error"] | {"request_id": ""} == unknown.json()["error"] | {"request_id": ""}

    def test_a_platform_client_sees_every_tenant(self, api_client) -> None:
        platform = make_client(scopes=["audit:read"], platform=True)
        make_client(scopes=["audit:read"])
        bearer(api_client, platform)

        assert len(api_client.get("/api/test/clients/").json()["results"]) == ApiClient.objects.count()

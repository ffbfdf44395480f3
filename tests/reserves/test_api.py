from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from common.idempotency import HEADER
from reserves import selectors
from reserves.choices import ApprovalStatus
from reserves.models import ApprovalRequest
from tests.reserves.conftest import NOW
from tests.security.helpers import bearer, make_client

pytestmark = pytest.mark.django_db

ALL = ["reserves:read", "reserves:write", "reserves:approve"]


def client_for(**tenant) -> APIClient:
    return bearer(APIClient(), make_client(scopes=ALL, **tenant))


def post(client: APIClient, url: str, body: dict, key: str):  # noqa: ANN201
    return client.post(url, body, format="json", **{f"HTTP_{HEADER.upper().replace('-', '_')}": key})


@pytest.fixture
def api(funded_reserve, partners):  # noqa: ANN201
    class Clients:
        platform = client_for(platform=True)
        bank = client_for(partner=partners.bank)
        acquirer = client_for(partner=partners.acquirer)
        other = client_for(partner=partners.other)

    return Clients


def create(api, merchant, amount: str = "25.00"):  # noqa: ANN001, ANN201
    body = {"action": "release_reserve", "merchant_id": merchant.pk,
            "payload": {"amount": amount, "currency": "USD", "reason": "court order"}}  # fmt: skip
    return post(api.platform, "/api/v1/reserves/approvals", body, f"create-{amount}")


class TestApprovalsApi:
    def test_platform_creates_and_two_partner_clients_sign_then_the_ledger_moved(self, api, merchant) -> None:
        created = create(api, merchant)
        assert created.status_code == 201, created.json()
        body = created.json()
        assert body["required_signatures"] == 2 and body["status"] == "pending"
        assert len(body["payload_hash"]) == 64 and body["expires_at"]
        assert body["eligible_partners"] == ["acquirer", "bank"]
        url = f"/api/v1/reserves/approvals/{body['id']}/sign"

        one = post(api.bank, url, {"payload_hash": body["payload_hash"], "decision": "approve"}, "s1")
        assert one.status_code == 200, one.json()
        assert one.json()["approvals"] == 1
        two = post(api.acquirer, url, {"payload_hash": body["payload_hash"], "decision": "approve"}, "s2")

        assert two.status_code == 200
        assert two.json()["status"] == "executed"
        assert selectors.reserve_held(merchant_id=merchant.pk, currency_code="USD") == 10_000 - 2_500
        figures = api.bank.get(f"/api/v1/reserves/merchants/{merchant.pk}").json()
        assert figures["held"] == "75.00" and figures["policy"]["kind"] == "rolling"

    def test_a_wrong_hash_is_409_and_an_expired_request_410(self, api, merchant) -> None:
        body = create(api, merchant).json()
        url = f"/api/v1/reserves/approvals/{body['id']}/sign"

        mismatch = post(api.bank, url, {"payload_hash": "a" * 64, "decision": "approve"}, "m1")
        ApprovalRequest.objects.filter(pk=body["id"]).update(created_at=NOW - timedelta(days=4), expires_at=NOW)
        expired = post(api.bank, url, {"payload_hash": body["payload_hash"], "decision": "approve"}, "m2")

        assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (409, "payload_hash_mismatch")
        assert (expired.status_code, expired.json()["error"]["code"]) == (410, "approval_expired")

    def test_a_duplicate_open_request_is_429(self, api, merchant) -> None:
        create(api, merchant)
        body = {"action": "release_reserve", "merchant_id": merchant.pk,
                "payload": {"amount": "25", "currency": "USD", "reason": "court order"}}  # fmt: skip

        again = post(api.platform, "/api/v1/reserves/approvals", body, "another-key")

        assert (again.status_code, again.json()["error"]["code"]) == (429, "approval_rate_limited")

    def test_partner_clients_see_only_what_they_may_sign(self, api, merchant) -> None:
        approval_id = create(api, merchant).json()["id"]

        bank_list = api.bank.get("/api/v1/reserves/approvals").json()["results"]
        other_list = api.other.get("/api/v1/reserves/approvals").json()["results"]
        other_detail = api.other.get(f"/api/v1/reserves/approvals/{approval_id}")
        other_sign = post(api.other, f"/api/v1/reserves/approvals/{approval_id}/sign",
                          {"payload_hash": "a" * 64, "decision": "reject"}, "o1")  # fmt: skip
        other_merchant = api.other.get(f"/api/v1/reserves/merchants/{merchant.pk}")

        assert [a["id"] for a in bank_list] == [approval_id]
        assert other_list == []
        assert other_detail.status_code == 404
        assert other_sign.status_code in (403, 404)
        assert other_merchant.status_code == 404
        assert ApprovalRequest.objects.get(pk=approval_id).status == ApprovalStatus.PENDING

    def test_partner_clients_cannot_create_and_platform_clients_cannot_sign(self, api, merchant) -> None:
        body = {"action": "release_reserve", "merchant_id": merchant.pk,
                "payload": {"amount": "1.00", "currency": "USD", "reason": "x"}}  # fmt: skip
        refused = post(api.bank, "/api/v1/reserves/approvals", body, "p1")
        approval_id = create(api, merchant).json()["id"]
        platform_sign = post(api.platform, f"/api/v1/reserves/approvals/{approval_id}/sign",
                             {"payload_hash": "a" * 64, "decision": "approve"}, "p2")  # fmt: skip

        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "approval_request_not_allowed")
        assert platform_sign.status_code == 403

    def test_signing_needs_the_approve_scope(self, api, merchant, partners) -> None:
        approval = create(api, merchant).json()
        reader = bearer(APIClient(), make_client(scopes=["reserves:read"], partner=partners.bank))

        refused = post(reader, f"/api/v1/reserves/approvals/{approval['id']}/sign",
                       {"payload_hash": approval["payload_hash"], "decision": "approve"}, "r1")  # fmt: skip

        assert refused.status_code == 403

    def test_a_signer_client_may_revoke(self, api, merchant) -> None:
        approval = create(api, merchant).json()
        post(api.bank, f"/api/v1/reserves/approvals/{approval['id']}/sign",
             {"payload_hash": approval["payload_hash"], "decision": "approve"}, "v1")  # fmt: skip

        revoked = post(api.bank, f"/api/v1/reserves/approvals/{approval['id']}/revoke", {}, "v2")

        assert revoked.status_code == 200 and revoked.json()["approvals"] == 0


def test_the_schema_still_builds(api_client) -> None:
    response = api_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/reserves/approvals/{approval_id}/sign" in response.content


def test_the_list_takes_a_fixed_number_of_queries(
    api, merchant, release_request, django_assert_max_num_queries
) -> None:
    for cents in range(1, 6):
        release_request(amount=f"0.0{cents}")

    with django_assert_max_num_queries(12):
        listed = api.bank.get("/api/v1/reserves/approvals?limit=50")

    assert len(listed.json()["results"]) == 5

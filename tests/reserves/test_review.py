"""Review findings: each test failed before its fix."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from audit.context import Actor
from common.idempotency import HEADER
from reserves import selectors, services
from reserves.choices import ApprovalStatus, PolicyKind
from reserves.models import ApprovalRequest
from reserves.principals import principal_for_user
from tests.reserves.conftest import DAY, NOW, SYSTEM, sign
from tests.security.helpers import bearer, make_client

pytestmark = pytest.mark.django_db

ALL = ["reserves:read", "reserves:write", "reserves:approve"]
KEY = f"HTTP_{HEADER.upper().replace('-', '_')}"


def raw_post(client: APIClient, url: str, body: object, key: str):  # noqa: ANN201
    """JSON text as a client would send it (json.dumps escapes lone surrogates as \\udXXX)."""
    return client.post(url, data=json.dumps(body), content_type="application/json", **{KEY: key})


@pytest.fixture
def api(funded_reserve, partners):  # noqa: ANN201
    class Clients:
        platform = bearer(APIClient(), make_client(scopes=ALL, platform=True))
        bank = bearer(APIClient(), make_client(scopes=ALL, partner=partners.bank))

    return Clients


def held(merchant) -> int:  # noqa: ANN001
    return selectors.reserve_held(merchant_id=merchant.pk, currency_code="USD")


class TestPayloadsThatCannotBeStored:
    def test_a_fixed_amount_beyond_bigint_is_400_not_a_500_at_the_last_signature(self, api, merchant) -> None:
        body = {"action": "change_policy", "merchant_id": merchant.pk,
                "payload": {"kind": "fixed", "currency": "USD", "amount": "9" * 30 + ".00"}}  # fmt: skip

        response = raw_post(api.platform, "/api/v1/reserves/approvals", body, "huge")

        assert (response.status_code, response.json()["error"]["code"]) == (
            400,
            "invalid_amount",
        )  # common.money: beyond bigint
        assert not ApprovalRequest.objects.exists()

    @pytest.mark.parametrize(
        "payload",
        [
            {"amount": "1.00", "currency": "USD", "reason": "a\x00b"},
            {"amount": "1.00", "currency": "USD", "reason": "\ud800"},
            {"amount": "1.00", "currency": "\ud800", "reason": "x"},
            {"amount": "1.00", "currency": "USD", "reason": "x", "\ud800": 1},
        ],
        ids=["nul", "surrogate-reason", "surrogate-echoed-field", "surrogate-key"],
    )
    def test_nul_or_lone_surrogates_in_the_payload_are_400(self, api, merchant, payload) -> None:
        body = {"action": "release_reserve", "merchant_id": merchant.pk, "payload": payload}

        response = raw_post(api.platform, "/api/v1/reserves/approvals", body, "text")

        assert (response.status_code, response.json()["error"]["code"]) == (400, "malformed_request")  # common.parsers
        assert not ApprovalRequest.objects.exists()

    def test_a_lone_surrogate_in_a_rule_change_is_400(self, api) -> None:
        payload = {
            "action": "release_reserve",
            "required_signatures": 2,
            "ttl_hours": 5,
            "eligible_partners": ["\ud800"],
        }
        body = {"action": "change_approval_rule", "payload": payload}

        response = raw_post(api.platform, "/api/v1/reserves/approvals", body, "rule")

        assert response.status_code == 400

    def test_an_unknown_action_or_decision_is_400_without_echoing_it(self, api, merchant) -> None:
        created = raw_post(api.platform, "/api/v1/reserves/approvals",
                           {"action": "\ud800", "merchant_id": merchant.pk, "payload": {}}, "a")  # fmt: skip
        signed = raw_post(api.bank, "/api/v1/reserves/approvals/1/sign",
                          {"payload_hash": "a" * 64, "decision": "\ud800"}, "d")  # fmt: skip

        assert (created.status_code, signed.status_code) == (400, 400)


class TestHiddenRequests:
    def test_a_partner_not_eligible_learns_nothing_from_signing_or_revoking(self, release_request, people) -> None:
        approval = release_request()

        with pytest.raises(services.ApprovalNotFound):  # was 410: the expiry of a request it may not see
            sign(approval, people.outsider, now=NOW + timedelta(days=10))
        with pytest.raises(services.ApprovalNotFound):  # was 409 signature_not_found
            services.approval_revoke(approval_id=approval.pk, principal=principal_for_user(people.outsider),
                                     actor=Actor.for_user(people.outsider), now=NOW)  # fmt: skip
        ApprovalRequest.objects.filter(pk=approval.pk).update(status=ApprovalStatus.CANCELLED, decided_at=NOW)
        with pytest.raises(services.ApprovalNotFound):  # was 409 approval_not_pending
            sign(approval, people.outsider)


class TestEngine:
    def test_a_catch_up_run_before_a_policy_change_does_not_hold_the_fixed_reserve_twice(
        self, merchant, partners, people, seeded_templates
    ) -> None:
        services.reserve_policy_create_initial(
            merchant=merchant, kind=PolicyKind.FIXED, currency_code="USD", amount=5_000, actor=SYSTEM,
            occurred_at=NOW - timedelta(days=5), effective_date=DAY - timedelta(days=5),
        )  # fmt: skip
        services.reserve_engine_run(run_date=DAY - timedelta(days=5), actor=SYSTEM, now=NOW - timedelta(days=5))
        approval = services.approval_request_create(
            action="change_policy", merchant=merchant,
            payload={"kind": "rolling", "currency": "USD", "percent_bp": 500, "hold_days": 10},
            principal=principal_for_user(people.requester), actor=Actor.for_user(people.requester), now=NOW,
        )  # fmt: skip
        sign(approval, people.bank1)
        assert sign(approval, people.acquirer).status == ApprovalStatus.EXECUTED

        # The beat missed the day before the change; the catch-up runs it under the old (fixed) version,
        # whose 5,000 are still held that day (they mature on the new version's effective date).
        services.reserve_engine_run(run_date=DAY - timedelta(days=1), actor=SYSTEM, now=NOW)
        assert held(merchant) == 5_000
        services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)
        assert held(merchant) == 0
        assert selectors.required_reserve(merchant_id=merchant.pk, on=DAY) == 0

    def test_the_command_refuses_today_whose_volume_is_still_coming_in(self, rolling_policy) -> None:
        with pytest.raises(CommandError):
            call_command("run_reserve_engine", "--date", timezone.now().date().isoformat())


class TestAdmin:
    def test_an_approval_requests_object_history_renders(self, admin_client, release_request) -> None:
        approval = release_request(now=timezone.now())

        response = admin_client.get(f"/admin/reserves/approvalrequest/{approval.pk}/history/")

        assert response.status_code == 200
        assert admin_client.get("/admin/reserves/approvalrequest/history/").status_code == 200

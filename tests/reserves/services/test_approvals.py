import json
from datetime import timedelta

import pytest
from django.test import override_settings

from audit.context import Actor
from audit.models import AuditEvent
from ledger.models import JournalEntry
from reserves import selectors, services
from reserves.choices import ApprovalStatus
from reserves.metrics import approvals_rate_limited
from reserves.models import ApprovalRequest, ApprovalRule, ApprovalSignature, ReservePolicy, ReserveTranche
from reserves.principals import principal_for_user
from tests.reserves.conftest import DAY, NOW, make_user, sign

pytestmark = pytest.mark.django_db


def held(merchant) -> int:
    return selectors.reserve_held(merchant_id=merchant.pk, currency_code="USD")


class TestPayloadHash:
    def test_the_hash_is_sha256_of_sorted_compact_json(self) -> None:
        import hashlib

        payload = {"reason": "ünïcode", "amount": "1.00", "currency": "USD"}
        expected = hashlib.sha256('{"amount":"1.00","currency":"USD","reason":"ünïcode"}'.encode()).hexdigest()

        assert services.payload_hash(payload) == expected
        assert services.payload_hash(dict(reversed(list(payload.items())))) == expected


class TestApprovalRequestCreate:
    def test_a_release_request_is_pending_with_hash_signatures_expiry_and_eligible_partners(
        self, release_request, partners, people, merchant
    ) -> None:
        approval = release_request(amount="40")

        assert approval.status == ApprovalStatus.PENDING
        assert approval.payload == {"amount": "40.00", "currency": "USD", "reason": "merchant offboarding review"}
        assert approval.payload_hash == services.payload_hash(approval.payload)
        assert approval.required_signatures == 2
        assert approval.expires_at == NOW + timedelta(hours=72)
        assert approval.requester_partner == partners.platform
        # The requester's own partner and partners not serving the merchant are not eligible.
        assert set(approval.eligible_partners.all()) == {partners.bank, partners.acquirer}
        assert approval.basis == {"reserve_version": 0, "policy_version": 1}
        event = AuditEvent.objects.get(action="reserves.approval.requested", object_id=str(approval.pk))
        assert json.loads(event.data)["payload_hash"] == approval.payload_hash
        assert held(merchant) == 10_000  # nothing moved yet

    def test_a_partner_user_cannot_create_requests(self, funded_reserve, people, merchant) -> None:
        with pytest.raises(services.ApprovalRequestNotAllowed):
            services.approval_request_create(
                action="release_reserve", merchant=merchant,
                payload={"amount": "1.00", "currency": "USD", "reason": "x"},
                principal=principal_for_user(people.bank1), actor=Actor.for_user(people.bank1), now=NOW,
            )  # fmt: skip

    def test_releasing_more_than_is_held_is_refused(self, release_request) -> None:
        with pytest.raises(services.InvalidApprovalPayload) as refused:
            release_request(amount="100.01")

        assert refused.value.fields["held"] == "100.00"
        assert not ApprovalRequest.objects.exists()

    @pytest.mark.parametrize(
        "payload",
        [{"amount": 5, "currency": "USD", "reason": "x"}, {"amount": "1.001", "currency": "USD", "reason": "x"},
         {"amount": "1.00", "currency": "USD", "reason": ""},
         {"amount": "1.00", "currency": "USD", "reason": "x", "y": 1}],
    )  # fmt: skip
    def test_malformed_payloads_are_refused(self, funded_reserve, people, merchant, payload) -> None:
        with pytest.raises(services.InvalidApprovalPayload.__mro__[1]):  # DomainError (invalid_amount included)
            services.approval_request_create(
                action="release_reserve", merchant=merchant, payload=payload,
                principal=principal_for_user(people.requester), actor=Actor.system("t"), now=NOW,
            )  # fmt: skip
        assert not ApprovalRequest.objects.exists()

    def test_too_few_eligible_partners_is_refused(self, release_request, partners) -> None:
        partners.acquirer.merchants.clear()

        with pytest.raises(services.UnableToCreateApproval):
            release_request()


class TestRateLimit:
    def test_a_second_open_request_with_the_same_payload_is_a_429_and_counted(self, release_request) -> None:
        release_request()
        before = approvals_rate_limited.labels("open_per_payload")._value.get()

        with pytest.raises(services.ApprovalRateLimited) as refused:
            release_request()

        assert refused.value.status_code == 429
        assert approvals_rate_limited.labels("open_per_payload")._value.get() == before + 1
        assert ApprovalRequest.objects.count() == 1

    def test_another_payload_is_not_limited_by_the_open_one(self, release_request) -> None:
        release_request(amount="1.00")
        release_request(amount="2.00")

        assert ApprovalRequest.objects.count() == 2

    @override_settings(RESERVES_APPROVAL_MAX_PER_REQUESTER_HOUR=3, REDIS_URL="")
    def test_a_requester_gets_n_requests_per_hour_counted_in_the_database(self, release_request) -> None:
        for cents in range(1, 4):
            release_request(amount=f"0.0{cents}")

        with pytest.raises(services.ApprovalRateLimited) as refused:
            release_request(amount="0.05")
        assert refused.value.fields == {"limit": "per_requester_hour"}
        # An hour later the window has moved on.
        assert release_request(amount="0.05", now=NOW + timedelta(hours=1, seconds=1)).pk


class TestSigning:
    def test_the_second_approval_executes_the_release_through_the_ledger_once(
        self, release_request, people, merchant, partners
    ) -> None:
        approval = release_request()

        first = sign(approval, people.bank1)
        assert first.status == ApprovalStatus.PENDING
        assert held(merchant) == 10_000

        done = sign(approval, people.acquirer)

        assert done.status == ApprovalStatus.EXECUTED
        assert done.decided_at == NOW
        assert held(merchant) == 10_000 - 4_000
        entry = JournalEntry.objects.get(pk=done.result["entry"])
        assert entry.template_name == "reserve_release"
        assert entry.idempotency_key == f"approval:{approval.pk}:release"
        # The release came out of the tranche; reserve state moved on (pending requests are superseded).
        assert ReserveTranche.objects.get(merchant=merchant).released_amount == 4_000
        assert selectors.basis_of(merchant_id=merchant.pk)["reserve_version"] == 1
        actions = set(AuditEvent.objects.filter(object_id=str(approval.pk)).values_list("action", flat=True))
        assert {"reserves.approval.approved", "reserves.approval.executed"} <= actions

    def test_a_signature_for_another_payload_hash_is_a_409_and_records_nothing(self, release_request, people) -> None:
        approval = release_request()

        with pytest.raises(services.PayloadHashMismatch) as refused:
            sign(approval, people.bank1, digest="0" * 64)

        assert refused.value.status_code == 409
        assert not ApprovalSignature.objects.exists()

    def test_the_requesters_partner_cannot_sign(self, release_request, people) -> None:
        with pytest.raises(services.SelfApprovalRefused):
            sign(release_request(), people.platform_approver)

    def test_the_requester_cannot_sign_even_for_another_partner(self, release_request, people, partners) -> None:
        approval = release_request()
        from reserves.models import PartnerMember

        PartnerMember.objects.filter(user=people.requester).update(partner=partners.bank)  # moved to the bank

        with pytest.raises(services.SelfApprovalRefused):
            sign(approval, people.requester)
        assert not ApprovalSignature.objects.exists()

    def test_a_partner_not_eligible_cannot_sign(self, release_request, people) -> None:
        with pytest.raises((services.NotEligibleToSign, services.ApprovalNotFound)):
            sign(release_request(), people.outsider)

    def test_one_signature_per_partner(self, release_request, people) -> None:
        approval = release_request()
        sign(approval, people.bank1)

        with pytest.raises(services.AlreadySigned):
            sign(approval, people.bank2)
        assert ApprovalSignature.objects.filter(approval=approval).count() == 1

    def test_one_rejection_ends_the_request_and_nothing_moves(self, release_request, people, merchant) -> None:
        approval = release_request()
        sign(approval, people.bank1)

        rejected = sign(approval, people.acquirer, "reject")

        assert rejected.status == ApprovalStatus.REJECTED
        assert held(merchant) == 10_000
        with pytest.raises(services.ApprovalNotPending):
            sign(approval, people.bank2)

    def test_an_expired_request_cannot_be_signed_410(self, release_request, people) -> None:
        approval = release_request()

        with pytest.raises(services.ApprovalExpired) as refused:
            sign(approval, people.bank1, now=approval.expires_at)

        assert refused.value.status_code == 410

    def test_a_signer_may_revoke_until_execution(self, release_request, people, merchant) -> None:
        approval = release_request()
        sign(approval, people.bank1)

        services.approval_revoke(approval_id=approval.pk, principal=principal_for_user(people.bank1),
                                 actor=Actor.for_user(people.bank1), now=NOW)  # fmt: skip
        still = sign(approval, people.acquirer)

        assert still.status == ApprovalStatus.PENDING  # 1 of 2 again
        assert held(merchant) == 10_000
        sign(approval, people.bank2)  # the bank may sign again after revoking
        approval.refresh_from_db()
        assert approval.status == ApprovalStatus.EXECUTED
        with pytest.raises(services.ApprovalNotPending):
            services.approval_revoke(approval_id=approval.pk, principal=principal_for_user(people.bank2),
                                     actor=Actor.for_user(people.bank2), now=NOW)  # fmt: skip

    def test_a_request_whose_basis_changed_is_superseded_and_does_not_run(
        self, release_request, people, merchant
    ) -> None:
        first = release_request(amount="10.00")
        second = release_request(amount="20.00")
        sign(first, people.bank1)
        sign(first, people.acquirer)  # executes: the reserve changed
        sign(second, people.bank1)

        superseded = sign(second, people.acquirer)

        assert superseded.status == ApprovalStatus.SUPERSEDED
        assert held(merchant) == 10_000 - 1_000
        assert AuditEvent.objects.filter(action="reserves.approval.superseded", object_id=str(second.pk)).exists()

    def test_the_requester_may_cancel(self, release_request, people) -> None:
        approval = release_request()

        services.approval_cancel(approval_id=approval.pk, principal=principal_for_user(people.requester),
                                 actor=Actor.for_user(people.requester), now=NOW)  # fmt: skip

        approval.refresh_from_db()
        assert approval.status == ApprovalStatus.CANCELLED


class TestExpiry:
    def test_expire_marks_only_requests_past_their_time(self, release_request, people) -> None:
        old = release_request(amount="1.00")
        fresh = release_request(amount="2.00", now=NOW + timedelta(hours=10))

        count = services.approvals_expire(now=NOW + timedelta(hours=72))

        old.refresh_from_db()
        fresh.refresh_from_db()
        assert count == 1
        assert (old.status, fresh.status) == (ApprovalStatus.EXPIRED, ApprovalStatus.PENDING)
        assert services.approvals_expire(now=NOW + timedelta(hours=72)) == 0
        with pytest.raises(services.ApprovalExpired):
            sign(old, people.bank1, now=NOW)


class TestPolicyChange:
    def test_an_approved_policy_change_installs_a_new_version(self, funded_reserve, people, merchant) -> None:
        approval = services.approval_request_create(
            action="change_policy", merchant=merchant,
            payload={"kind": "rolling", "currency": "USD", "percent_bp": 500, "hold_days": 60},
            principal=principal_for_user(people.requester), actor=Actor.for_user(people.requester), now=NOW,
        )  # fmt: skip
        diff = selectors.approval_diff(approval=approval, today=DAY)
        assert ("Rate", "10%", "5%") in diff
        assert ("Hold days", "30", "60") in diff

        sign(approval, people.bank1)
        sign(approval, people.acquirer)

        policy = selectors.current_policy(merchant_id=merchant.pk)
        assert (policy.version, policy.percent_bp, policy.hold_days, policy.approval_id) == (2, 500, 60, approval.pk)
        assert ReservePolicy.objects.filter(merchant=merchant).count() == 2

    def test_a_first_policy_cannot_be_set_twice_directly(self, rolling_policy, merchant) -> None:
        with pytest.raises(services.UnableToChangePolicy):
            services.reserve_policy_create_initial(merchant=merchant, kind="fixed", currency_code="USD", amount=5,
                                                   actor=Actor.system("t"), occurred_at=NOW)  # fmt: skip


class TestRuleChange:
    def test_changing_a_rule_is_itself_an_approval(self, partners, people) -> None:
        services.approval_rule_for("release_reserve")
        approval = services.approval_request_create(
            action="change_approval_rule", merchant=None,
            payload={"action": "release_reserve", "required_signatures": 1, "ttl_hours": 24,
                     "eligible_partners": ["acquirer", "bank"]},
            principal=principal_for_user(people.requester), actor=Actor.for_user(people.requester), now=NOW,
        )  # fmt: skip
        # Every active partner but the requester's may sign a rule change.
        assert set(approval.eligible_partners.all()) == {partners.bank, partners.acquirer, partners.other}

        sign(approval, people.outsider)
        assert ApprovalRule.objects.get(action="release_reserve").required_signatures == 2
        sign(approval, people.bank1)

        rule = ApprovalRule.objects.get(action="release_reserve")
        assert (rule.required_signatures, rule.ttl_hours, rule.version) == (1, 24, 2)
        assert set(rule.eligible_partners.values_list("reference", flat=True)) == {"acquirer", "bank"}

    def test_a_rule_needing_more_signatures_than_eligible_partners_is_refused(self, partners, people) -> None:
        """Such a rule could never execute; for rule changes it would lock the rules for good."""
        with pytest.raises(services.InvalidApprovalPayload, match="could never be satisfied"):
            services.approval_request_create(
                action="change_approval_rule", merchant=None,
                payload={"action": "change_approval_rule", "required_signatures": 3, "ttl_hours": 24,
                         "eligible_partners": ["acquirer", "bank"]},
                principal=principal_for_user(people.requester), actor=Actor.for_user(people.requester), now=NOW,
            )  # fmt: skip
        assert not ApprovalRequest.objects.exists()

    def test_a_rule_change_needs_the_rule_unchanged_since_the_request(self, partners, people) -> None:
        payload = {"action": "change_policy", "required_signatures": 3, "ttl_hours": 24, "eligible_partners": []}
        create = dict(action="change_approval_rule", merchant=None, principal=principal_for_user(people.requester),
                      actor=Actor.system("t"), now=NOW)  # fmt: skip
        first = services.approval_request_create(payload=payload, **create)
        second = services.approval_request_create(payload={**payload, "ttl_hours": 48}, **create)
        sign(first, people.bank1)
        sign(first, people.acquirer)
        sign(second, people.bank1)

        assert sign(second, people.acquirer).status == ApprovalStatus.SUPERSEDED


def test_make_user_helper_gives_approvers_the_sign_permission(partners) -> None:
    user = make_user("someone", partners.bank)
    assert user.has_perm("reserves.sign_approvalrequest")


class TestExecutionGuards:
    def test_one_person_cannot_sign_for_two_partners(self, release_request, people, partners) -> None:
        from reserves.models import PartnerMember

        approval = release_request()
        sign(approval, people.bank1)
        PartnerMember.objects.filter(user=people.bank1).update(partner=partners.acquirer)

        with pytest.raises(services.AlreadySigned):
            sign(approval, people.bank1)
        assert ApprovalSignature.objects.filter(approval=approval).count() == 1

    def test_a_release_larger_than_what_is_still_held_is_superseded(self, release_request, people, merchant) -> None:
        approval = release_request(amount="100.00")
        sign(approval, people.bank1)
        # The tranche matures and the engine releases it on schedule before the second signature.
        services.reserve_engine_run(run_date=DAY + timedelta(days=30), actor=Actor.system("t"), now=NOW)
        assert held(merchant) == 0

        done = sign(approval, people.acquirer)

        assert done.status == ApprovalStatus.SUPERSEDED
        assert done.result == {"reason": "reserve_below_amount", "held": "0.00"}
        assert not JournalEntry.objects.filter(idempotency_key=f"approval:{approval.pk}:release").exists()

    def test_a_policy_in_a_currency_the_ledger_does_not_keep_is_refused(self, merchant) -> None:
        with pytest.raises(services.UnableToChangePolicy):
            services.reserve_policy_create_initial(merchant=merchant, kind="fixed", currency_code="JPY", amount=5,
                                                   actor=Actor.system("t"), occurred_at=NOW)  # fmt: skip

import pytest

from audit.context import Actor
from disputes import services
from disputes.choices import RequestStatus, Status
from disputes.models import DisputeActionRequest
from tests.disputes.conftest import NOW, SYSTEM, add_required_evidence, balance, events, refreshed

pytestmark = pytest.mark.django_db


def request(dispute, user, action="submit"):
    return services.dispute_action_request_create(
        dispute=dispute, action=action, requested_by=user, actor=Actor.for_user(user), occurred_at=NOW, note="ready"
    )


class TestMakerChecker:
    def test_a_lead_approves_an_analysts_submission_and_the_letter_is_generated(self, dispute, analyst, lead) -> None:
        add_required_evidence(dispute)
        made = request(dispute, analyst)
        assert refreshed(dispute).status == Status.NEEDS_RESPONSE  # nothing moves before approval

        result = services.dispute_action_request_approve(
            request=made, approved_by=lead, actor=Actor.for_user(lead), occurred_at=NOW
        )

        assert (result.status, result.submitted_at) == (Status.UNDER_REVIEW, NOW)
        assert result.rebuttal_letter.name.endswith(".pdf")
        with result.rebuttal_letter.open("rb") as letter:
            content = letter.read()
        assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
        assert b"13.1" in content
        import hashlib

        assert hashlib.sha256(content).hexdigest() == result.rebuttal_letter_sha256
        made.refresh_from_db()
        assert (made.status, made.decided_by_id, made.decided_at) == (RequestStatus.APPROVED, lead.pk, NOW)
        (event,) = events("disputes.dispute.submitted", object_id=str(dispute.pk))
        assert event.data["acting_directly"] is False
        assert (event.data["maker"], event.data["checker"]) == (analyst.pk, lead.pk)
        assert event.actor_label == "lea"

    def test_nobody_approves_their_own_request(self, dispute, lead) -> None:
        add_required_evidence(dispute)
        made = request(dispute, lead)

        with pytest.raises(services.UnableToApproveRequest) as refused:
            services.dispute_action_request_approve(
                request=made, approved_by=lead, actor=Actor.for_user(lead), occurred_at=NOW
            )

        assert refused.value.code == "action_request_not_approvable"
        assert refreshed(dispute).status == Status.NEEDS_RESPONSE
        made.refresh_from_db()
        assert made.status == RequestStatus.PENDING

    def test_an_analyst_cannot_approve(self, dispute, analyst, lead) -> None:
        made = request(dispute, lead, action="accept")

        with pytest.raises(services.UnableToApproveRequest):
            services.dispute_action_request_approve(
                request=made, approved_by=analyst, actor=Actor.for_user(analyst), occurred_at=NOW
            )

        assert refreshed(dispute).status == Status.NEEDS_RESPONSE

    def test_an_approved_acceptance_moves_the_held_funds(self, dispute, merchant, analyst, lead) -> None:
        made = request(dispute, analyst, action="accept")

        services.dispute_action_request_approve(
            request=made, approved_by=lead, actor=Actor.for_user(lead), occurred_at=NOW
        )

        assert refreshed(dispute).status == Status.ACCEPTED
        assert (balance(merchant, "payable"), balance(merchant, "dispute_hold")) == (7200, 0)

    def test_a_rejected_request_leaves_the_dispute_as_it_was(self, dispute, analyst, lead) -> None:
        made = request(dispute, analyst, action="accept")

        services.dispute_action_request_reject(
            request=made, rejected_by=lead, actor=Actor.for_user(lead), occurred_at=NOW, note="fight it"
        )

        made.refresh_from_db()
        assert (made.status, made.decision_note) == (RequestStatus.REJECTED, "fight it")
        assert refreshed(dispute).status == Status.NEEDS_RESPONSE
        with pytest.raises(services.ActionRequestNotPending):
            services.dispute_action_request_approve(
                request=made, approved_by=lead, actor=Actor.for_user(lead), occurred_at=NOW
            )

    def test_one_pending_request_per_dispute(self, dispute, analyst) -> None:
        request(dispute, analyst, action="accept")

        with pytest.raises(services.ActionRequestAlreadyPending):
            request(dispute, analyst, action="accept")

    def test_a_submission_request_needs_complete_evidence(self, dispute, analyst) -> None:
        with pytest.raises(services.EvidenceIncomplete) as refused:
            request(dispute, analyst)

        assert refused.value.fields["missing"] == ["tracking_number", "proof_of_delivery", "customer_communication"]
        assert not DisputeActionRequest.objects.exists()

    def test_people_cannot_act_directly(self, dispute, analyst) -> None:
        with pytest.raises(services.ApprovalRequired):
            services.dispute_accept(
                dispute=dispute, actor=Actor.for_user(analyst), occurred_at=NOW, acting_directly=True
            )
        with pytest.raises(services.ApprovalRequired):
            services.dispute_accept(dispute=dispute, actor=SYSTEM, occurred_at=NOW)

        assert refreshed(dispute).status == Status.NEEDS_RESPONSE

    def test_automation_submits_directly_and_the_audit_row_says_so(self, dispute) -> None:
        add_required_evidence(dispute)

        result = services.dispute_submit(dispute=dispute, actor=SYSTEM, occurred_at=NOW, acting_directly=True)

        assert result.status == Status.UNDER_REVIEW
        (event,) = events("disputes.dispute.submitted", object_id=str(dispute.pk))
        assert event.data["acting_directly"] is True

    def test_a_pending_request_is_cancelled_when_the_dispute_closes(self, dispute, analyst) -> None:
        made = request(dispute, analyst, action="accept")

        services.dispute_expire(dispute=dispute, actor=SYSTEM, occurred_at=dispute.due_by)

        made.refresh_from_db()
        assert (made.status, made.decided_at) == (RequestStatus.CANCELLED, dispute.due_by)

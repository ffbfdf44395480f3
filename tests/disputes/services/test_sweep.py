from datetime import timedelta

import pytest
from django.core import mail

from disputes import services
from disputes.choices import Status
from disputes.models import DisputeAlert
from tests.disputes.conftest import NOW, SYSTEM, balance, events, refreshed

pytestmark = pytest.mark.django_db

DAY = 86400


def sweep(at):
    return services.disputes_sweep(now=at, actor=SYSTEM)


def thresholds(dispute) -> list[int]:
    return sorted(DisputeAlert.objects.filter(dispute=dispute).values_list("threshold_seconds", flat=True))


class TestAlerts:
    def test_each_threshold_alerts_exactly_once_even_when_run_twice(
        self, dispute, analyst, django_capture_on_commit_callbacks
    ) -> None:
        due = dispute.due_by  # NOW + 23 days
        with django_capture_on_commit_callbacks(execute=True):
            assert sweep(due - timedelta(days=8)).alerts_recorded == 0
            first = sweep(due - timedelta(days=7))
            again = sweep(due - timedelta(days=7))
            sweep(due - timedelta(days=2, hours=23))
            sweep(due - timedelta(days=2, hours=23))
            sweep(due - timedelta(hours=23))
            sweep(due - timedelta(hours=4))
            sweep(due - timedelta(hours=3))

        assert (first.alerts_recorded, first.notifications, again.alerts_recorded) == (1, 1, 0)
        assert thresholds(dispute) == [4 * 3600, DAY, 3 * DAY, 7 * DAY]
        assert len(events("disputes.dispute.deadline_alerted", object_id=str(dispute.pk))) == 4
        assert len(mail.outbox) == 4
        assert mail.outbox[0].to == ["ana@example.test"]  # unassigned: the compliance group
        assert "VD-00001" in mail.outbox[0].subject

    def test_thresholds_crossed_at_once_give_one_notification(
        self, dispute, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            result = sweep(dispute.due_by - timedelta(hours=20))

        assert (result.alerts_recorded, result.notifications) == (3, 1)
        assert thresholds(dispute) == [DAY, 3 * DAY, 7 * DAY]

    def test_the_assignee_is_alerted_when_there_is_one(
        self, open_dispute, analyst, lead, django_capture_on_commit_callbacks
    ) -> None:
        dispute = open_dispute(assignee=lead)

        with django_capture_on_commit_callbacks(execute=True):
            sweep(dispute.due_by - timedelta(days=6))

        assert [m.to for m in mail.outbox] == [["lea@example.test"]]
        assert DisputeAlert.objects.get(dispute=dispute).recipients == [lead.pk]

    def test_escalation_brings_a_new_round_of_alerts(self, dispute) -> None:
        sweep(dispute.due_by - timedelta(hours=1))
        services.dispute_evidence_add(dispute=dispute, kind="tracking_number", text="1Z", actor=SYSTEM, occurred_at=NOW)
        services.dispute_evidence_add(
            dispute=dispute, kind="proof_of_delivery", text="signed", actor=SYSTEM, occurred_at=NOW
        )
        services.dispute_evidence_add(
            dispute=dispute, kind="customer_communication", text="mail", actor=SYSTEM, occurred_at=NOW
        )
        services.dispute_submit(dispute=dispute, actor=SYSTEM, occurred_at=NOW, acting_directly=True)
        escalated = services.dispute_escalate(dispute=dispute, actor=SYSTEM, occurred_at=NOW + timedelta(days=30))

        result = sweep(escalated.due_by - timedelta(days=6))

        assert result.alerts_recorded == 1
        assert DisputeAlert.objects.filter(dispute=dispute, stage="pre_arbitration").count() == 1

    def test_alert_thresholds_come_from_settings(self, dispute, settings) -> None:
        settings.DISPUTES_ALERT_THRESHOLDS_SECONDS = [2 * DAY]

        sweep(dispute.due_by - timedelta(days=6))
        sweep(dispute.due_by - timedelta(days=1))

        assert thresholds(dispute) == [2 * DAY]


class TestExpiry:
    def test_at_due_by_an_unanswered_dispute_expires_with_its_ledger_entries(self, dispute, merchant) -> None:
        assert sweep(dispute.due_by - timedelta(seconds=1)).expired == 0

        result = sweep(dispute.due_by)
        again = sweep(dispute.due_by + timedelta(minutes=15))

        assert (result.expired, again.expired) == (1, 0)
        after = refreshed(dispute)
        assert (after.status, after.outcome_at) == (Status.EXPIRED, dispute.due_by)
        assert (
            balance(merchant, "payable"),
            balance(merchant, "dispute_hold"),
            balance(merchant, "fees_receivable"),
        ) == (
            7200,
            0,
            1500,
        )
        assert len(events("disputes.dispute.expired", object_id=str(dispute.pk))) == 1

    def test_a_submitted_dispute_does_not_expire(self, dispute) -> None:
        for kind in dispute.reason_code.required_evidence:
            services.dispute_evidence_add(dispute=dispute, kind=kind, text="x", actor=SYSTEM, occurred_at=NOW)
        services.dispute_submit(dispute=dispute, actor=SYSTEM, occurred_at=NOW, acting_directly=True)

        assert sweep(dispute.due_by + timedelta(days=1)).expired == 0
        assert refreshed(dispute).status == Status.UNDER_REVIEW


class TestSweepQueries:
    def test_only_due_disputes_are_read(self, open_dispute, capture, merchant, django_assert_max_num_queries) -> None:
        for _ in range(30):  # due in 23 days: outside every threshold
            open_dispute(original_entry=capture(merchant))

        with django_assert_max_num_queries(2):
            result = sweep(NOW)

        assert (result.expired, result.alerts_recorded) == (0, 0)

    def test_the_task_and_the_command_run_the_sweep(self, dispute) -> None:
        from io import StringIO

        from django.core.management import call_command

        from disputes.tasks import sweep_deadlines

        # The dispute was due weeks before the real clock's now: the task expires it.
        assert sweep_deadlines.apply(kwargs={}).get() == {"expired": 1, "alerts": 0, "notifications": 0}
        assert refreshed(dispute).status == Status.EXPIRED
        out = StringIO()
        call_command("sweep_disputes", "--dry-run", stdout=out)
        assert out.getvalue().startswith("[dry run] expired 0")

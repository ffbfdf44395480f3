from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from disputes.choices import RequestStatus, Status
from disputes.models import Dispute, DisputeActionRequest, DisputeEvidence
from tests.conftest import verify_second_factor
from tests.disputes.conftest import NOW, add_required_evidence, events, refreshed

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(open_dispute, capture, merchant):
    """Five disputes with staggered deadlines, created out of order, one closed."""
    disputes = [open_dispute(original_entry=capture(merchant), network_dispute_id=f"Q-{i}") for i in range(5)]
    for offset, dispute in zip([4, 1, 3, 0, 2], disputes, strict=True):
        Dispute.objects.filter(pk=dispute.pk).update(
            due_by=NOW + timedelta(days=offset), network_due_by=NOW + timedelta(days=30)
        )
    Dispute.objects.filter(pk=disputes[4].pk).update(status=Status.ACCEPTED, outcome_at=NOW)
    return disputes


class TestQueue:
    def test_open_disputes_most_urgent_first(self, queue, admin_client) -> None:
        response = admin_client.get(reverse("admin:disputes_dispute_changelist"))

        assert response.status_code == 200
        shown = [d.network_dispute_id for d in response.context["cl"].result_list]
        assert shown == ["Q-3", "Q-1", "Q-2", "Q-0"]  # Q-4 is closed
        assert b"sr-urgent-overdue" in response.content  # Q-3 is due at NOW, long past by the real clock

    def test_query_count_is_constant(
        self, queue, open_dispute, capture, merchant, admin_client, django_assert_max_num_queries
    ) -> None:
        url = reverse("admin:disputes_dispute_changelist")
        with django_assert_max_num_queries(20) as few:
            admin_client.get(url)
        for i in range(15):
            open_dispute(original_entry=capture(merchant), network_dispute_id=f"More-{i}")

        with django_assert_max_num_queries(len(few.captured_queries)):
            response = admin_client.get(url)

        assert len(response.context["cl"].result_list) == 19

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("?queue=closed", ["Q-4"]),
            ("?status__exact=accepted", ["Q-4"]),
            ("?network__exact=visa&q=Q-1", ["Q-1"]),
            ("?q=Acme", ["Q-3", "Q-1", "Q-2", "Q-0"]),
            ("?reason_code__category__exact=consumer_dispute&queue=all", ["Q-3", "Q-1", "Q-4", "Q-2", "Q-0"]),
            ("?due=overdue", ["Q-3", "Q-1", "Q-2", "Q-0"]),
            ("?q=acme", ["Q-3", "Q-1", "Q-2", "Q-0"]),  # the merchant's reference
            ("?q=Globex", []),
            ("?assignee=none", ["Q-3", "Q-1", "Q-2", "Q-0"]),
        ],
    )
    def test_filters_and_search(self, queue, admin_client, query, expected) -> None:
        response = admin_client.get(reverse("admin:disputes_dispute_changelist") + query)

        assert [d.network_dispute_id for d in response.context["cl"].result_list] == expected

    def test_the_assignee_filter_lists_compliance_staff_and_filters(self, queue, admin_client, analyst) -> None:
        Dispute.objects.filter(pk=queue[1].pk).update(assignee=analyst)
        url = reverse("admin:disputes_dispute_changelist")

        response = admin_client.get(f"{url}?assignee={analyst.pk}")

        assert [d.network_dispute_id for d in response.context["cl"].result_list] == ["Q-1"]
        assert f"?assignee={analyst.pk}".encode() in admin_client.get(url).content

    def test_assign_to_me(self, queue, client, analyst) -> None:
        verify_second_factor(client, analyst)

        response = client.post(
            reverse("admin:disputes_dispute_changelist"),
            {"action": "assign_to_me", "_selected_action": [queue[0].pk, queue[1].pk]},
        )

        assert response.status_code == 302
        assert sorted(Dispute.objects.filter(assignee=analyst).values_list("pk", flat=True)) == [
            queue[0].pk,
            queue[1].pk,
        ]
        assert len(events("disputes.dispute.assigned")) == 2

    def test_assign_to_someone_else(self, queue, admin_client, lead) -> None:
        url = reverse("admin:disputes_dispute_changelist")
        page = admin_client.post(url, {"action": "assign_to", "_selected_action": [queue[0].pk]})
        assert page.status_code == 200 and b"lea" in page.content

        admin_client.post(
            url, {"action": "assign_to", "_selected_action": [queue[0].pk], "confirm": "yes", "assignee": lead.pk}
        )

        assert refreshed(queue[0]).assignee_id == lead.pk


class TestDetail:
    def test_detail_shows_allowed_actions_evidence_history_and_ledger_entries(self, dispute, admin_client) -> None:
        response = admin_client.get(reverse("admin:disputes_dispute_change", args=[dispute.pk]))

        assert response.status_code == 200
        assert [value for value, _ in response.context["buttons"]] == ["request_submit", "request_accept"]
        assert b"disputes.dispute.opened" in response.content
        assert b"dispute_open_hold" in response.content and b"dispute_fee" in response.content
        assert b"<strong>missing</strong>: Carrier tracking number" in response.content

    def test_evidence_upload_through_the_admin(self, dispute, admin_client) -> None:
        url = reverse("admin:disputes_dispute_evidence", args=[dispute.pk])

        admin_client.post(
            url, {"kind": "proof_of_delivery", "file": SimpleUploadedFile("pod.pdf", b"%PDF-1.4\n%%EOF\n")}
        )
        admin_client.post(url, {"kind": "receipt", "file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00evil")})

        assert list(DisputeEvidence.objects.filter(dispute=dispute).values_list("filename", flat=True)) == ["pod.pdf"]

    def test_maker_checker_through_the_admin(self, dispute, client, analyst, lead) -> None:
        add_required_evidence(dispute)
        verify_second_factor(client, analyst)
        client.post(reverse("admin:disputes_dispute_transition", args=[dispute.pk]), {"action": "request_accept"})
        made = DisputeActionRequest.objects.get(dispute=dispute)
        decide = reverse("admin:disputes_dispute_decide", args=[dispute.pk, made.pk])

        client.post(decide, {"decision": "approve"})  # the analyst may not approve (not a lead, and the maker)
        assert refreshed(dispute).status == Status.NEEDS_RESPONSE

        verify_second_factor(client, lead)
        client.post(decide, {"decision": "approve"})

        made.refresh_from_db()
        assert (made.status, refreshed(dispute).status) == (RequestStatus.APPROVED, Status.ACCEPTED)

    def test_a_decision_needs_a_reason_and_an_illegal_one_shows_an_error(self, dispute, admin_client) -> None:
        url = reverse("admin:disputes_dispute_transition", args=[dispute.pk])

        admin_client.post(url, {"action": "resolve_won", "reason": ""})
        response = admin_client.post(url, {"action": "resolve_won", "reason": "network letter"}, follow=True)

        assert refreshed(dispute).status == Status.NEEDS_RESPONSE
        assert b"invalid_transition" in response.content

    def test_reason_codes_list(self, catalog, admin_client) -> None:
        response = admin_client.get(reverse("admin:disputes_reasoncode_changelist") + "?network__exact=amex")

        assert response.status_code == 200
        assert response.context["cl"].result_count == 10


class TestDashboardAndMetrics:
    def test_tile_counts_and_ratio(self, dispute, rf, admin_user) -> None:
        from disputes import dashboard, selectors

        ratios = selectors.merchant_dispute_ratios(
            month_start=NOW.replace(day=1), month_end=NOW.replace(month=4, day=1)
        )
        assert [(r.disputes, r.transactions, str(r.ratio)) for r in ratios] == [(1, 1, "1")]

        request = rf.get("/admin/")
        request.user = admin_user
        tile = dashboard.disputes_tile(request)
        assert tile.title == "Disputes"
        assert ("Needs response", "1") in tile.rows
        assert ("Overdue", "1") in tile.rows

    def test_programme_thresholds_flag_a_merchant(self, dispute, settings) -> None:
        from disputes import selectors

        settings.DISPUTES_MONITORING_PROGRAMMES = [{"name": "Test programme", "ratio": "0.5", "count": 0}]

        (ratio,) = selectors.merchant_dispute_ratios(
            month_start=NOW.replace(day=1), month_end=NOW.replace(month=4, day=1)
        )

        assert ratio.programmes_exceeded == ("Test programme",)

    def test_metrics(self, dispute) -> None:
        from disputes.metrics import GAUGES, DisputesCollector

        collector = DisputesCollector()
        assert [m.name for m in collector.describe()] == list(GAUGES)
        values = {m.name: m.samples[0].value for m in collector.collect()}
        assert values["strongroom_disputes_overdue"] == 1
        assert values["strongroom_disputes_open"] == 1

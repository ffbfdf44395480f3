"""`/api/v1/disputes`: opening, reading, evidence, maker-checker submit/accept, resolve, escalate — over the
API plumbing (tokens, scopes, tenancy, idempotency, error envelope)."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from disputes import services
from disputes.choices import RequestStatus, Status
from disputes.models import Dispute, DisputeActionRequest, DisputeEvidence
from tenants.models import Merchant, Partner
from tests.disputes.conftest import NOW, SYSTEM, add_required_evidence, balance, events, refreshed
from tests.security.helpers import bearer, make_client

pytestmark = pytest.mark.django_db

API = "/api/v1/disputes"
BOTH = ["disputes:read", "disputes:write"]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


def client_for(scopes: list[str] = BOTH, **tenant) -> APIClient:  # noqa: ANN003
    return bearer(APIClient(), make_client(scopes=scopes, **tenant))


def post(client: APIClient, path: str, body: dict | None = None, *, key: str | None = None, **extra):  # noqa: ANN003,ANN201
    options = {"format": "json"} if "format" not in extra else {}
    return client.post(API + path, body or {}, HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex, **options, **extra)


def upload(client: APIClient, dispute_id: int, name: str, content: bytes, *, kind: str = "receipt", key=None):  # noqa: ANN001,ANN201
    body = {"kind": kind, "file": SimpleUploadedFile(name, content)}
    return post(client, f"/{dispute_id}/evidence", body, key=key, format="multipart")


def error(response) -> dict:  # noqa: ANN001
    return {name: value for name, value in response.json()["error"].items() if name != "request_id"}


@pytest.fixture
def platform(db) -> APIClient:
    return client_for(platform=True)


@pytest.fixture
def automation(db) -> APIClient:
    return client_for([*BOTH, "disputes:submit"], platform=True)


@pytest.fixture
def acme(merchant) -> APIClient:
    return client_for(merchant=merchant)


@pytest.fixture
def other_merchant(db) -> Merchant:
    return Merchant.objects.create(reference="globex", name="Globex")


def open_body(original, merchant, **overrides) -> dict:  # noqa: ANN001,ANN003
    body = {
        "journal_entry_id": str(original.pk),
        "merchant_id": merchant.pk,
        "network": "visa",
        "reason_code": "13.1",
        "disputed_amount": "25.00",
        "currency_code": "USD",
        "network_dispute_id": "VD-API-1",
    }
    body.update(overrides)
    return body


class TestOpen:
    def test_platform_opens_a_chargeback_holding_the_amount_and_charging_the_fee(
        self, platform, catalog, original, merchant
    ):
        payable_before = balance(merchant, "payable")

        response = post(platform, "", open_body(original, merchant))

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "needs_response" and body["stage"] == "chargeback"
        assert body["disputed_amount"] == "25.00" and body["fee"] == "15.00"
        assert body["reason_code"]["code"] == "13.1" and body["reason_code"]["category"] == "consumer_dispute"
        dispute = Dispute.objects.get(pk=body["id"])
        assert body["due_by"] == dispute.due_by.isoformat().replace("+00:00", "Z")
        assert dispute.due_by < dispute.network_due_by
        assert set(body["ledger_entries"]) == {"hold", "fee"}
        assert balance(merchant, "dispute_hold") == 2500
        assert balance(merchant, "payable") == payable_before - 2500
        assert body["missing_evidence"] and body["pending_approval"] is None

    def test_an_unknown_reason_code_is_a_400_naming_the_valid_ones(self, platform, catalog, original, merchant):
        response = post(platform, "", open_body(original, merchant, reason_code="4853"))

        assert response.status_code == 400
        body = error(response)
        assert body["code"] == "unknown_reason_code"
        assert "10.4" in body["message"] and "13.1" in body["message"]
        assert "13.1" in body["fields"]["valid_reason_codes"] and "4853" not in body["fields"]["valid_reason_codes"]
        assert not Dispute.objects.exists()

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"disputed_amount": "100.01"}, "amount_exceeds_original"),
            ({"disputed_amount": 25.0}, "invalid_amount"),
            ({"disputed_amount": "25.001"}, "invalid_amount"),
            ({"currency_code": "XXQ"}, "unknown_currency"),
            ({"network": "diners"}, "validation_error"),
            ({"merchant_id": 999_999}, "validation_error"),
            ({"journal_entry_id": str(uuid.uuid4())}, "validation_error"),
            ({"opened_at": "2999-01-01T00:00:00Z"}, "validation_error"),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_written(self, platform, catalog, original, merchant, overrides, code):
        response = post(platform, "", open_body(original, merchant, **overrides))

        assert response.status_code == 400, response.content
        assert error(response)["code"] == code
        assert not Dispute.objects.exists()

    def test_an_amount_over_the_original_is_explained_in_the_currency(self, platform, catalog, original, merchant):
        response = post(platform, "", open_body(original, merchant, disputed_amount="100.01"))

        assert "(100.01 USD)" in error(response)["message"] and "(100.00)" in error(response)["message"]

    def test_the_original_must_be_the_merchants(self, platform, catalog, original, other_merchant):
        response = post(platform, "", open_body(original, other_merchant))

        assert response.status_code == 400 and error(response)["code"] == "invalid_dispute"

    def test_a_duplicate_network_id_is_a_409(self, platform, open_dispute, original, merchant):
        open_dispute(network_dispute_id="VD-API-1", amount=100)

        response = post(platform, "", open_body(original, merchant))

        assert response.status_code == 409 and error(response)["code"] == "dispute_already_exists"

    def test_a_retry_with_the_same_key_replays_and_opens_once(self, platform, catalog, original, merchant):
        first = post(platform, "", open_body(original, merchant), key="open-1")
        again = post(platform, "", open_body(original, merchant), key="open-1")

        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
        assert Dispute.objects.count() == 1

    def test_post_without_an_idempotency_key_is_refused(self, platform, catalog, original, merchant):
        response = platform.post(API, open_body(original, merchant), format="json")

        assert response.status_code == 400 and error(response)["code"] == "idempotency_key_required"

    def test_merchant_clients_cannot_open_disputes(self, acme, catalog, original, merchant):
        response = post(acme, "", open_body(original, merchant))

        assert response.status_code == 403 and error(response)["code"] == "permission_denied"

    def test_a_read_only_token_cannot_open(self, catalog, original, merchant):
        reader = client_for(["disputes:read"], platform=True)

        assert post(reader, "", open_body(original, merchant)).status_code == 403

    def test_an_inquiry_moves_no_money(self, platform, catalog, original, merchant):
        response = post(platform, "", open_body(original, merchant, stage="inquiry"))

        assert response.status_code == 201
        assert response.json()["ledger_entries"] == {} and response.json()["fee"] == "0.00"


class TestRead:
    @pytest.fixture
    def two_merchants_disputes(self, open_dispute, capture, merchant, other_merchant):
        mine = open_dispute(network_dispute_id="VD-1")
        theirs = open_dispute(network_dispute_id="MC-1", network="mastercard", reason_code="4853",
                              merchant=other_merchant, original_entry=capture(other_merchant))  # fmt: skip
        return mine, theirs

    def test_a_merchant_sees_only_its_own_disputes(self, acme, two_merchants_disputes):
        mine, theirs = two_merchants_disputes

        listed = acme.get(API)

        assert listed.status_code == 200
        assert [d["id"] for d in listed.json()["results"]] == [mine.pk]
        assert acme.get(f"{API}/{theirs.pk}").status_code == 404
        assert acme.get(f"{API}/{mine.pk}").json()["network_dispute_id"] == "VD-1"

    def test_a_merchant_cannot_act_on_another_merchants_dispute(self, acme, two_merchants_disputes):
        _, theirs = two_merchants_disputes

        response = upload(acme, theirs.pk, "r.pdf", PDF)

        assert response.status_code == 404
        assert not DisputeEvidence.objects.exists()

    def test_a_partner_sees_the_disputes_of_the_merchants_it_serves(self, two_merchants_disputes, merchant):
        mine, _ = two_merchants_disputes
        bank = Partner.objects.create(name="Sponsor Bank", kind="sponsor_bank")
        bank.merchants.add(merchant)

        listed = client_for(["disputes:read"], partner=bank).get(API)

        assert [d["id"] for d in listed.json()["results"]] == [mine.pk]

    def test_filters_and_ordering(self, platform, two_merchants_disputes, other_merchant):
        mine, theirs = two_merchants_disputes
        services.dispute_accept(dispute=mine, actor=SYSTEM, occurred_at=timezone.now(), acting_directly=True)

        def ids(query: str) -> list[int]:
            response = platform.get(f"{API}?{query}")
            assert response.status_code == 200, response.content
            return [d["id"] for d in response.json()["results"]]

        assert ids("status=accepted") == [mine.pk]
        assert ids("network=mastercard") == [theirs.pk]
        assert ids(f"merchant={other_merchant.pk}") == [theirs.pk]
        soon = theirs.due_by + timedelta(seconds=1)
        assert ids(f"due_before={soon.isoformat().replace('+00:00', 'Z')}") == sorted(
            [mine.pk, theirs.pk], key=lambda pk: Dispute.objects.get(pk=pk).due_by
        )
        assert ids(f"due_before={(theirs.due_by - timedelta(days=400)).isoformat().replace('+00:00', 'Z')}") == []
        assert ids("ordering=-id") == [theirs.pk, mine.pk]

    @pytest.mark.parametrize("query", ["ordering=merchant__name", "status=open", "limit=0", "due_before=soon"])
    def test_bad_queries_are_400s(self, platform, query):
        response = platform.get(f"{API}?{query}")

        assert response.status_code == 400 and error(response)["code"] == "validation_error"

    def test_the_list_is_most_urgent_first_by_default(self, platform, open_dispute, capture, merchant):
        later = open_dispute(network_dispute_id="VD-late", occurred_at=NOW + timedelta(days=5))
        sooner = open_dispute(network_dispute_id="VD-soon", original_entry=capture(merchant))

        assert [d["id"] for d in platform.get(API).json()["results"]] == [sooner.pk, later.pk]


class TestEvidence:
    def test_the_merchant_uploads_a_pdf_stored_with_its_hash(self, acme, dispute):
        response = upload(acme, dispute.pk, "../../Receipt <1>.pdf", PDF)

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["content_type"] == "application/pdf" and body["size"] == len(PDF)
        assert body["filename"] == "Receipt_1.pdf"
        import hashlib

        assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
        detail = acme.get(f"{API}/{dispute.pk}").json()
        assert [e["id"] for e in detail["evidence"]] == [body["id"]]

    def test_text_evidence_as_json(self, acme, dispute):
        response = post(acme, f"/{dispute.pk}/evidence", {"kind": "tracking_number", "text": "1Z999AA10123456784"})

        assert response.status_code == 201 and response.json()["text"] == "1Z999AA10123456784"

    def test_a_renamed_executable_is_refused(self, acme, dispute):
        response = upload(acme, dispute.pk, "invoice.pdf", ELF)

        assert response.status_code == 415 and error(response)["code"] == "evidence_type_not_allowed"
        assert not DisputeEvidence.objects.exists()

    @override_settings(DISPUTES_EVIDENCE_MAX_BYTES=4096)
    def test_an_oversized_file_is_refused(self, acme, dispute):
        response = upload(acme, dispute.pk, "big.pdf", PDF + b"0" * 5000)

        assert response.status_code == 413 and error(response)["code"] == "evidence_too_large"
        assert not DisputeEvidence.objects.exists()

    @override_settings(DISPUTES_EVIDENCE_MAX_BYTES=4096)
    def test_an_oversized_body_is_refused_before_it_is_read(self, acme, dispute):
        response = upload(acme, dispute.pk, "big.pdf", PDF + b"0" * 200_000)

        assert response.status_code == 413 and error(response)["code"] == "evidence_too_large"

    def test_a_retried_upload_is_stored_once(self, acme, dispute):
        first = upload(acme, dispute.pk, "r.pdf", PDF, key="ev-1")
        again = upload(acme, dispute.pk, "r.pdf", PDF, key="ev-1")
        other = upload(acme, dispute.pk, "r.pdf", PDF + b"%changed\n", key="ev-1")

        assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
        assert other.status_code == 422 and error(other)["code"] == "idempotency_key_reused"
        assert DisputeEvidence.objects.count() == 1

    def test_a_partner_cannot_add_evidence(self, dispute, merchant):
        bank = Partner.objects.create(name="Sponsor Bank", kind="sponsor_bank")
        bank.merchants.add(merchant)

        response = upload(client_for(partner=bank), dispute.pk, "r.pdf", PDF)

        assert response.status_code == 403


class TestSubmitAndAccept:
    def test_submit_records_a_request_and_the_status_stays(self, platform, dispute, lead):
        add_required_evidence(dispute)

        response = post(platform, f"/{dispute.pk}/submit", {"note": "ready"})

        assert response.status_code == 202, response.content
        body = response.json()
        assert body["result"] == "pending_approval" and body["status"] == "needs_response"
        assert body["pending_approval"]["action"] == "submit"
        assert body["pending_approval"]["requested_by"] == "API client test client"
        request = DisputeActionRequest.objects.get()
        assert request.requested_by_client is not None and request.requested_by is None

        services.dispute_action_request_approve(request=request, approved_by=lead, actor=SYSTEM,
                                                occurred_at=timezone.now())  # fmt: skip

        detail = platform.get(f"{API}/{dispute.pk}").json()
        assert detail["status"] == "under_review" and detail["pending_approval"] is None
        assert detail["rebuttal_letter_sha256"]
        assert refreshed(dispute).rebuttal_letter

    def test_submit_with_missing_evidence_is_refused(self, platform, dispute):
        response = post(platform, f"/{dispute.pk}/submit")

        assert response.status_code == 409 and error(response)["code"] == "evidence_incomplete"
        assert error(response)["fields"]["missing"]

    def test_a_second_request_while_one_waits_is_a_409(self, platform, dispute):
        add_required_evidence(dispute)
        assert post(platform, f"/{dispute.pk}/submit").status_code == 202

        response = post(platform, f"/{dispute.pk}/accept")

        assert response.status_code == 409 and error(response)["code"] == "action_request_pending"

    def test_automation_submits_directly_and_is_recorded_as_such(self, automation, dispute):
        add_required_evidence(dispute)

        response = post(automation, f"/{dispute.pk}/submit")

        assert response.status_code == 200, response.content
        assert response.json()["result"] == "submitted" and response.json()["status"] == "under_review"
        assert events("disputes.dispute.submitted")[-1].data["acting_directly"] is True
        assert not DisputeActionRequest.objects.exists()

    def test_automation_accepts_directly_moving_the_hold_to_the_issuer(self, automation, dispute, merchant):
        response = post(automation, f"/{dispute.pk}/accept")

        assert response.status_code == 200 and response.json()["status"] == "accepted"
        assert balance(merchant, "dispute_hold") == 0
        assert balance(None, "issuer_settlement") == 2500

    def test_a_merchant_cannot_submit(self, acme, dispute):
        assert post(acme, f"/{dispute.pk}/submit").status_code == 403
        assert refreshed(dispute).status == Status.NEEDS_RESPONSE


class TestResolveAndEscalate:
    @pytest.fixture
    def under_review(self, automation, dispute) -> Dispute:
        add_required_evidence(dispute)
        assert post(automation, f"/{dispute.pk}/submit").status_code == 200
        return dispute

    def test_won_returns_the_held_amount_to_the_merchant(self, platform, under_review, merchant):
        payable_before = balance(merchant, "payable")

        response = post(platform, f"/{under_review.pk}/resolve", {"outcome": "won", "reason": "network letter"})

        assert response.status_code == 200 and response.json()["status"] == "won"
        assert balance(merchant, "dispute_hold") == 0
        assert balance(merchant, "payable") == payable_before + 2500
        assert "outcome" in response.json()["ledger_entries"]

    def test_lost_sends_the_held_amount_to_the_issuer(self, platform, under_review, merchant):
        payable_before = balance(merchant, "payable")

        response = post(platform, f"/{under_review.pk}/resolve", {"outcome": "lost"})

        assert response.status_code == 200 and response.json()["status"] == "lost"
        assert balance(merchant, "dispute_hold") == 0 and balance(merchant, "payable") == payable_before
        assert balance(None, "issuer_settlement") == 2500

    def test_escalation_moves_to_the_next_stage_with_a_new_deadline(self, platform, under_review):
        before = refreshed(under_review).due_by

        response = post(platform, f"/{under_review.pk}/escalate", {"reason": "pre-arb from issuer"})

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["stage"] == "pre_arbitration" and body["status"] == "needs_response"
        assert refreshed(under_review).due_by > before

    @pytest.mark.parametrize(
        ("path", "body"),
        [("/resolve", {"outcome": "won"}), ("/escalate", {})],
    )
    def test_illegal_transitions_are_409s(self, platform, dispute, path, body):
        response = post(platform, f"/{dispute.pk}{path}", body)

        assert response.status_code == 409 and error(response)["code"] == "invalid_transition"
        assert refreshed(dispute).status == Status.NEEDS_RESPONSE

    def test_closed_disputes_refuse_submit_and_evidence(self, automation, acme, dispute):
        assert post(automation, f"/{dispute.pk}/accept").status_code == 200

        assert error(post(automation, f"/{dispute.pk}/submit"))["code"] == "invalid_transition"
        assert error(upload(acme, dispute.pk, "r.pdf", PDF))["code"] == "evidence_frozen"

    def test_a_bad_outcome_is_a_400(self, platform, under_review):
        response = post(platform, f"/{under_review.pk}/resolve", {"outcome": "draw"})

        assert response.status_code == 400 and error(response)["code"] == "validation_error"

    def test_merchants_cannot_resolve(self, acme, under_review):
        assert post(acme, f"/{under_review.pk}/resolve", {"outcome": "won"}).status_code == 403


def test_pending_requests_made_over_the_api_are_approved_by_any_compliance_lead(platform, dispute, lead):
    """An API client has no user: the four-eyes rule is met by any lead (a person other than the client)."""
    response = post(platform, f"/{dispute.pk}/accept")
    assert response.status_code == 202

    request = DisputeActionRequest.objects.get(status=RequestStatus.PENDING)
    services.dispute_action_request_approve(request=request, approved_by=lead, actor=SYSTEM, occurred_at=timezone.now())

    assert refreshed(dispute).status == Status.ACCEPTED

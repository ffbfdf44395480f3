import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disputes import services
from disputes.evidence import EvidenceRejected, EvidenceTooLarge, EvidenceTypeNotAllowed, checklist, sanitise_filename
from disputes.models import DisputeEvidence
from tests.disputes.conftest import NOW, SYSTEM, add_required_evidence, events

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def upload(dispute, name, content, kind="proof_of_delivery"):
    return services.dispute_evidence_add(
        dispute=dispute, kind=kind, upload=SimpleUploadedFile(name, content), actor=SYSTEM, occurred_at=NOW
    )


class TestEvidenceFiles:
    def test_a_pdf_is_stored_with_its_sha256_under_a_sanitised_name(self, dispute) -> None:
        item = upload(dispute, "../../etc/Proof of délivery (1).PDF", PDF)

        assert (item.content_type, item.size, item.sha256) == (
            "application/pdf",
            len(PDF),
            hashlib.sha256(PDF).hexdigest(),
        )
        assert item.filename == "Proof_of_delivery_1.pdf"
        with item.file.open("rb") as stored:
            assert stored.read() == PDF
        (event,) = events("disputes.evidence.added", object_id=str(dispute.pk))
        assert event.data["sha256"] == item.sha256

    def test_the_type_comes_from_the_content_not_the_name(self, dispute) -> None:
        item = upload(dispute, "photo.pdf", PNG)

        assert (item.content_type, item.filename) == ("image/png", "photo.png")

    def test_a_renamed_executable_is_refused(self, dispute) -> None:
        with pytest.raises(EvidenceTypeNotAllowed) as refused:
            upload(dispute, "invoice.pdf", EXE)

        assert (refused.value.code, refused.value.status_code) == ("evidence_type_not_allowed", 415)
        assert not DisputeEvidence.objects.exists()

    def test_an_oversized_upload_is_refused(self, dispute, settings) -> None:
        settings.DISPUTES_EVIDENCE_MAX_BYTES = 64

        with pytest.raises(EvidenceTooLarge) as refused:
            upload(dispute, "big.pdf", PDF + b"x" * 64)

        assert refused.value.status_code == 413
        assert not DisputeEvidence.objects.exists()

    def test_a_pdf_with_javascript_is_refused(self, dispute) -> None:
        with pytest.raises(EvidenceRejected):
            upload(dispute, "x.pdf", PDF + b"<< /S /JavaScript /JS (app.alert(1)) >>")

    def test_evidence_is_frozen_after_submission(self, dispute) -> None:
        add_required_evidence(dispute)
        services.dispute_submit(dispute=dispute, actor=SYSTEM, occurred_at=NOW, acting_directly=True)

        with pytest.raises(services.EvidenceFrozen):
            upload(dispute, "late.pdf", PDF)


class TestTextEvidence:
    def test_a_card_number_in_text_is_refused(self, dispute) -> None:
        with pytest.raises(EvidenceRejected):
            services.dispute_evidence_add(
                dispute=dispute,
                kind="customer_communication",
                text="card 4111 1111 1111 1111",
                actor=SYSTEM,
                occurred_at=NOW,
            )

    def test_a_tracking_number_is_stored(self, dispute) -> None:
        item = services.dispute_evidence_add(
            dispute=dispute, kind="tracking_number", text=" 1Z999AA10123456784 ", actor=SYSTEM, occurred_at=NOW
        )

        assert (item.text, item.sha256, item.stage) == ("1Z999AA10123456784", "", "chargeback")

    def test_text_and_file_together_are_refused(self, dispute) -> None:
        with pytest.raises(EvidenceRejected):
            services.dispute_evidence_add(
                dispute=dispute,
                kind="receipt",
                text="x",
                upload=SimpleUploadedFile("a.pdf", PDF),
                actor=SYSTEM,
                occurred_at=NOW,
            )


class TestChecklist:
    def test_the_checklist_shows_what_is_missing(self, dispute) -> None:
        services.dispute_evidence_add(
            dispute=dispute, kind="tracking_number", text="1Z9", actor=SYSTEM, occurred_at=NOW
        )
        provided = DisputeEvidence.objects.filter(dispute=dispute).values_list("kind", flat=True)

        rows = checklist(required=dispute.reason_code.required_evidence, provided=provided)

        assert [(kind, present) for kind, _, present in rows] == [
            ("tracking_number", True),
            ("proof_of_delivery", False),
            ("customer_communication", False),
        ]


def test_sanitise_filename_never_keeps_a_path_or_a_hidden_name() -> None:
    assert sanitise_filename("..\\..\\.bashrc", extension="pdf") == "bashrc.pdf"
    assert sanitise_filename("", extension="png") == "evidence.png"

"""Credits admin: wallets with balances, lots and history; the grant action; the CSV import."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from credits import services
from credits.models import CreditImport, CreditLot
from tests.credits.conftest import SYSTEM, balances

pytestmark = pytest.mark.django_db


def upload(admin_client, django_capture_on_commit_callbacks, text: str):  # noqa: ANN001, ANN201
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:credits_creditimport_upload"),
            {"file": SimpleUploadedFile("grants.csv", text.encode(), content_type="text/csv")},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return CreditImport.objects.order_by("-pk").first()


class TestWalletAdmin:
    def test_changelist_search_filter_and_detail_show_balances_lots_and_history(
        self, admin_client, wallet, grant
    ) -> None:
        lot = grant(wallet, 1250, expires_at=timezone.now() + timedelta(days=2), occurred_at=timezone.now())
        services.credit_consume(wallet=wallet, amount=250, actor=SYSTEM, occurred_at=timezone.now())

        changelist = admin_client.get(reverse("admin:credits_wallet_changelist"))
        assert changelist.status_code == 200
        assert "10.00 USD" in changelist.content.decode()
        assert (
            admin_client.get(reverse("admin:credits_wallet_changelist"), {"q": wallet.customer_reference}).status_code
            == 200
        )
        soon = admin_client.get(reverse("admin:credits_wallet_changelist"), {"expiring": "soon"})
        assert wallet.customer_reference in soon.content.decode()
        detail = admin_client.get(reverse("admin:credits_wallet_change", args=[wallet.pk])).content.decode()
        assert "12.50" in detail and "Credit consumption" in detail and "consume" in detail
        lots = admin_client.get(reverse("admin:credits_creditlot_changelist"), {"expiring": "soon"}).content.decode()
        assert f">{lot.pk}<" in lots

    def test_the_expiring_soon_filter_leaves_out_wallets_without_such_lots(
        self, admin_client, make_wallet, grant
    ) -> None:
        later = make_wallet()
        grant(later, 100, expires_at=timezone.now() + timedelta(days=60), occurred_at=timezone.now())
        soon = admin_client.get(reverse("admin:credits_wallet_changelist"), {"expiring": "soon"})
        assert later.customer_reference not in soon.content.decode()

    def test_the_grant_action_asks_for_a_reason_and_grants(self, admin_client, make_wallet) -> None:
        a, b = make_wallet(), make_wallet()
        url = reverse("admin:credits_wallet_changelist")
        page = admin_client.post(url, {"action": "grant_credits", "_selected_action": [a.pk, b.pk]})
        assert page.status_code == 200 and "reason" in page.content.decode()

        admin_client.post(
            url, {"action": "grant_credits", "_selected_action": [a.pk, b.pk], "confirm": "yes", "amount": "7.50",
                  "reason": "goodwill"},
        )  # fmt: skip

        assert balances(a) == (750, 0, 750) and balances(b) == (750, 0, 750)
        assert CreditLot.objects.filter(wallet=a, source="admin", reason="goodwill").exists()
        assert AuditEvent.objects.filter(action="credits.lot.granted", actor_kind="staff").count() == 2

    def test_a_bad_grant_amount_is_a_message_not_a_500(self, admin_client, wallet) -> None:
        response = admin_client.post(
            reverse("admin:credits_wallet_changelist"),
            {"action": "grant_credits", "_selected_action": [wallet.pk], "confirm": "yes", "amount": "1.001",
             "reason": "x"}, follow=True,
        )  # fmt: skip
        assert response.status_code == 200
        assert "invalid_amount" in response.content.decode()
        assert balances(wallet) == (0, 0, 0)


class TestCsvImport:
    def test_a_bad_row_imports_nothing_and_is_named(
        self, admin_client, django_capture_on_commit_callbacks, make_wallet
    ) -> None:
        a, b = make_wallet(), make_wallet()
        text = (
            f"wallet,amount,expires_at,reason\n{a.pk},10.00,,ok\n{b.pk},1.001,,too precise\n{a.pk},5.00,,ok\n"
            "999999,1.00,,x\n"
        )

        job = upload(admin_client, django_capture_on_commit_callbacks, text)

        assert job.status == "invalid"
        assert [e["row"] for e in job.errors] == [2, 4]
        page = admin_client.get(reverse("admin:credits_creditimport_run", args=[job.pk])).content.decode()
        assert "Row 2:" in page and "Row 4:" in page and "nothing was imported" in page
        assert "Import 2 grant" not in page
        response = admin_client.post(reverse("admin:credits_creditimport_apply", args=[job.pk]), follow=True)
        assert "Only a validated import" in response.content.decode()
        assert not CreditLot.objects.filter(wallet__in=[a, b]).exists()
        assert balances(a) == (0, 0, 0)

    def test_a_good_file_is_previewed_then_granted_all_at_once(
        self, admin_client, django_capture_on_commit_callbacks, make_wallet, settings
    ) -> None:
        settings.CREDITS_IMPORT_CHUNK_ROWS = 2  # progress is recorded per chunk
        a, b = make_wallet(), make_wallet()
        soon = (timezone.now() + timedelta(days=3)).isoformat()
        text = f"wallet,amount,expires_at,reason\n{a.pk},10.00,{soon},promo\n{b.pk},2.50,,promo\n{a.pk},1.00,,promo\n"

        job = upload(admin_client, django_capture_on_commit_callbacks, text)

        assert (job.status, job.processed_rows, job.total_rows, job.errors) == ("validated", 3, 3, [])
        page = admin_client.get(reverse("admin:credits_creditimport_run", args=[job.pk])).content.decode()
        assert "Import 3 grant(s)" in page and "2.50 USD" in page
        progress = admin_client.get(reverse("admin:credits_creditimport_progress", args=[job.pk])).json()
        assert (progress["status"], progress["processed_rows"], progress["done"]) == ("validated", 3, True)
        assert balances(a) == (0, 0, 0)

        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(reverse("admin:credits_creditimport_apply", args=[job.pk]))

        job.refresh_from_db()
        assert (job.status, job.lots_created) == ("applied", 3)
        assert balances(a) == (1100, 0, 1100) and balances(b) == (250, 0, 250)
        assert AuditEvent.objects.filter(action="credits.import.applied", object_id=str(job.pk)).exists()
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(reverse("admin:credits_creditimport_apply", args=[job.pk]))
        assert balances(a) == (1100, 0, 1100)

    def test_a_row_failing_at_import_time_rolls_back_every_row(
        self, admin_client, django_capture_on_commit_callbacks, make_wallet
    ) -> None:
        a = make_wallet()
        text = f"wallet,amount,expires_at,reason\n{a.pk},10.00,,promo\n{a.pk},2.00,,promo\n"
        job = upload(admin_client, django_capture_on_commit_callbacks, text)
        # Between check and import, row 2's grant is made another way with the same idempotency key.
        services.credit_grant(
            wallet=a,
            amount=1,
            reason="other",
            idempotency_key=f"import:{job.pk}:2",
            actor=SYSTEM,
            occurred_at=timezone.now(),
        )

        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(reverse("admin:credits_creditimport_apply", args=[job.pk]))

        job.refresh_from_db()
        assert job.status == "failed"
        assert [e["row"] for e in job.errors] == [2]
        assert job.errors[0]["message"].startswith("Row 2: ")
        assert balances(a) == (1, 0, 1)

    def test_a_file_without_the_columns_is_refused_on_upload(self, admin_client) -> None:
        response = admin_client.post(
            reverse("admin:credits_creditimport_upload"),
            {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")},
        )
        assert response.status_code == 200
        assert "invalid_import" in response.content.decode()
        assert not CreditImport.objects.exists()


def test_other_admin_pages_render(admin_client, wallet, grant) -> None:
    grant(wallet, 100)
    reservation = services.reservation_create(
        wallet=wallet, amount=10, ttl_seconds=60, actor=SYSTEM, occurred_at=timezone.now()
    )
    for name in ("creditunit", "creditlot", "reservation", "consumption", "creditexpiry", "creditimport"):
        assert admin_client.get(reverse(f"admin:credits_{name}_changelist")).status_code == 200, name
    assert admin_client.get(reverse("admin:credits_reservation_change", args=[reservation.pk])).status_code == 200
    assert admin_client.get(reverse("admin:credits_creditimport_add")).status_code == 302

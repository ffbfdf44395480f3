"""Review findings: each test failed before its fix (500s, stuck imports, doubled rows, hijacked references)."""

import uuid

import pytest
from rest_framework.test import APIClient

from credits import services
from credits.choices import ImportStatus
from credits.models import Consumption, CreditImport, CreditLot, CreditUnit, Reservation, Wallet
from tests.credits.conftest import NOW, SYSTEM, balances
from tests.security.helpers import bearer, make_client

pytestmark = pytest.mark.django_db

API = "/api/v1/credits/"


def post(client: APIClient, path: str, body: dict | None = None):  # noqa: ANN201
    return client.post(API + path, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


@pytest.fixture
def acme(merchant) -> APIClient:
    return bearer(APIClient(), make_client(scopes=["credits:read", "credits:write"], merchant=merchant))


@pytest.fixture
def wallet_id(acme) -> int:
    response = post(acme, "wallets", {"owner_ref": "customer:c-1", "unit": "USD"})
    assert response.status_code == 201, response.json()
    return response.json()["id"]


class TestHugeAmounts:
    def test_a_grant_beyond_the_ledgers_range_is_invalid_amount_not_a_500(self, acme, wallet_id) -> None:
        response = post(acme, "grants", {"wallet": wallet_id, "amount": "9" * 25, "reason": "typo"})

        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid_amount"
        assert not CreditLot.objects.exists()

    def test_a_batch_names_the_row_of_a_grant_beyond_the_ledgers_range(self, acme, wallet_id) -> None:
        grants = [
            {"wallet": wallet_id, "amount": "1.00", "reason": "ok"},
            {"wallet": wallet_id, "amount": "92233720368547758.07", "reason": "typo"},
        ]
        response = post(acme, "grants/batch", {"grants": grants})

        assert response.status_code == 400, response.content
        assert response.json()["error"]["fields"]["row"] == 2
        assert not CreditLot.objects.exists()

    def test_the_largest_grant_is_still_accepted(self, wallet, grant) -> None:
        grant(wallet, services.MAX_GRANT_AMOUNT)
        assert balances(wallet) == (services.MAX_GRANT_AMOUNT, 0, services.MAX_GRANT_AMOUNT)


class TestHugeIds:
    def test_a_batch_naming_a_wallet_id_beyond_64_bits_is_a_400_not_a_500(self, acme) -> None:
        response = post(acme, "grants/batch", {"grants": [{"wallet": 10**30, "amount": "1.00", "reason": "x"}]})

        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "validation_error"


class TestUnits:
    def test_a_wallet_in_the_iso_code_that_carries_a_custom_unit_is_refused_not_a_500(self, acme) -> None:
        services.credit_unit_create(
            code="POINTS", exponent=0, ledger_currency_code="KRW", actor=SYSTEM, occurred_at=NOW
        )

        response = post(acme, "wallets", {"owner_ref": "customer:c-1", "unit": "KRW"})

        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "invalid_unit"
        assert not Wallet.objects.exists() and not CreditUnit.objects.filter(code="KRW").exists()


class TestReservationReferences:
    def test_a_consumption_cannot_take_the_reference_a_commit_will_use(self, acme, wallet_id) -> None:
        post(acme, "grants", {"wallet": wallet_id, "amount": "10.00", "reason": "promo"})
        reservation = post(acme, "reservations", {"wallet": wallet_id, "amount": "3.00", "ttl_seconds": 300}).json()

        reference = f"reservation:{reservation['id']}"
        hijack = post(acme, "consume", {"wallet": wallet_id, "amount": "3.00", "reference": reference})
        commit = post(acme, f"reservations/{reservation['id']}/commit")

        assert hijack.status_code == 409 and hijack.json()["error"]["code"] == "reference_reused"
        assert commit.status_code == 200, commit.content
        assert Reservation.objects.get().status == "committed"
        assert list(Consumption.objects.values_list("reference", "amount")) == [
            (f"reservation:{reservation['id']}", 300)
        ]

    def test_a_consumption_does_not_replay_a_commits_consumption(self, wallet, grant) -> None:
        grant(wallet, 1000)
        reservation = services.reservation_create(wallet=wallet, amount=300, actor=SYSTEM, occurred_at=NOW)
        services.reservation_commit(reservation=reservation, actor=SYSTEM, occurred_at=NOW)

        with pytest.raises(services.ReferenceReused):
            services.credit_consume(
                wallet=wallet, amount=300, reference=f"reservation:{reservation.pk}", actor=SYSTEM, occurred_at=NOW
            )
        assert balances(wallet) == (700, 0, 700)


def validate(content: bytes) -> CreditImport:
    job = services.credit_import_create(filename="grants.csv", content=content, actor=SYSTEM, occurred_at=NOW)
    return services.credit_import_validate(import_id=job.pk, now=NOW)


class TestCsvImport:
    @pytest.mark.parametrize(
        ("cell", "where"),
        [
            ("wallet", "\u00b2"),  # a Unicode digit: str.isdigit() but not int()
            ("wallet", "9" * 30),  # beyond a 64-bit pk
            ("expires_at", "2027-13-45T00:00:00Z"),  # well formed, no such date
            ("amount", "9" * 25),  # beyond the ledger's range
        ],
    )
    def test_a_malformed_cell_is_a_row_error_not_a_stuck_import(self, wallet, cell, where) -> None:
        row = {"wallet": str(wallet.pk), "amount": "10.00", "expires_at": "", "reason": "promo", cell: where}
        content = "wallet,amount,expires_at,reason\n{wallet},{amount},{expires_at},{reason}\n".format(**row).encode()

        job = validate(content)

        assert job.status == ImportStatus.INVALID
        assert [error["row"] for error in job.errors] == [1]

    def test_blank_rows_are_skipped_and_rows_are_named_by_their_line(self, wallet) -> None:
        content = (
            f"\ufeffwallet,amount,expires_at,reason\n{wallet.pk},1.00,,a\n\n,,,\n{wallet.pk},2.001,,b\n,,,\n"
        ).encode()

        job = validate(content)

        assert job.total_rows == 2
        assert job.errors == [{"row": 4, "message": "Row 4: USD amounts have at most 2 decimal place(s); got '2.001'."}]

    def test_a_unit_column_naming_another_unit_is_refused(self, wallet) -> None:
        job = validate(f"wallet,unit,amount,reason\n{wallet.pk},USD,1.00,a\n{wallet.pk},POINTS,5,b\n".encode())

        assert job.status == ImportStatus.INVALID
        assert [error["row"] for error in job.errors] == [2]
        assert "counts USD" in job.errors[0]["message"]


class TestImportApplyFailure:
    def test_an_unexpected_failure_marks_the_import_failed_not_applying(self, wallet, monkeypatch) -> None:
        job = validate(f"wallet,amount,expires_at,reason\n{wallet.pk},1.00,,promo\n".encode())
        assert job.status == ImportStatus.VALIDATED

        def outage(**kwargs):  # noqa: ANN003, ANN202
            raise ConnectionError("database went away")

        monkeypatch.setattr(services, "credit_grants_batch", outage)
        with pytest.raises(ConnectionError):
            services.credit_import_apply(import_id=job.pk, actor=SYSTEM, occurred_at=NOW)

        job.refresh_from_db()
        assert job.status == ImportStatus.FAILED and "nothing was granted" in job.errors[0]["message"]
        assert not CreditLot.objects.filter(source="import").exists()

"""`/api/v1/credits/`: wallets, grants, consumption, reservations over the API plumbing."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from credits import services
from credits.models import CreditLot, Reservation, Wallet
from tenants.models import Merchant
from tests.credits.conftest import NOW, SYSTEM
from tests.security.helpers import bearer, make_client

pytestmark = pytest.mark.django_db

API = "/api/v1/credits/"
BOTH = ["credits:read", "credits:write"]


def client_for(scopes: list[str] = BOTH, **tenant) -> APIClient:  # noqa: ANN003
    return bearer(APIClient(), make_client(scopes=scopes, **tenant))


def post(client: APIClient, path: str, body: dict | None = None, key: str | None = None):  # noqa: ANN201
    return client.post(API + path, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def error(response) -> dict:  # noqa: ANN001
    return {name: value for name, value in response.json()["error"].items() if name != "request_id"}


@pytest.fixture
def acme(merchant) -> APIClient:
    return client_for(merchant=merchant)


@pytest.fixture
def platform() -> APIClient:
    return client_for(platform=True)


@pytest.fixture
def funded(acme) -> dict:
    """A customer wallet of Acme with 10.00 USD (expiring in 10 days) and 5.00 USD (no expiry)."""
    wallet = post(acme, "wallets", {"owner_ref": "customer:c-42", "unit": "USD", "customer_email": "c@example.com"})
    assert wallet.status_code == 201, wallet.json()
    soon = (timezone.now() + timedelta(days=10)).isoformat()
    assert (
        post(
            acme, "grants", {"wallet": wallet.json()["id"], "amount": "10.00", "reason": "promo", "expires_at": soon}
        ).status_code
        == 201
    )
    assert (
        post(acme, "grants", {"wallet": wallet.json()["id"], "amount": "5.00", "reason": "welcome"}).status_code == 201
    )
    return wallet.json()


class TestWallets:
    def test_a_merchant_opens_a_customer_wallet_and_reads_its_balances_and_lots(self, acme, funded, merchant) -> None:
        body = acme.get(f"{API}wallets/{funded['id']}").json()

        assert (body["owner_ref"], body["unit"]) == ("customer:c-42", "USD")
        assert (body["available"], body["reserved"], body["total"]) == ("15.00", "0.00", "15.00")
        assert [(lot["amount"], lot["remaining"], lot["reason"]) for lot in body["lots"]] == [
            ("10.00", "10.00", "promo"), ("5.00", "5.00", "welcome"),
        ]  # fmt: skip
        wallet = Wallet.objects.get(pk=funded["id"])
        assert (wallet.merchant_id, wallet.customer_email) == (merchant.pk, "c@example.com")
        assert "customer_email" not in body

    def test_the_transactions_are_the_wallets_ledger_statement(self, acme, funded) -> None:
        post(acme, "consume", {"wallet": funded["id"], "amount": "2.50", "reference": "o-1"})

        body = acme.get(f"{API}wallets/{funded['id']}/transactions").json()

        assert [(t["kind"], t["amount"], t["balance_after"]) for t in body["results"]] == [
            ("grant", "10.00", "10.00"), ("grant", "5.00", "15.00"), ("consume", "-2.50", "12.50"),
        ]  # fmt: skip

    def test_a_merchant_cannot_open_a_wallet_for_another_merchant(self, acme) -> None:
        other = Merchant.objects.create(reference="globex", name="Globex")
        response = post(acme, "wallets", {"owner_ref": f"merchant:{other.pk}", "unit": "USD"})
        assert response.status_code == 403
        assert error(response)["code"] == "permission_denied"

    def test_a_second_wallet_for_the_same_owner_is_a_conflict(self, acme, funded) -> None:
        response = post(acme, "wallets", {"owner_ref": "customer:c-42", "unit": "USD"})
        assert response.status_code == 409
        assert error(response) == {
            "code": "wallet_exists", "message": "This owner already has a wallet in this unit.",
            "fields": {"wallet": funded["id"]},
        }  # fmt: skip

    def test_an_unknown_unit_is_refused(self, acme) -> None:
        response = post(acme, "wallets", {"owner_ref": "customer:x", "unit": "STARS"})
        assert (response.status_code, error(response)["code"]) == (400, "unknown_unit")


class TestTenantIsolation:
    def test_another_merchants_client_sees_and_touches_nothing(self, funded) -> None:
        globex = client_for(merchant=Merchant.objects.create(reference="globex", name="Globex"))
        wallet = funded["id"]

        responses = [
            globex.get(f"{API}wallets/{wallet}"),
            globex.get(f"{API}wallets/{wallet}/transactions"),
            post(globex, "grants", {"wallet": wallet, "amount": "1.00", "reason": "x"}),
            post(globex, "consume", {"wallet": wallet, "amount": "1.00", "reference": "steal"}),
            post(globex, "reservations", {"wallet": wallet, "amount": "1.00", "ttl_seconds": 60}),
            post(globex, "grants/batch", {"grants": [{"wallet": wallet, "amount": "1.00", "reason": "x"}]}),
        ]

        assert [r.status_code for r in responses] == [404] * 6
        assert {error(r)["code"] for r in responses} == {"wallet_not_found"}
        unknown = post(globex, "consume", {"wallet": 999_999, "amount": "1.00", "reference": "x"})
        assert error(unknown) == error(responses[3]) | {"fields": {"wallet": 999_999}}
        assert CreditLot.objects.filter(wallet_id=wallet).count() == 2

    def test_another_merchants_reservation_is_not_found(self, acme, funded) -> None:
        reservation = post(acme, "reservations", {"wallet": funded["id"], "amount": "1.00", "ttl_seconds": 60}).json()
        globex = client_for(merchant=Merchant.objects.create(reference="globex", name="Globex"))

        assert globex.get(f"{API}reservations/{reservation['id']}").status_code == 404
        response = post(globex, f"reservations/{reservation['id']}/commit")
        assert (response.status_code, error(response)["code"]) == (404, "reservation_not_found")
        assert Reservation.objects.get(pk=reservation["id"]).status == "pending"

    def test_the_owners_ledger_client_cannot_move_the_wallet_account_around_the_lots(self, funded, merchant) -> None:
        """The wallet's ledger account carries a role, so only credits' flows post to it."""
        from ledger import services as ledger_services
        from ledger.models import Account

        wallet_account = Wallet.objects.get(pk=funded["id"]).account
        own = ledger_services.account_create(
            name="Acme cash", type="liability", currency_code="USD", owner_kind="merchant", merchant=merchant,
            actor=SYSTEM, occurred_at=NOW,
        )  # fmt: skip
        ledger_client = client_for(scopes=["ledger:read", "ledger:write"], merchant=merchant)

        response = ledger_client.post(
            "/api/v1/ledger/transfers",
            {"from_account": wallet_account.account_number, "to_account": own.account_number, "amount": "1.00",
             "currency_code": "USD", "description": "around the lots"},
            format="json", HTTP_IDEMPOTENCY_KEY="bypass-1",
        )  # fmt: skip

        assert (response.status_code, error(response)["code"]) == (403, "permission_denied")
        assert Account.objects.get(pk=wallet_account.pk).posted_debits == wallet_account.posted_debits

    def test_the_platform_sees_every_wallet(self, funded, platform) -> None:
        assert platform.get(f"{API}wallets/{funded['id']}").status_code == 200

    def test_scopes_are_required(self, funded, merchant) -> None:
        reader = client_for(scopes=["credits:read"], merchant=merchant)
        assert reader.get(f"{API}wallets/{funded['id']}").status_code == 200
        response = post(reader, "consume", {"wallet": funded["id"], "amount": "1.00", "reference": "r"})
        assert (response.status_code, error(response)["code"]) == (403, "permission_denied")
        assert (
            client_for(scopes=["ledger:read"], merchant=merchant).get(f"{API}wallets/{funded['id']}").status_code == 403
        )


class TestConsume:
    def test_consume_takes_the_expiring_lot_first(self, acme, funded) -> None:
        response = post(acme, "consume", {"wallet": funded["id"], "amount": "12.00", "reference": "order-1"})

        assert response.status_code == 201
        lots = funded_lots(funded["id"])
        assert [(u["lot"], u["amount"]) for u in response.json()["lots"]] == [(lots[0], "10.00"), (lots[1], "2.00")]
        assert acme.get(f"{API}wallets/{funded['id']}").json()["available"] == "3.00"

    def test_insufficient_credits_is_a_422_in_the_error_envelope(self, acme, funded) -> None:
        response = post(acme, "consume", {"wallet": funded["id"], "amount": "15.01", "reference": "order-2"})

        assert response.status_code == 422
        body = response.json()["error"]
        assert body["code"] == "insufficient_credits"
        assert body["fields"] == {"wallet": funded["id"], "available": "15.00", "requested": "15.01", "unit": "USD"}
        assert "request_id" in body
        assert acme.get(f"{API}wallets/{funded['id']}").json()["total"] == "15.00"

    def test_amounts_are_decimal_strings(self, acme, funded) -> None:
        for amount in (5, "1.001", "0", "-1.00"):
            response = post(acme, "consume", {"wallet": funded["id"], "amount": amount, "reference": f"r{amount}"})
            assert (response.status_code, error(response)["code"]) == (400, "invalid_amount"), amount

    def test_the_idempotency_key_is_required_and_replays(self, acme, funded) -> None:
        body = {"wallet": funded["id"], "amount": "1.00", "reference": "order-3"}
        missing = acme.post(f"{API}consume", body, format="json")
        assert (missing.status_code, error(missing)["code"]) == (400, "idempotency_key_required")

        first = post(acme, "consume", body, key="k-1")
        again = post(acme, "consume", body, key="k-1")

        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert acme.get(f"{API}wallets/{funded['id']}").json()["total"] == "14.00"


def funded_lots(wallet_id: int) -> list[int]:
    return list(CreditLot.objects.filter(wallet_id=wallet_id).order_by("pk").values_list("pk", flat=True))


class TestGrants:
    def test_a_batch_is_all_or_nothing_and_names_the_row(self, acme, funded) -> None:
        grants = [
            {"wallet": funded["id"], "amount": "1.00", "reason": "a"},
            {"wallet": funded["id"], "amount": "2.00", "reason": "b", "expires_at": "2020-01-01T00:00:00Z"},
        ]
        refused = post(acme, "grants/batch", {"grants": grants})

        assert refused.status_code == 400
        assert (error(refused)["code"], error(refused)["fields"]["row"]) == ("invalid_grant", 2)
        assert len(funded_lots(funded["id"])) == 2

        grants[1].pop("expires_at")
        done = post(acme, "grants/batch", {"grants": grants})
        assert done.status_code == 201
        assert [lot["amount"] for lot in done.json()["lots"]] == ["1.00", "2.00"]
        assert acme.get(f"{API}wallets/{funded['id']}").json()["total"] == "18.00"


class TestReservations:
    def test_reserve_commit_partly_then_nothing_more(self, acme, funded) -> None:
        created = post(acme, "reservations", {"wallet": funded["id"], "amount": "4.00", "ttl_seconds": 300})
        assert created.status_code == 201
        rid = created.json()["id"]
        assert acme.get(f"{API}wallets/{funded['id']}").json()["reserved"] == "4.00"

        committed = post(acme, f"reservations/{rid}/commit", {"amount": "3.00"})

        assert committed.status_code == 200
        assert (committed.json()["status"], committed.json()["committed_amount"]) == ("committed", "3.00")
        assert committed.json()["consumption"]["amount"] == "3.00"
        wallet = acme.get(f"{API}wallets/{funded['id']}").json()
        assert (wallet["available"], wallet["reserved"], wallet["total"]) == ("12.00", "0.00", "12.00")
        again = post(acme, f"reservations/{rid}/release")
        assert (again.status_code, error(again)["code"]) == (409, "reservation_not_pending")

    def test_release_and_an_overlong_commit(self, acme, funded) -> None:
        rid = post(acme, "reservations", {"wallet": funded["id"], "amount": "4.00", "ttl_seconds": 300}).json()["id"]
        too_much = post(acme, f"reservations/{rid}/commit", {"amount": "4.01"})
        assert (too_much.status_code, error(too_much)["code"]) == (400, "invalid_commit_amount")

        released = post(acme, f"reservations/{rid}/release")

        assert (released.status_code, released.json()["status"]) == (200, "released")
        assert acme.get(f"{API}wallets/{funded['id']}").json()["available"] == "15.00"

    def test_a_reservation_beyond_the_balance_is_422(self, acme, funded) -> None:
        response = post(acme, "reservations", {"wallet": funded["id"], "amount": "20.00", "ttl_seconds": 60})
        assert (response.status_code, error(response)["code"]) == (422, "insufficient_credits")


class TestSchema:
    def test_the_schema_lists_the_credits_endpoints(self, platform) -> None:
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
        if response.status_code != 200:  # the schema may need a token
            response = platform.get("/api/schema/", HTTP_ACCEPT="application/json")
        text = response.content.decode()
        assert "/api/v1/credits/consume" in text
        assert "/api/v1/credits/reservations/{id}/commit" in text


def test_a_custom_unit_wallet_counts_in_its_own_exponent(platform, merchant) -> None:
    services.credit_unit_create(
        code="POINTS", exponent=0, ledger_currency_code="KRW", actor=SYSTEM, occurred_at=timezone.now()
    )
    wallet = post(platform, "wallets", {"owner_ref": f"merchant:{merchant.pk}", "unit": "POINTS"}).json()
    post(platform, "grants", {"wallet": wallet["id"], "amount": "250", "reason": "loyalty"})
    assert post(platform, "consume", {"wallet": wallet["id"], "amount": "2.5", "reference": "x"}).status_code == 400
    assert post(platform, "consume", {"wallet": wallet["id"], "amount": "100", "reference": "y"}).status_code == 201
    body = platform.get(f"{API}wallets/{wallet['id']}").json()
    assert (body["unit"], body["total"], body["owner_ref"]) == ("POINTS", "150", f"merchant:{merchant.pk}")

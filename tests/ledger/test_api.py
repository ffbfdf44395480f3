"""`/api/v1/ledger/`: every endpoint over the API plumbing (tokens, scopes, tenancy, idempotency)."""

import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from ledger import services
from ledger.choices import AccountType, BalanceRule, OwnerKind
from ledger.models import Account, JournalEntry, JournalLine
from tenants.models import Merchant
from tests.ledger.conftest import NOW, refreshed
from tests.security.helpers import bearer, make_client

pytestmark = pytest.mark.django_db

API = "/api/v1/ledger/"
BOTH = ["ledger:read", "ledger:write"]


def client_for(scopes: list[str] = BOTH, **tenant) -> APIClient:  # noqa: ANN003
    return bearer(APIClient(), make_client(scopes=scopes, **tenant))


def post(client: APIClient, path: str, body: dict | None = None, key: str | None = None):  # noqa: ANN201
    key = key or uuid.uuid4().hex
    return client.post(API + path, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def error(response) -> dict:  # noqa: ANN001
    return {name: value for name, value in response.json()["error"].items() if name != "request_id"}


def legs(*specs: tuple[str, str, object]) -> dict:
    """An entry body from (account_number, side, amount) triples."""
    return {"lines": [{"account_number": n, "side": side, "amount": amount} for n, side, amount in specs]}


def lines_of(body: dict) -> list[tuple[str, str, str, str]]:
    return [(line["account_number"], line["side"], line["amount"], line["phase"]) for line in body["lines"]]


@pytest.fixture
def platform() -> APIClient:
    return client_for(platform=True)


@pytest.fixture
def other_merchant(db) -> Merchant:
    return Merchant.objects.create(reference="globex", name="Globex")


@pytest.fixture
def acme(merchant) -> APIClient:
    return client_for(merchant=merchant)


@pytest.fixture
def wallets(make_account, merchant, fund) -> tuple[Account, Account]:
    """Two protected USD wallets of the merchant; the first holds 100.00."""
    options = {"type": AccountType.LIABILITY, "balance_rule": BalanceRule.DEBITS_WITHIN_CREDITS,
               "owner_kind": OwnerKind.MERCHANT, "merchant": merchant}  # fmt: skip
    first = make_account(account_number="W-1", name="Wallet 1", **options)
    second = make_account(account_number="W-2", name="Wallet 2", **options)
    fund(first, 10_000)
    return first, second


@pytest.fixture
def foreign(make_account, other_merchant) -> Account:
    return make_account(
        account_number="G-1", type=AccountType.LIABILITY, owner_kind=OwnerKind.MERCHANT, merchant=other_merchant
    )


def transfer(client: APIClient, amount: str = "25.00", **extra):  # noqa: ANN003, ANN201
    body = {"from_account": "W-1", "to_account": "W-2", "amount": amount, "currency_code": "USD",
            "description": "p2p", **extra}  # fmt: skip
    return post(client, "transfers", body)


class TestAccountCreate:
    def test_a_platform_client_opens_an_account_for_a_merchant(self, platform, merchant) -> None:
        response = post(platform, "accounts", {"account_number": "ACME-USD-1", "account_type": "liability",
                        "name": "Acme wallet", "currency_code": "USD", "balance_rule": "debits_within_credits",
                        "owner": f"merchant:{merchant.pk}", "metadata": {"kyc": "ok"}})  # fmt: skip

        assert response.status_code == 201
        body = response.json()
        created_at = body.pop("created_at")
        assert created_at
        assert body == {
            "account_number": "ACME-USD-1", "name": "Acme wallet", "account_type": "liability", "currency_code": "USD",
            "status": "active", "balance_rule": "debits_within_credits", "owner": f"merchant:{merchant.pk}",
            "role": "", "address": None, "metadata": {"kyc": "ok"}, "version": 0,
            "balances": {"posted": "0.00", "pending": "0.00", "available": "0.00"},
        }  # fmt: skip
        assert Account.objects.get(account_number="ACME-USD-1").merchant_id == merchant.pk

    def test_a_tenant_client_owns_what_it_creates_and_cannot_set_another_owner(
        self, acme, merchant, other_merchant
    ) -> None:
        body = {"account_number": "A-1", "account_type": "asset", "name": "Float", "currency_code": "JPY"}

        created = post(acme, "accounts", body)
        refused = post(acme, "accounts", {**body, "account_number": "A-2", "owner": f"merchant:{other_merchant.pk}"})

        assert created.status_code == 201
        assert created.json()["owner"] == f"merchant:{merchant.pk}"
        assert created.json()["balances"] == {"posted": "0", "pending": "0", "available": "0"}
        assert refused.status_code == 403
        assert error(refused)["code"] == "permission_denied"

    @pytest.mark.parametrize(
        ("change", "code", "field"),
        [
            ({"account_number": "merchant:1:payable:USD"}, "validation_error", "account_number"),
            ({"currency_code": "XXX"}, "unknown_currency", None),
            ({"account_type": "cash"}, "validation_error", "account_type"),
        ],
    )
    def test_refuses_bad_fields(self, platform, change, code, field) -> None:
        body = {"account_number": "OK-1", "account_type": "asset", "name": "Cash", "currency_code": "USD", **change}

        response = post(platform, "accounts", body)

        assert response.status_code == 400
        assert error(response)["code"] == code
        if field:
            assert field in error(response)["fields"]


class TestAccountDetail:
    def test_balances_are_decimal_strings(self, acme, wallets, actor) -> None:
        first, second = wallets
        services.transfer_pend(debit_account=first, credit_account=second, amount=2_050, actor=actor, occurred_at=NOW)

        response = acme.get(API + "accounts/W-1")

        assert response.status_code == 200
        body = response.json()
        assert body["balances"] == {"posted": "100.00", "pending": "-20.50", "available": "79.50"}
        assert (body["account_number"], body["version"], body["owner"]) == ("W-1", 2, f"merchant:{first.merchant_id}")

    def test_another_tenants_account_answers_exactly_like_an_unknown_one(self, acme, foreign) -> None:
        theirs = acme.get(API + "accounts/G-1")
        unknown = acme.get(API + "accounts/NOPE-1")

        assert theirs.status_code == unknown.status_code == 404
        assert error(theirs)["code"] == "account_not_found"
        assert json.dumps(error(theirs)).replace("G-1", "X") == json.dumps(error(unknown)).replace("NOPE-1", "X")

    def test_no_token_is_a_401_and_a_missing_scope_a_403(self, api_client, wallets) -> None:
        anonymous = api_client.get(API + "accounts/W-1")
        writer_only = client_for(["ledger:write"], merchant=wallets[0].merchant).get(API + "accounts/W-1")
        reader_only = post(client_for(["ledger:read"], platform=True), "transfers", {})

        assert anonymous.status_code == 401
        assert error(anonymous)["code"] == "not_authenticated"
        assert (writer_only.status_code, error(writer_only)["code"]) == (403, "permission_denied")
        assert (reader_only.status_code, error(reader_only)["code"]) == (403, "permission_denied")


class TestBalance:
    def test_now_and_as_of_a_past_time(self, platform, wallets, actor) -> None:
        first, second = wallets
        services.transfer_create(
            debit_account=first, credit_account=second, amount=1_234, actor=actor, occurred_at=NOW + timedelta(hours=1)
        )

        now = platform.get(API + "accounts/W-1/balance").json()
        before = platform.get(API + "accounts/W-1/balance", {"as_of": (NOW + timedelta(minutes=30)).isoformat()})
        ancient = platform.get(API + "accounts/W-1/balance", {"as_of": "2000-01-01T00:00:00Z"}).json()

        assert now == {"account_number": "W-1", "currency_code": "USD", "as_of": None, "posted": "87.66",
                       "pending": "0.00", "available": "87.66", "version": 2}  # fmt: skip
        assert before.status_code == 200
        assert (before.json()["posted"], before.json()["pending"]) == ("100.00", None)
        assert ancient["posted"] == "0.00"

    def test_a_malformed_as_of_is_a_400(self, platform, wallets) -> None:
        response = platform.get(API + "accounts/W-1/balance", {"as_of": "yesterday"})

        assert response.status_code == 400
        assert "as_of" in error(response)["fields"]


class TestStatement:
    @pytest.fixture
    def history(self, wallets, actor) -> Account:
        """W-1: +100.00 then 12 payments of 1.00 … 12.00 to W-2."""
        first, second = wallets
        for n in range(1, 13):
            services.transfer_create(
                debit_account=first, credit_account=second, amount=n * 100, actor=actor, occurred_at=NOW
            )
        return first

    def test_pages_through_the_lines_with_the_running_balance(self, acme, history) -> None:
        first = acme.get(API + "accounts/W-1/entries", {"limit": 5})
        second = acme.get(first.json()["next"])

        assert first.status_code == second.status_code == 200
        rows = first.json()["results"]
        assert [(r["account_version"], r["side"], r["amount"], r["balance_after"]) for r in rows] == [
            (1, "credit", "100.00", "100.00"), (2, "debit", "1.00", "99.00"), (3, "debit", "2.00", "97.00"),
            (4, "debit", "3.00", "94.00"), (5, "debit", "4.00", "90.00"),
        ]  # fmt: skip
        assert [r["balance_after"] for r in second.json()["results"]] == ["85.00", "79.00", "72.00", "64.00", "55.00"]
        assert rows[1]["description"] == "" and rows[1]["entry_id"]

    def test_newest_first_and_a_bad_limit(self, acme, history) -> None:
        newest = acme.get(API + "accounts/W-1/entries", {"limit": 1, "ordering": "-account_version"}).json()
        refused = acme.get(API + "accounts/W-1/entries", {"limit": 0})

        assert [(r["account_version"], r["balance_after"]) for r in newest["results"]] == [(13, "22.00")]
        assert refused.status_code == 400

    def test_the_query_count_does_not_grow_with_the_page(self, acme, history, django_assert_max_num_queries) -> None:
        with django_assert_max_num_queries(3):  # client, account, lines (with their entries)
            small = acme.get(API + "accounts/W-1/entries", {"limit": 2})
        with django_assert_max_num_queries(3):
            large = acme.get(API + "accounts/W-1/entries", {"limit": 13})

        assert (len(small.json()["results"]), len(large.json()["results"])) == (2, 13)

    def test_another_tenants_statement_is_a_404(self, acme, foreign) -> None:
        assert acme.get(API + "accounts/G-1/entries").status_code == 404


class TestEntries:
    def test_posts_a_balanced_entry_with_exact_amounts(self, acme, wallets) -> None:
        response = post(acme, "entries", {"description": "split", "metadata": {"order": "o-1"}, "lines": [
            {"account_number": "W-1", "side": "debit", "amount": "30.05"},
            {"account_number": "W-2", "side": "credit", "amount": "30.00"},
            {"account_number": "W-2", "side": "credit", "amount": "0.05"},
        ]})  # fmt: skip

        assert response.status_code == 201
        body = response.json()
        assert (body["status"], body["hold"], body["description"], body["metadata"]) == (
            "posted", False, "split", {"order": "o-1"},
        )  # fmt: skip
        assert lines_of(body) == [
            ("W-1", "debit", "30.05", "posted"), ("W-2", "credit", "30.00", "posted"),
            ("W-2", "credit", "0.05", "posted"),
        ]  # fmt: skip
        assert refreshed(wallets[0]).posted_balance == 6_995

    def test_a_replayed_request_answers_the_same_without_a_second_entry(self, acme, wallets) -> None:
        body = {"lines": [{"account_number": "W-1", "side": "debit", "amount": "1.00"},
                          {"account_number": "W-2", "side": "credit", "amount": "1.00"}]}  # fmt: skip

        first = post(acme, "entries", body, key="pay-1")
        again = post(acme, "entries", body, key="pay-1")

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert JournalEntry.objects.filter(lines__account=wallets[1]).count() == 1
        assert refreshed(wallets[0]).posted_balance == 9_900

    def test_the_idempotency_key_is_required(self, acme, wallets) -> None:
        response = acme.post(API + "entries", {}, format="json")

        assert (response.status_code, error(response)["code"]) == (400, "idempotency_key_required")

    @pytest.mark.parametrize(
        ("amount", "why"),
        [(10.5, "a JSON number"), ("10.555", "too many decimals"), ("-10.00", "negative"), ("0.00", "zero"),
         ("1e3", "exponent")],
    )  # fmt: skip
    def test_bad_amounts_are_a_400_invalid_amount(self, acme, wallets, amount, why) -> None:
        response = post(acme, "entries", legs(("W-1", "debit", amount), ("W-2", "credit", "10.00")))

        assert response.status_code == 400, why
        assert error(response)["code"] == "invalid_amount"
        assert not JournalLine.objects.filter(account=wallets[1]).exists()

    def test_an_unbalanced_entry_is_a_400_in_decimal_strings(self, acme, wallets) -> None:
        response = post(acme, "entries", legs(("W-1", "debit", "10.00"), ("W-2", "credit", "9.99")))

        assert response.status_code == 400
        assert error(response)["code"] == "unbalanced_entry"
        assert error(response)["fields"] == {"imbalance": {"USD": "0.01"}}

    def test_insufficient_funds_is_a_422_with_the_available_amount(self, acme, wallets) -> None:
        response = post(acme, "entries", legs(("W-1", "debit", "100.01"), ("W-2", "credit", "100.01")))

        assert response.status_code == 422
        assert error(response) == {
            "code": "insufficient_funds",
            "message": "Account W-1 has 100.00 available; the posting needs 100.01.",
            "fields": {"account_number": "W-1", "available": "100.00", "requested": "100.01"},
        }

    def test_conditions_are_checked_under_the_lock(self, acme, wallets) -> None:
        lines = [{"account_number": "W-1", "side": "debit", "amount": "1.00"},
                 {"account_number": "W-2", "side": "credit", "amount": "1.00"}]  # fmt: skip

        low = post(acme, "entries", {"lines": lines, "conditions": [{"account_number": "W-1",
                                                                     "min_available": "100.01"}]})  # fmt: skip
        stale = post(acme, "entries", {"lines": lines, "conditions": [{"account_number": "W-1",
                                                                       "expected_version": 0}]})  # fmt: skip
        held = post(acme, "entries", {"lines": lines, "conditions": [{"account_number": "W-1",
                                                                      "min_available": "100.00",
                                                                      "expected_version": 1}]})  # fmt: skip

        assert (low.status_code, error(low)["code"]) == (409, "condition_failed")
        assert error(low)["fields"] == {"account_number": "W-1", "available": "100.00", "min_available": "100.01"}
        assert (stale.status_code, error(stale)["fields"]["version"]) == (409, 1)
        assert held.status_code == 201

    def test_a_line_on_another_tenants_account_is_a_404_and_posts_nothing(self, acme, wallets, foreign) -> None:
        response = post(acme, "entries", legs(("W-1", "debit", "1.00"), ("G-1", "credit", "1.00")))

        assert response.status_code == 404
        assert error(response) == {"code": "account_not_found", "message": "No ledger account 'G-1'.",
                                   "fields": {"account_number": ["G-1"]}}  # fmt: skip
        assert refreshed(foreign).version == 0

    def test_a_tenant_cannot_post_to_its_chart_accounts(self, acme, wallets, merchant, actor) -> None:
        services.chart_accounts_ensure(merchant=merchant, currency_code="USD", actor=actor, occurred_at=NOW)
        reserve = f"merchant:{merchant.pk}:reserve:USD"

        response = post(acme, "entries", legs((reserve, "debit", "1.00"), ("W-2", "credit", "1.00")))

        assert (response.status_code, error(response)["code"]) == (403, "permission_denied")
        assert acme.get(API + f"accounts/{reserve}").status_code == 200  # visible, read-only

    def test_a_frozen_account_is_a_409_account_frozen(self, acme, wallets, actor) -> None:
        services.account_freeze(account=wallets[1], actor=actor, occurred_at=NOW, reason="kyc")

        response = post(acme, "entries", legs(("W-1", "debit", "1.00"), ("W-2", "credit", "1.00")))

        assert (response.status_code, error(response)["code"]) == (409, "account_frozen")
        assert error(response)["fields"] == {"account_number": "W-2", "status": "frozen"}

    def test_a_future_effective_at_is_refused_and_a_past_one_kept(self, platform, wallets) -> None:
        lines = [{"account_number": "W-1", "side": "debit", "amount": "1.00"},
                 {"account_number": "W-2", "side": "credit", "amount": "1.00"}]  # fmt: skip
        future = (timezone.now() + timedelta(hours=1)).isoformat()

        refused = post(platform, "entries", {"lines": lines, "effective_at": future})
        kept = post(platform, "entries", {"lines": lines, "effective_at": "2026-02-01T09:00:00Z"})

        assert (refused.status_code, list(error(refused)["fields"])) == (400, ["effective_at"])
        assert kept.json()["effective_at"] == "2026-02-01T09:00:00Z"


class TestBatch:
    def body(self, second_amount: str) -> dict:
        return {"description": "settlement run", "entries": [
            {"lines": [{"account_number": "W-1", "side": "debit", "amount": "40.00"},
                       {"account_number": "W-2", "side": "credit", "amount": "40.00"}]},
            {"description": "second", "lines": [{"account_number": "W-1", "side": "debit", "amount": second_amount},
                                                {"account_number": "W-2", "side": "credit", "amount": second_amount}]},
        ]}  # fmt: skip

    def test_posts_every_entry(self, acme, wallets) -> None:
        response = post(acme, "entries/batch", self.body("60.00"))

        assert response.status_code == 201
        assert [(e["description"], lines_of(e)[0][2]) for e in response.json()] == [
            ("settlement run", "40.00"), ("second", "60.00"),
        ]  # fmt: skip
        assert refreshed(wallets[0]).posted_balance == 0

    def test_is_all_or_nothing(self, acme, wallets) -> None:
        response = post(acme, "entries/batch", self.body("60.01"))

        assert response.status_code == 422
        assert error(response)["code"] == "insufficient_funds"
        assert refreshed(wallets[0]).posted_balance == 10_000
        assert not JournalLine.objects.filter(account=wallets[1]).exists()


class TestReverse:
    def test_reverses_once_then_already_reversed(self, acme, wallets) -> None:
        entry = transfer(acme).json()

        reversal = post(acme, f"entries/{entry['id']}/reverse", {"reason": "duplicate"})
        again = post(acme, f"entries/{entry['id']}/reverse", {"reason": "again"})

        assert reversal.status_code == 201
        assert reversal.json()["reversal_of"] == entry["id"]
        assert lines_of(reversal.json()) == [("W-1", "credit", "25.00", "posted"), ("W-2", "debit", "25.00", "posted")]
        assert (again.status_code, error(again)["code"]) == (409, "already_reversed")
        assert refreshed(wallets[0]).posted_balance == 10_000

    def test_an_entry_of_another_tenant_is_a_404(self, wallets, platform, other_merchant) -> None:
        entry = transfer(platform).json()
        outsider = client_for(merchant=other_merchant)

        response = post(outsider, f"entries/{entry['id']}/reverse", {})
        unknown = post(outsider, f"entries/{uuid.uuid4()}/reverse", {})

        assert response.status_code == unknown.status_code == 404
        assert error(response)["code"] == "entry_not_found"


class TestTransfers:
    def test_posts_a_transfer(self, acme, wallets) -> None:
        response = transfer(acme, "25.50")

        assert response.status_code == 201
        assert (response.json()["status"], response.json()["description"]) == ("posted", "p2p")
        assert lines_of(response.json()) == [("W-1", "debit", "25.50", "posted"), ("W-2", "credit", "25.50", "posted")]
        assert acme.get(API + "accounts/W-2").json()["balances"]["posted"] == "25.50"

    def test_insufficient_funds_is_a_422(self, acme, wallets) -> None:
        response = transfer(acme, "100.01")

        assert (response.status_code, error(response)["code"]) == (422, "insufficient_funds")

    def test_a_currency_other_than_the_accounts_is_refused(self, acme, wallets) -> None:
        response = transfer(acme, currency_code="EUR")

        assert (response.status_code, error(response)["code"]) == (400, "currency_mismatch")

    def test_a_hold_is_posted_partly(self, acme, wallets) -> None:
        hold = transfer(acme, "30.00", pending=True, timeout_seconds=600).json()
        balances = acme.get(API + "accounts/W-1").json()["balances"]

        posting = post(acme, f"transfers/{hold['id']}/post", {"amount": "12.34"})

        assert (hold["status"], hold["hold"]) == ("pending", True)
        assert lines_of(hold) == [("W-1", "debit", "30.00", "pending"), ("W-2", "credit", "30.00", "pending")]
        assert balances == {"posted": "100.00", "pending": "-30.00", "available": "70.00"}
        assert posting.status_code == 201
        assert posting.json()["pending_entry"] == hold["id"]
        assert lines_of(posting.json()) == [("W-1", "debit", "12.34", "posted"), ("W-2", "credit", "12.34", "posted")]
        assert acme.get(API + "accounts/W-1").json()["balances"] == {
            "posted": "87.66", "pending": "0.00", "available": "87.66",
        }  # fmt: skip

    def test_post_after_void_is_a_409_transfer_not_pending(self, acme, wallets) -> None:
        hold = transfer(acme, "30.00", pending=True).json()

        voided = post(acme, f"transfers/{hold['id']}/void")
        posted = post(acme, f"transfers/{hold['id']}/post")

        assert (voided.status_code, voided.json()["status"]) == (200, "voided")
        assert (posted.status_code, error(posted)["code"]) == (409, "transfer_not_pending")
        assert refreshed(wallets[0]).available_balance == 10_000

    def test_a_timeout_needs_a_pending_transfer(self, acme, wallets) -> None:
        response = transfer(acme, timeout_seconds=60)

        assert (response.status_code, list(error(response)["fields"])) == (400, ["timeout_seconds"])


class TestCreditDebit:
    def test_credit_and_debit_against_suspense(self, platform, wallets) -> None:
        credited = post(platform, "accounts/W-2/credit", {"amount": "5.00", "description": "top-up"})
        debited = post(platform, "accounts/W-2/debit", {"amount": "1.25", "description": "fee"})

        assert (credited.status_code, debited.status_code) == (201, 201)
        assert lines_of(credited.json()) == [
            ("W-2", "credit", "5.00", "posted"), ("platform:suspense:USD", "debit", "5.00", "posted"),
        ]  # fmt: skip
        assert lines_of(debited.json())[0] == ("W-2", "debit", "1.25", "posted")
        assert platform.get(API + "accounts/W-2").json()["balances"]["posted"] == "3.75"

    def test_is_for_platform_clients_only(self, acme, wallets) -> None:
        response = post(acme, "accounts/W-1/credit", {"amount": "5.00", "description": "mint"})

        assert (response.status_code, error(response)["code"]) == (403, "permission_denied")
        assert refreshed(wallets[0]).posted_balance == 10_000


class TestTemplates:
    def test_card_capture_with_decimal_amounts(self, platform, merchant, seeded_templates) -> None:
        params = {"merchant": merchant.pk, "currency": "USD", "amount": "100.00", "fee": "2.90"}

        response = post(platform, "templates/card_capture/post", {"params": params})

        assert response.status_code == 201
        body = response.json()
        assert (body["template_name"], body["template_version"]) == ("card_capture", 1)
        assert sorted(lines_of(body)) == [
            (f"merchant:{merchant.pk}:payable:USD", "credit", "97.10", "posted"),
            ("platform:fee_revenue:USD", "credit", "2.90", "posted"),
            ("platform:settlement:USD", "debit", "100.00", "posted"),
        ]

    @pytest.mark.parametrize("amount", [100, "100.001", "-1.00"])
    def test_bad_amount_params_are_a_400(self, platform, merchant, seeded_templates, amount) -> None:
        params = {"merchant": merchant.pk, "currency": "USD", "amount": amount, "fee": "0.00"}

        response = post(platform, "templates/card_capture/post", {"params": params})

        assert (response.status_code, error(response)["code"]) == (400, "invalid_amount")

    def test_unknown_template_is_a_404_and_tenants_are_refused(self, platform, acme, seeded_templates) -> None:
        assert post(platform, "templates/nope/post", {"params": {}}).status_code == 404
        assert post(acme, "templates/card_capture/post", {"params": {}}).status_code == 403


class TestTrialBalance:
    def test_sums_to_zero_per_currency(self, platform, wallets, make_account, actor) -> None:
        euro = make_account(account_number="E-1", currency_code="EUR", type=AccountType.EXPENSE)
        services.account_debit(account=euro, amount=999, actor=actor, occurred_at=NOW)

        body = platform.get(API + "trial-balance").json()
        usd = platform.get(API + "trial-balance", {"currency": "USD"}).json()

        assert [(c["currency_code"], c["debits"], c["credits"], c["net"]) for c in body["currencies"]] == [
            ("EUR", "9.99", "9.99", "0.00"), ("USD", "100.00", "100.00", "0.00"),
        ]  # fmt: skip
        assert usd["currencies"][0]["rows"] == [
            {"account_type": "asset", "debits": "100.00", "credits": "0.00", "net": "100.00"},
            {"account_type": "liability", "debits": "0.00", "credits": "100.00", "net": "-100.00"},
            {"account_type": "revenue", "debits": "0.00", "credits": "0.00", "net": "0.00"},  # the platform's chart
        ]
        assert len(usd["currencies"]) == 1

    def test_is_for_platform_clients_only(self, acme) -> None:
        assert acme.get(API + "trial-balance").status_code == 403


class TestSchema:
    def test_the_ledger_api_is_documented_without_warnings(self, tmp_path) -> None:
        from drf_spectacular.drainage import GENERATOR_STATS

        GENERATOR_STATS.reset()
        target = tmp_path / "schema.json"
        call_command("spectacular", "--fail-on-warn", "--format", "openapi-json", "--file", str(target),
                     "--urlconf", "tests.ledger.api_urls")  # fmt: skip

        paths = json.loads(target.read_text())["paths"]
        assert len([p for p in paths if p.startswith("/api/v1/ledger/")]) == 14
        create = paths["/api/v1/ledger/entries"]["post"]
        assert create["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/EntryCreate"
        }
        assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])

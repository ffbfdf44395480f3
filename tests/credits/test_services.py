from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from credits import services
from credits.choices import ReservationStatus
from credits.errors import (
    InsufficientCredits,
    InvalidCommitAmount,
    InvalidGrant,
    InvalidUnit,
    InvalidWallet,
    ReferenceReused,
    ReservationNotPending,
    UnknownUnit,
    WalletExists,
)
from credits.models import ConsumptionLotUse, CreditExpiry, CreditLot, CreditUnit, Reservation, Wallet
from ledger.choices import BalanceRule
from ledger.models import Account, JournalEntry
from tests.credits.conftest import NOW, SYSTEM, assert_consistent, balances, lot_state
from tests.credits.conftest import event as audit_event

pytestmark = pytest.mark.django_db


def uses(consumption) -> list[tuple[int, int]]:
    return list(ConsumptionLotUse.objects.filter(consumption=consumption).order_by("pk").values_list("lot", "amount"))


class TestUnits:
    def test_an_iso_unit_opens_on_first_use_with_its_exponent_and_sharded_accounts(self, settings) -> None:
        settings.CREDITS_ACCOUNT_SHARDS = 2
        unit = services.credit_unit_for_code(code="jpy", actor=SYSTEM, occurred_at=NOW)

        assert (unit.code, unit.kind, unit.exponent, unit.ledger_currency_code) == ("JPY", "iso", 0, "JPY")
        assert sorted(unit.accounts.values_list("role", "shard")) == [
            ("breakage", 0), ("breakage", 1), ("issued", 0), ("issued", 1), ("redeemed", 0), ("redeemed", 1),
        ]  # fmt: skip
        assert AuditEvent.objects.filter(action="credits.unit.created", object_id=str(unit.pk)).exists()

    def test_a_custom_unit_is_carried_by_an_unused_iso_code_with_the_same_exponent(self) -> None:
        unit = services.credit_unit_create(
            code="points", exponent=0, ledger_currency_code="KRW", actor=SYSTEM, occurred_at=NOW
        )

        assert (unit.code, unit.kind, unit.exponent, unit.ledger_currency_code) == ("POINTS", "custom", 0, "KRW")
        assert services.amount_to_minor("25", unit) == 25
        with pytest.raises(services.InvalidCreditAmount):
            services.amount_to_minor("2.5", unit)

    @pytest.mark.parametrize(
        ("exponent", "carrier"),
        [(2, "KRW"), (None, "KRW"), (2, "USD"), (0, "")],  # wrong exponent, none, money currency, no carrier
    )
    def test_a_custom_unit_with_a_bad_carrier_is_refused(self, exponent, carrier) -> None:
        with pytest.raises(InvalidUnit):
            services.credit_unit_create(
                code="MILES", exponent=exponent, ledger_currency_code=carrier, actor=SYSTEM, occurred_at=NOW
            )
        assert not CreditUnit.objects.filter(code="MILES").exists()

    def test_two_custom_units_cannot_share_a_carrier(self) -> None:
        services.credit_unit_create(
            code="POINTS", exponent=0, ledger_currency_code="KRW", actor=SYSTEM, occurred_at=NOW
        )
        with pytest.raises(InvalidUnit):
            services.credit_unit_create(
                code="MILES", exponent=0, ledger_currency_code="KRW", actor=SYSTEM, occurred_at=NOW
            )

    def test_an_unknown_custom_code_is_not_opened_implicitly(self) -> None:
        with pytest.raises(UnknownUnit):
            services.credit_unit_for_code(code="STARS", actor=SYSTEM, occurred_at=NOW)


class TestWalletCreate:
    def test_a_customer_wallet_has_a_protected_ledger_account_and_an_encrypted_email(self, merchant) -> None:
        wallet = services.wallet_create(
            unit="USD", owner_kind="customer", merchant=merchant, customer_reference="c-1",
            customer_email="jane@example.com", actor=SYSTEM, occurred_at=NOW,
        )  # fmt: skip

        account = Account.objects.get(pk=wallet.account_id)
        assert (account.type, account.balance_rule, account.currency_code) == (
            "liability",
            BalanceRule.DEBITS_WITHIN_CREDITS,
            "USD",
        )
        assert (account.owner_kind, account.merchant_id, account.customer_reference) == ("customer", merchant.pk, "c-1")
        assert Wallet.objects.get(pk=wallet.pk).customer_email == "jane@example.com"
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT customer_email FROM credits_wallet WHERE id = %s", [wallet.pk])
            stored = cursor.fetchone()[0]
        assert "jane@example.com" not in stored
        event = AuditEvent.objects.get(action="credits.wallet.created", object_id=str(wallet.pk))
        assert "jane" not in str(event.data)

    def test_a_second_wallet_for_the_same_owner_and_unit_is_refused(self, make_wallet, merchant) -> None:
        first = make_wallet(customer_reference="same")
        with pytest.raises(WalletExists) as caught:
            make_wallet(customer_reference="same")
        assert caught.value.fields == {"wallet": first.pk}

    def test_a_merchant_wallet_needs_its_merchant(self, make_wallet) -> None:
        with pytest.raises(InvalidWallet):
            make_wallet(owner_kind="merchant", merchant=None, customer_reference="")


class TestGrant:
    def test_a_grant_adds_a_lot_and_credits_the_ledger(self, wallet, grant, actor) -> None:
        lot = grant(wallet, 1000, expires_at=NOW + timedelta(days=30), reason="welcome")

        assert (lot.amount, lot.remaining, lot.reserved, lot.reason) == (1000, 1000, 0, "welcome")
        assert balances(wallet) == (1000, 0, 1000)
        event = audit_event("credits.lot.granted", object_id=str(lot.pk))
        assert (event.actor_label, event.data["amount"], event.data["wallet"]) == ("finance.ops", 1000, wallet.pk)
        assert_consistent(wallet)

    @pytest.mark.parametrize(
        ("amount", "reason", "expires"), [(0, "x", None), (-5, "x", None), (10, "", None), (10, "x", -1)]
    )
    def test_bad_grants_change_nothing(self, wallet, grant, amount, reason, expires) -> None:
        expires_at = NOW + timedelta(seconds=expires) if expires else None
        with pytest.raises(services.DomainError):
            grant(wallet, amount, reason=reason, expires_at=expires_at)
        assert balances(wallet) == (0, 0, 0)
        assert not CreditLot.objects.filter(wallet=wallet).exists()

    def test_an_idempotency_key_replays_the_first_grant(self, wallet, grant) -> None:
        first = grant(wallet, 500, idempotency_key="k1")
        again = grant(wallet, 500, idempotency_key="k1")

        assert again.pk == first.pk
        assert balances(wallet) == (500, 0, 500)
        with pytest.raises(ReferenceReused):
            grant(wallet, 501, idempotency_key="k1")

    def test_a_batch_is_all_or_nothing(self, make_wallet, actor) -> None:
        a, b = make_wallet(), make_wallet()
        specs = [services.GrantSpec(a.pk, 100, "batch"), services.GrantSpec(b.pk, 200, "batch")]
        lots = services.credit_grants_batch(grants=specs, actor=actor, occurred_at=NOW)

        assert [(lot.wallet_id, lot.amount) for lot in lots] == [(a.pk, 100), (b.pk, 200)]
        assert balances(a)[0] == 100 and balances(b)[0] == 200
        with pytest.raises(services.WalletNotFound) as caught:
            services.credit_grants_batch(
                grants=[services.GrantSpec(a.pk, 7, "x"), services.GrantSpec(999_999, 7, "x")],
                actor=actor, occurred_at=NOW,
            )  # fmt: skip
        assert caught.value.fields["row"] == 2
        assert balances(a)[0] == 100
        with pytest.raises(InvalidGrant) as caught:
            services.credit_grants_batch(
                grants=[services.GrantSpec(a.pk, 7, "x"), services.GrantSpec(b.pk, 0, "x")],
                actor=actor,
                occurred_at=NOW,
            )
        assert caught.value.fields["row"] == 2
        event = audit_event("credits.grants.batch")
        assert event.data["lots"] == [lot.pk for lot in lots]


class TestConsume:
    def test_consumption_takes_the_lots_expiring_first_then_the_oldest(self, wallet, grant, actor) -> None:
        never = grant(wallet, 100)
        late = grant(wallet, 100, expires_at=NOW + timedelta(days=20))
        old_soon = grant(wallet, 100, expires_at=NOW + timedelta(days=10))
        new_soon = grant(wallet, 100, expires_at=NOW + timedelta(days=10), occurred_at=NOW + timedelta(seconds=1))

        consumption = services.credit_consume(
            wallet=wallet, amount=250, reference="order-1", actor=actor, occurred_at=NOW + timedelta(minutes=1)
        )

        assert uses(consumption) == [(old_soon.pk, 100), (new_soon.pk, 100), (late.pk, 50)]
        assert lot_state(wallet) == [(100, 100, 0), (100, 50, 0), (100, 0, 0), (100, 0, 0)]
        assert never.pk == CreditLot.objects.filter(wallet=wallet).order_by("pk").first().pk
        assert balances(wallet) == (150, 0, 150)
        event = audit_event("credits.consumed", object_id=str(consumption.pk))
        assert event.data["lots"] == [[old_soon.pk, 100], [new_soon.pk, 100], [late.pk, 50]]
        assert_consistent(wallet)

    def test_insufficient_credits_changes_nothing(self, wallet, grant, actor) -> None:
        grant(wallet, 100)
        with pytest.raises(InsufficientCredits) as caught:
            services.credit_consume(wallet=wallet, amount=101, actor=actor, occurred_at=NOW)

        assert caught.value.status_code == 422
        assert caught.value.fields == {"wallet": wallet.pk, "available": 100, "requested": 101}
        assert balances(wallet) == (100, 0, 100)
        assert not AuditEvent.objects.filter(action="credits.consumed").exists()

    def test_a_repeated_reference_replays_and_a_different_amount_is_refused(self, wallet, grant, actor) -> None:
        grant(wallet, 100)
        first = services.credit_consume(wallet=wallet, amount=30, reference="r", actor=actor, occurred_at=NOW)
        again = services.credit_consume(wallet=wallet, amount=30, reference="r", actor=actor, occurred_at=NOW)

        assert again.pk == first.pk
        assert balances(wallet) == (70, 0, 70)
        with pytest.raises(ReferenceReused):
            services.credit_consume(wallet=wallet, amount=31, reference="r", actor=actor, occurred_at=NOW)

    def test_expired_credit_is_not_consumable_even_before_the_beat_runs(self, wallet, grant, actor) -> None:
        lot = grant(wallet, 100, expires_at=NOW + timedelta(hours=1))
        grant(wallet, 20)
        later = NOW + timedelta(hours=2)

        with pytest.raises(InsufficientCredits):
            services.credit_consume(wallet=wallet, amount=50, actor=actor, occurred_at=later)
        services.credit_consume(wallet=wallet, amount=20, actor=actor, occurred_at=later)

        assert CreditExpiry.objects.get(lot=lot).amount == 100
        assert balances(wallet) == (0, 0, 0)
        assert_consistent(wallet)

    def test_the_database_refuses_a_lot_below_zero(self, wallet, grant) -> None:
        lot = grant(wallet, 10)
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditLot.objects.filter(pk=lot.pk).update(remaining=-1)
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditLot.objects.filter(pk=lot.pk).update(remaining=11)


class TestReservations:
    def test_reserve_then_commit_partly_takes_from_the_earmarked_lots(self, wallet, grant, actor) -> None:
        soon = grant(wallet, 60, expires_at=NOW + timedelta(days=1))
        later = grant(wallet, 100)
        reservation = services.reservation_create(
            wallet=wallet, amount=100, ttl_seconds=600, actor=actor, occurred_at=NOW
        )

        assert balances(wallet) == (160, 100, 60)
        assert lot_state(wallet) == [(60, 60, 60), (100, 100, 40)]
        assert_consistent(wallet)

        committed = services.reservation_commit(
            reservation=reservation, amount=70, actor=actor, occurred_at=NOW + timedelta(seconds=5)
        )

        assert (committed.status, committed.committed_amount) == (ReservationStatus.COMMITTED, 70)
        assert uses(committed.consumption) == [(soon.pk, 60), (later.pk, 10)]
        assert lot_state(wallet) == [(60, 0, 0), (100, 90, 0)]
        assert balances(wallet) == (90, 0, 90)
        assert JournalEntry.objects.get(pk=reservation.hold_id).status == "posted"
        assert AuditEvent.objects.filter(action="credits.reservation.committed", object_id=str(reservation.pk)).exists()
        assert_consistent(wallet)

    def test_release_gives_the_earmark_back(self, wallet, grant, actor) -> None:
        grant(wallet, 100)
        reservation = services.reservation_create(
            wallet=wallet, amount=40, ttl_seconds=60, actor=actor, occurred_at=NOW
        )

        released = services.reservation_release(reservation=reservation, actor=actor, occurred_at=NOW, reason="cancel")

        assert released.status == ReservationStatus.RELEASED
        assert lot_state(wallet) == [(100, 100, 0)]
        assert balances(wallet) == (100, 0, 100)
        assert JournalEntry.objects.get(pk=reservation.hold_id).status == "voided"

    def test_commit_and_release_happen_once(self, wallet, grant, actor) -> None:
        grant(wallet, 100)
        reservation = services.reservation_create(
            wallet=wallet, amount=40, ttl_seconds=60, actor=actor, occurred_at=NOW
        )
        services.reservation_commit(reservation=reservation, actor=actor, occurred_at=NOW)

        with pytest.raises(ReservationNotPending):
            services.reservation_commit(reservation=reservation, actor=actor, occurred_at=NOW)
        with pytest.raises(ReservationNotPending):
            services.reservation_release(reservation=reservation, actor=actor, occurred_at=NOW)
        assert balances(wallet) == (60, 0, 60)

    def test_a_commit_amount_outside_the_reservation_is_refused(self, wallet, grant, actor) -> None:
        grant(wallet, 100)
        reservation = services.reservation_create(
            wallet=wallet, amount=40, ttl_seconds=60, actor=actor, occurred_at=NOW
        )
        for amount in (0, 41):
            with pytest.raises(InvalidCommitAmount):
                services.reservation_commit(reservation=reservation, amount=amount, actor=actor, occurred_at=NOW)
        assert Reservation.objects.get(pk=reservation.pk).status == ReservationStatus.PENDING

    def test_a_reservation_cannot_take_more_than_is_available(self, wallet, grant, actor) -> None:
        grant(wallet, 100)
        services.reservation_create(wallet=wallet, amount=80, ttl_seconds=60, actor=actor, occurred_at=NOW)
        with pytest.raises(InsufficientCredits):
            services.reservation_create(wallet=wallet, amount=21, ttl_seconds=60, actor=actor, occurred_at=NOW)
        with pytest.raises(InsufficientCredits):
            services.credit_consume(wallet=wallet, amount=21, actor=actor, occurred_at=NOW)
        services.credit_consume(wallet=wallet, amount=20, actor=actor, occurred_at=NOW)
        assert balances(wallet) == (80, 80, 0)


class TestReservationTimeout:
    def test_the_beat_releases_a_timed_out_reservation_and_commit_is_refused_after_the_ttl(
        self, wallet, grant, actor
    ) -> None:
        grant(wallet, 100)
        reservation = services.reservation_create(
            wallet=wallet, amount=40, ttl_seconds=60, actor=actor, occurred_at=NOW
        )

        assert services.reservations_expire(now=NOW + timedelta(seconds=59)) == 0
        with pytest.raises(ReservationNotPending):
            services.reservation_commit(reservation=reservation, actor=actor, occurred_at=NOW + timedelta(seconds=60))
        assert services.reservations_expire(now=NOW + timedelta(seconds=60)) == 1
        assert services.reservations_expire(now=NOW + timedelta(seconds=61)) == 0

        assert Reservation.objects.get(pk=reservation.pk).status == ReservationStatus.EXPIRED
        assert balances(wallet) == (100, 0, 100)
        assert AuditEvent.objects.filter(action="credits.reservation.expired", object_id=str(reservation.pk)).exists()
        assert_consistent(wallet)


class TestLotsExpire:
    def test_expiry_moves_the_unused_remainder_to_breakage_once(self, wallet, grant, actor) -> None:
        lot = grant(wallet, 100, expires_at=NOW + timedelta(days=1))
        keep = grant(wallet, 50)
        services.credit_consume(wallet=wallet, amount=30, actor=actor, occurred_at=NOW)
        due = NOW + timedelta(days=1)

        assert services.lots_expire(now=due) == 1
        assert services.lots_expire(now=due + timedelta(hours=1)) == 0

        expiry = CreditExpiry.objects.get(lot=lot)
        assert expiry.amount == 70
        breakage = Account.objects.get(
            pk=JournalEntry.objects.get(pk=expiry.entry_id).lines.get(side="credit").account_id
        )
        assert breakage.account_number.startswith("CREDITS-USD-BREAKAGE-")
        assert lot_state(wallet) == [(100, 0, 0), (50, 50, 0)]
        assert keep.pk != lot.pk
        assert balances(wallet) == (50, 0, 50)
        assert AuditEvent.objects.filter(action="credits.lot.expired", object_id=str(lot.pk)).count() == 1
        assert_consistent(wallet)

    def test_credit_held_by_a_reservation_stays_with_it_and_is_broken_when_released(self, wallet, grant, actor) -> None:
        lot = grant(wallet, 100, expires_at=NOW + timedelta(minutes=5))
        reservation = services.reservation_create(
            wallet=wallet, amount=40, ttl_seconds=600, actor=actor, occurred_at=NOW
        )
        services.lots_expire(now=NOW + timedelta(minutes=5))

        assert CreditExpiry.objects.get(lot=lot).amount == 60
        assert lot_state(wallet) == [(100, 40, 40)]
        assert balances(wallet) == (40, 40, 0)

        services.reservation_release(reservation=reservation, actor=actor, occurred_at=NOW + timedelta(minutes=6))

        assert CreditExpiry.objects.get(lot=lot).amount == 100
        assert lot_state(wallet) == [(100, 0, 0)]
        assert balances(wallet) == (0, 0, 0)
        assert_consistent(wallet)

    def test_a_reservation_made_before_expiry_can_still_be_committed(self, wallet, grant, actor) -> None:
        lot = grant(wallet, 100, expires_at=NOW + timedelta(minutes=5))
        reservation = services.reservation_create(
            wallet=wallet, amount=40, ttl_seconds=600, actor=actor, occurred_at=NOW
        )
        services.lots_expire(now=NOW + timedelta(minutes=5))

        services.reservation_commit(
            reservation=reservation, amount=25, actor=actor, occurred_at=NOW + timedelta(minutes=6)
        )

        assert CreditExpiry.objects.get(lot=lot).amount == 75
        assert balances(wallet) == (0, 0, 0)
        assert_consistent(wallet)

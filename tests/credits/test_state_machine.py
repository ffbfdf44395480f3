"""Random sequences of grants, consumptions, reservations (commit, release, timeout) and expiries keep
a wallet whole: total = sum of lot remainders = ledger balance, reserved = ledger pending, credit is
conserved (granted = consumed + broken + remaining), and consumption takes lots expiring first."""

from datetime import timedelta

import pytest
from django.db.models import F, Q, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from audit.context import Actor
from credits import selectors, services
from credits.errors import InsufficientCredits, ReservationNotPending
from credits.models import Consumption, ConsumptionLotUse, CreditExpiry, CreditLot, Reservation
from ledger.models import Account
from tenants.models import Merchant
from tests.credits.conftest import NOW

ACTOR = Actor.system("hypothesis")


def expected_plan(wallet_pk: int, amount: int, now) -> list[tuple[int, int]] | None:
    """The oracle: free credit of unexpired lots, soonest expiry first (no expiry last), then oldest."""
    lots = (
        CreditLot.objects.filter(wallet_id=wallet_pk, expired_at__isnull=True, remaining__gt=F("reserved"))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("pk", "remaining", "reserved", "expires_at", "granted_at")
    )
    ordered = sorted(lots, key=lambda r: (r[3] is None, r[3] or now, r[4], r[0]))
    plan, left = [], amount
    for pk, remaining, reserved, _, _ in ordered:
        if not left:
            break
        take = min(remaining - reserved, left)
        plan.append((pk, take))
        left -= take
    return None if left else plan


class WalletMachine(RuleBasedStateMachine):
    reservations = Bundle("reservations")

    @initialize()
    def open_wallet(self):
        merchant = Merchant.objects.create(reference="hyp", name="Hyp")
        self.wallet = services.wallet_create(
            unit="USD", owner_kind="customer", merchant=merchant, customer_reference="hyp", actor=ACTOR, occurred_at=NOW
        )
        self.clock = NOW

    @rule(amount=st.integers(1, 300), expires_in=st.one_of(st.none(), st.integers(1, 180)))
    def grant(self, amount, expires_in):
        expires_at = self.clock + timedelta(minutes=expires_in) if expires_in else None
        services.credit_grant(
            wallet=self.wallet, amount=amount, reason="hyp", expires_at=expires_at, actor=ACTOR, occurred_at=self.clock
        )

    @rule(minutes=st.integers(0, 90))
    def advance(self, minutes):
        self.clock += timedelta(minutes=minutes, seconds=1)

    @rule(amount=st.integers(1, 400))
    def consume(self, amount):
        plan = expected_plan(self.wallet.pk, amount, self.clock)
        try:
            consumption = services.credit_consume(
                wallet=self.wallet, amount=amount, actor=ACTOR, occurred_at=self.clock
            )
        except InsufficientCredits:
            assert plan is None
            return
        assert plan is not None
        used = list(
            ConsumptionLotUse.objects.filter(consumption=consumption).order_by("pk").values_list("lot", "amount")
        )
        assert used == plan

    @rule(target=reservations, amount=st.integers(1, 300), ttl=st.integers(1, 120))
    def reserve(self, amount, ttl):
        plan = expected_plan(self.wallet.pk, amount, self.clock)
        try:
            reservation = services.reservation_create(
                wallet=self.wallet, amount=amount, ttl_seconds=ttl * 60, actor=ACTOR, occurred_at=self.clock
            )
        except InsufficientCredits:
            assert plan is None
            return multiple()
        assert plan is not None
        assert sorted(reservation.lot_uses.values_list("lot", "amount")) == sorted(plan)
        return reservation

    @rule(reservation=reservations, fraction=st.sampled_from([None, 1, 2, 3]))
    def commit(self, reservation, fraction):
        amount = None if fraction is None else max(1, reservation.amount * fraction // 3)
        try:
            services.reservation_commit(reservation=reservation, amount=amount, actor=ACTOR, occurred_at=self.clock)
        except ReservationNotPending:
            current = Reservation.objects.get(pk=reservation.pk)
            assert current.status != "pending" or self.clock >= current.expires_at

    @rule(reservation=reservations)
    def release(self, reservation):
        try:
            services.reservation_release(reservation=reservation, actor=ACTOR, occurred_at=self.clock)
        except ReservationNotPending:
            assert Reservation.objects.get(pk=reservation.pk).status != "pending"

    @rule()
    def expire_reservations(self):
        services.reservations_expire(now=self.clock, actor=ACTOR)

    @rule()
    def expire_lots(self):
        services.lots_expire(now=self.clock, actor=ACTOR)
        assert not CreditLot.objects.filter(
            wallet=self.wallet, expires_at__lte=self.clock, expired_at__isnull=True, remaining__gt=0
        ).exists()

    @invariant()
    def wallet_is_whole(self):
        if not hasattr(self, "wallet"):
            return
        lots = list(CreditLot.objects.filter(wallet=self.wallet))
        account = Account.objects.get(pk=self.wallet.account_id)
        balance = selectors.wallet_balance(wallet=self.wallet)
        remaining = sum(lot.remaining for lot in lots)
        assert balance.total == remaining == account.posted_credits - account.posted_debits
        assert balance.reserved == sum(lot.reserved for lot in lots) == account.pending_debits
        assert balance.available == balance.total - balance.reserved >= 0
        for lot in lots:
            assert 0 <= lot.reserved <= lot.remaining <= lot.amount
            assert lot.expired_at is None or lot.remaining == lot.reserved
        consumed = Consumption.objects.filter(wallet=self.wallet).aggregate(s=Sum("amount"))["s"] or 0
        broken = CreditExpiry.objects.filter(wallet=self.wallet).aggregate(s=Sum("amount"))["s"] or 0
        assert sum(lot.amount for lot in lots) == consumed + broken + remaining
        pending = Reservation.objects.filter(wallet=self.wallet, status="pending").aggregate(s=Sum("amount"))["s"]
        assert (pending or 0) == balance.reserved


@pytest.mark.django_db
def test_random_wallet_histories_stay_whole() -> None:
    """Each example runs in a savepoint rolled back at teardown, inside the test's transaction."""
    from django.db import transaction

    class Machine(WalletMachine):
        def teardown(self):
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        def __init__(self):
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            super().__init__()

    run = settings(
        max_examples=25, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )(Machine).TestCase  # fmt: skip
    run().runTest()

"""Concurrency on PostgreSQL (threads, each with its own connection): no overdraw, exactly-once resolution."""

import threading
from datetime import timedelta

import pytest
from django.db import connections

from credits import services
from credits.errors import InsufficientCredits, ReservationNotPending
from credits.models import Consumption, CreditExpiry, CreditLot, Reservation
from ledger.models import JournalEntry
from tests.credits.conftest import NOW, SYSTEM, assert_consistent, balances

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(count: int, work) -> list:
    outcomes: list = [None] * count
    barrier = threading.Barrier(count)

    def target(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = work(i)
        except Exception as error:
            outcomes[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


class TestConcurrentConsumption:
    def test_fifty_concurrent_consumptions_never_overdraw(self, wallet, grant) -> None:
        for days in (3, 1, None, 2):
            grant(wallet, 250, expires_at=NOW + timedelta(days=days) if days else None)

        outcomes = run_threads(
            50,
            lambda i: services.credit_consume(
                wallet=wallet.pk,
                amount=30,
                reference=f"order-{i}",
                actor=SYSTEM,
                occurred_at=NOW + timedelta(seconds=1),
            ),
        )

        won = [o for o in outcomes if isinstance(o, Consumption)]
        refused = [o for o in outcomes if isinstance(o, InsufficientCredits)]
        assert len(won) == 33 and len(refused) == 17, [o for o in outcomes if isinstance(o, Exception)][:3]
        assert balances(wallet) == (10, 0, 10)
        # Expiring first: the lots expiring in 1, 2, 3 days are empty; the one without expiry keeps 10.
        remaining = dict(CreditLot.objects.filter(wallet=wallet).values_list("expires_at", "remaining"))
        assert remaining[None] == 10 and sum(remaining.values()) == 10
        assert_consistent(wallet)

    def test_concurrent_consumptions_and_reservations_on_one_wallet_stay_whole(self, wallet, grant) -> None:
        grant(wallet, 1000)

        def work(i: int):
            if i % 2:
                return services.credit_consume(wallet=wallet.pk, amount=70, actor=SYSTEM, occurred_at=NOW)
            return services.reservation_create(
                wallet=wallet.pk, amount=70, ttl_seconds=60, actor=SYSTEM, occurred_at=NOW
            )

        outcomes = run_threads(20, work)

        assert sum(1 for o in outcomes if not isinstance(o, Exception)) == 14
        assert all(isinstance(o, InsufficientCredits) for o in outcomes if isinstance(o, Exception))
        total, reserved, available = balances(wallet)
        assert available == 1000 - 14 * 70
        assert_consistent(wallet)


class TestCommitReleaseRace:
    def test_commit_and_release_racing_one_wins(self, wallet, grant) -> None:
        grant(wallet, 1000)
        reservations = [
            services.reservation_create(wallet=wallet, amount=50, ttl_seconds=600, actor=SYSTEM, occurred_at=NOW)
            for _ in range(8)
        ]
        for reservation in reservations:
            outcomes = run_threads(
                3,
                lambda i, r=reservation: (
                    services.reservation_release(reservation=r.pk, actor=SYSTEM, occurred_at=NOW)
                    if i == 1
                    else services.reservation_commit(reservation=r.pk, actor=SYSTEM, occurred_at=NOW)
                ),
            )
            winners = [o for o in outcomes if isinstance(o, Reservation)]
            losers = [o for o in outcomes if isinstance(o, ReservationNotPending)]
            assert len(winners) == 1 and len(losers) == 2, outcomes
            current = Reservation.objects.get(pk=reservation.pk)
            hold = JournalEntry.objects.get(pk=reservation.hold_id)
            assert (current.status, hold.status) in {("committed", "posted"), ("released", "voided")}
            assert Consumption.objects.filter(reservation=reservation).count() == (current.status == "committed")
        committed = Reservation.objects.filter(wallet=wallet, status="committed").count()
        assert balances(wallet) == (1000 - 50 * committed, 0, 1000 - 50 * committed)
        assert_consistent(wallet)

    def test_the_timeout_task_racing_a_commit_resolves_once(self, wallet, grant) -> None:
        grant(wallet, 100)
        reservation = services.reservation_create(
            wallet=wallet, amount=40, ttl_seconds=1, actor=SYSTEM, occurred_at=NOW
        )
        later = NOW + timedelta(seconds=1)

        outcomes = run_threads(
            3,
            lambda i: (
                services.reservations_expire(now=later, actor=SYSTEM)
                if i
                else services.reservation_commit(reservation=reservation.pk, actor=SYSTEM, occurred_at=later)
            ),
        )

        assert isinstance(outcomes[0], ReservationNotPending)  # past its TTL: only the timeout may resolve it
        assert sorted(outcomes[1:]) == [0, 1]
        assert Reservation.objects.get(pk=reservation.pk).status == "expired"
        assert balances(wallet) == (100, 0, 100)


class TestConcurrentExpiry:
    def test_two_expiry_runs_at_once_expire_each_lot_once(self, make_wallet, grant) -> None:
        wallets = [make_wallet() for _ in range(4)]
        lots = [grant(w, 100, expires_at=NOW + timedelta(hours=1)) for w in wallets]
        due = NOW + timedelta(hours=1)

        outcomes = run_threads(2, lambda i: services.lots_expire(now=due, actor=SYSTEM))

        assert sum(outcomes) == 4, outcomes
        assert CreditExpiry.objects.filter(lot__in=lots).count() == 4
        assert all(balances(w) == (0, 0, 0) for w in wallets)
        for w in wallets:
            assert_consistent(w)


@pytest.mark.django_db(transaction=True)
class TestLotsMatchLedgerTrigger:
    def test_a_lot_changed_behind_the_ledger_is_refused_at_commit(self, wallet, grant) -> None:
        from django.db import IntegrityError, transaction

        lot = grant(wallet, 100)
        with pytest.raises(IntegrityError, match="credits_lots_match_ledger"), transaction.atomic():
            CreditLot.objects.filter(pk=lot.pk).update(remaining=90)
        with pytest.raises(IntegrityError, match="credits_lots_match_ledger"), transaction.atomic():
            CreditLot.objects.filter(pk=lot.pk).update(reserved=10)
        assert CreditLot.objects.get(pk=lot.pk).remaining == 100

    def test_the_services_pass_it(self, wallet, grant) -> None:
        grant(wallet, 100, expires_at=NOW + timedelta(minutes=1))
        reservation = services.reservation_create(
            wallet=wallet, amount=40, ttl_seconds=600, actor=SYSTEM, occurred_at=NOW
        )
        services.credit_consume(wallet=wallet, amount=10, actor=SYSTEM, occurred_at=NOW)
        services.lots_expire(now=NOW + timedelta(minutes=1), actor=SYSTEM)
        services.reservation_commit(
            reservation=reservation, amount=5, actor=SYSTEM, occurred_at=NOW + timedelta(minutes=2)
        )
        assert balances(wallet) == (0, 0, 0)

"""Two sweeps at once on PostgreSQL (threads, own connections): each alert once, money moved once."""

import threading
from datetime import timedelta

import pytest
from django.db import connections

from disputes import services
from disputes.choices import Status
from disputes.models import Dispute, DisputeAlert
from ledger.models import JournalEntry
from tests.disputes.conftest import SYSTEM, balance

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


class TestConcurrentSweeps:
    def test_two_sweeps_alert_each_threshold_once_and_expire_once(self, open_dispute, capture, merchant) -> None:
        disputes = [open_dispute(original_entry=capture(merchant)) for _ in range(12)]
        due = disputes[0].due_by
        # Half are past due (to expire), half are 20 hours from due (3 thresholds each).
        for dispute in disputes[:6]:
            Dispute.objects.filter(pk=dispute.pk).update(due_by=due - timedelta(days=2))
        now = due - timedelta(hours=20)

        outcomes = run_threads(2, lambda i: services.disputes_sweep(now=now, actor=SYSTEM))

        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert sum(o.expired for o in outcomes) == 6
        assert sum(o.alerts_recorded for o in outcomes) == 18
        assert DisputeAlert.objects.count() == 18
        assert Dispute.objects.filter(status=Status.EXPIRED).count() == 6
        outcome_entries = JournalEntry.objects.filter(template_name="dispute_lost_to_issuer")
        assert outcome_entries.count() == 6
        assert balance(merchant, "dispute_hold") == 6 * 2500
        assert balance(merchant, "payable") == 13 * 9700 - 12 * 2500  # 12 captures + the fixture's original

    def test_a_rerun_after_concurrent_sweeps_does_nothing(self, open_dispute, merchant) -> None:
        dispute = open_dispute()
        now = dispute.due_by

        run_threads(2, lambda i: services.disputes_sweep(now=now, actor=SYSTEM))
        rerun = services.disputes_sweep(now=now, actor=SYSTEM)

        assert (rerun.expired, rerun.alerts_recorded) == (0, 0)
        assert balance(merchant, "dispute_hold") == 0
        assert JournalEntry.objects.filter(idempotency_key=f"dispute:{dispute.pk}:outcome").count() == 1

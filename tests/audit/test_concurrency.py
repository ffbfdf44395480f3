"""On PostgreSQL: recording never serializes writers, and the chainer takes exactly the committed events."""

import threading

import pytest
from django.db import connection, connections, transaction

from audit.models import AuditEvent
from audit.services import audit_chain_pending, audit_record, audit_verify
from tests.audit.helpers import raw

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_thread(work) -> threading.Thread:  # noqa: ANN001
    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    return threading.Thread(target=run)


class TestConcurrentAppends:
    def test_eight_writers_some_rolling_back_give_a_gapless_chain_of_exactly_the_committed_events(self) -> None:
        committed: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def writer(number: int) -> None:
            barrier.wait()
            for i in range(25):
                try:
                    with transaction.atomic():
                        event = audit_record(action="test.concurrent.append", data={"writer": number, "i": i})
                        if (number + i) % 4 == 0:
                            raise RuntimeError("roll this one back")
                except RuntimeError:
                    continue
                with lock:
                    committed.append(event.pk)
                if i % 5 == 0:
                    audit_chain_pending()  # chainers race with each other and with the writers

        threads = [in_thread(lambda n=n: writer(n)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        audit_chain_pending()

        mine = AuditEvent.objects.filter(action="test.concurrent.append")
        assert sorted(mine.values_list("pk", flat=True)) == sorted(committed)
        assert len(committed) == 150  # 200 attempts, a quarter rolled back
        assert not mine.filter(sequence__isnull=True).exists()
        sequences = sorted(AuditEvent.objects.values_list("sequence", flat=True))
        assert sequences == list(range(1, len(sequences) + 1))
        assert audit_verify(record_result=False).ok

    def test_a_long_transaction_that_recorded_first_is_chained_once_it_commits(self) -> None:
        started, may_commit = threading.Event(), threading.Event()

        def long_transaction() -> None:
            with transaction.atomic():
                audit_record(action="test.long.first")
                started.set()
                may_commit.wait(timeout=30)

        slow = in_thread(long_transaction)
        slow.start()
        started.wait(timeout=30)
        later = audit_record(action="test.short.later")
        audit_chain_pending()

        assert AuditEvent.objects.get(pk=later.pk).sequence is not None
        assert not AuditEvent.objects.filter(action="test.long.first").exists()  # not yet committed: invisible

        may_commit.set()
        slow.join()
        audit_chain_pending()

        first = AuditEvent.objects.get(action="test.long.first")
        assert first.pk < later.pk  # it was inserted earlier …
        assert first.sequence > AuditEvent.objects.get(pk=later.pk).sequence  # … and chained after it committed
        assert audit_verify(record_result=False).ok

    def test_truncate_is_refused(self) -> None:
        audit_record(action="test.thing.done")

        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            raw("TRUNCATE audit_auditevent")
        assert AuditEvent.objects.exists()
        assert connection.vendor == "postgresql"

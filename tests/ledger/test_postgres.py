"""Invariants PostgreSQL enforces by itself, and behaviour under real concurrency (threads, own connections)."""

import threading
import uuid

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection, connections, transaction

from ledger import services
from ledger.errors import InsufficientFunds
from ledger.models import JournalEntry, JournalLine
from tests.ledger.conftest import NOW, refreshed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(count: int, work) -> list:
    """Start `count` threads at once; each runs work(i) on its own connection. Returns outcomes."""
    outcomes: list = [None] * count
    barrier = threading.Barrier(count)

    def target(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = work(i)
        except Exception as error:  # recorded, asserted by the test
            outcomes[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


class TestConcurrency:
    def test_fifty_concurrent_debits_never_take_a_protected_account_below_zero(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 1000)  # room for 10 debits of 100

        outcomes = run_threads(
            50,
            lambda i: services.transfer_create(
                debit_account=wallet.pk, credit_account=cash.pk, amount=100, actor=actor, occurred_at=NOW
            ),
        )

        accepted = [o for o in outcomes if isinstance(o, JournalEntry)]
        refused = [o for o in outcomes if isinstance(o, InsufficientFunds)]
        assert (len(accepted), len(refused)) == (10, 40), [o for o in outcomes if isinstance(o, Exception)][:3]
        account = refreshed(wallet)
        assert (account.posted_balance, account.posted_debits) == (0, 1000)
        assert services.ledger_verify(record=False).is_ok

    def test_twenty_threads_transferring_both_ways_do_not_deadlock_or_drift(self, make_account, fund, actor) -> None:
        a, b = make_account(), make_account()
        fund(a, 10_000)
        fund(b, 10_000)

        def work(i: int):
            for n in range(5):
                source, target = (a, b) if (i + n) % 2 else (b, a)
                services.transfer_create(
                    debit_account=source.pk, credit_account=target.pk, amount=i + 1, actor=actor, occurred_at=NOW
                )
            return "ok"

        outcomes = run_threads(20, work)

        assert outcomes == ["ok"] * 20  # no deadlock or serialization error reached a caller
        assert refreshed(a).version + refreshed(b).version == 2 + 200
        result = services.ledger_verify(record=False)
        assert result.is_ok and result.drift_minor_units == 0

    def test_concurrent_post_and_void_of_one_hold_exactly_one_wins(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 1000)
        hold = services.transfer_pend(
            debit_account=wallet, credit_account=cash, amount=400, actor=actor, occurred_at=NOW
        )

        outcomes = run_threads(
            2,
            lambda i: (services.transfer_post if i == 0 else services.transfer_void)(
                transfer=hold.pk, actor=actor, occurred_at=NOW
            ),
        )

        codes = sorted(getattr(o, "code", "ok") for o in outcomes)
        assert codes == ["ok", "transfer_not_pending"]
        account = refreshed(wallet)
        assert account.pending_debits == 0
        assert account.posted_debits in (0, 400)
        assert services.ledger_verify(record=False).is_ok


ENTRY_INSERT = (
    "INSERT INTO ledger_journalentry (id, description, status, is_hold, effective_at, created_at, metadata, "
    "created_by_kind, created_by_id, created_by_label, idempotency_source, idempotency_key, idempotency_fingerprint, "
    "template_name, reversal_of_id) VALUES (%s, 'raw', 'posted', false, now(), now(), '{}', 'system', '', '', '', '', "
    "'', '', %s)"
)
LINE_INSERT = (
    "INSERT INTO ledger_journalline (entry_id, account_id, side, phase, amount, currency_code, balance_after, "
    "account_version, posted_at) VALUES (%s, %s, %s, 'posted', %s, 'USD', 0, %s, now())"
)


def _insert_unbalanced(entry_id, wallet, cash) -> None:
    with transaction.atomic():
        _raw(ENTRY_INSERT, [entry_id, None])
        for account, side, amount in ((wallet, "debit", 100), (cash, "credit", 99)):
            _raw(LINE_INSERT, [entry_id, account.pk, side, amount, 1])


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class TestTriggers:
    def test_an_unbalanced_entry_inserted_by_raw_sql_is_refused_at_commit(self, wallet, cash) -> None:
        entry_id = uuid.uuid4()

        with pytest.raises(IntegrityError, match="unbalanced"):
            _insert_unbalanced(entry_id, wallet, cash)

        assert not JournalEntry.objects.filter(pk=entry_id).exists()

    def test_a_raw_balance_update_without_a_line_is_refused_at_commit(self, wallet) -> None:
        with pytest.raises(IntegrityError, match="not explained by its lines"):
            with transaction.atomic():
                _raw("UPDATE ledger_account SET posted_credits = posted_credits + 5 WHERE id = %s", [wallet.pk])

        assert refreshed(wallet).posted_credits == 0

    def test_lines_cannot_be_added_to_an_entry_of_an_earlier_transaction(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 100)
        entry = services.transfer_create(
            debit_account=wallet, credit_account=cash, amount=10, actor=actor, occurred_at=NOW
        )

        with (
            pytest.raises(IntegrityError, match="only by the transaction that creates the entry"),
            transaction.atomic(),
        ):
            _raw(LINE_INSERT, [entry.pk, wallet.pk, "debit", 5, 99])

    def test_a_line_in_another_currency_than_its_account_is_refused(self, wallet, cash) -> None:
        entry_id = uuid.uuid4()

        def insert_a_eur_line_on_a_usd_account() -> None:
            with transaction.atomic():
                _raw(ENTRY_INSERT, [entry_id, None])
                _raw(LINE_INSERT.replace("'USD'", "'EUR'"), [entry_id, wallet.pk, "debit", 5, 1])

        with pytest.raises(DatabaseError, match="line currency differs"):
            insert_a_eur_line_on_a_usd_account()

        assert not JournalEntry.objects.filter(pk=entry_id).exists()

    def test_a_posted_line_cannot_be_updated_or_deleted(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 100)
        entry = services.transfer_create(
            debit_account=wallet, credit_account=cash, amount=10, actor=actor, occurred_at=NOW
        )
        line = JournalLine.objects.filter(entry=entry).first()

        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic():
                JournalLine.objects.filter(pk=line.pk).update(amount=11)
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic():
                _raw("DELETE FROM ledger_journalline WHERE id = %s", [line.pk])
        with pytest.raises(DatabaseError, match="immutable"):
            with transaction.atomic():
                JournalEntry.objects.filter(pk=entry.pk).update(description="rewritten")

        assert JournalLine.objects.get(pk=line.pk).amount == 10

    def test_reversing_twice_is_refused_by_the_database_too(self, wallet, cash, fund, actor) -> None:
        fund(wallet, 100)
        entry = services.transfer_create(
            debit_account=wallet, credit_account=cash, amount=10, actor=actor, occurred_at=NOW
        )
        services.entry_reverse(entry=entry, actor=actor, occurred_at=NOW, reason="dup")

        with pytest.raises(IntegrityError, match="reversal_of"), transaction.atomic():
            _raw(ENTRY_INSERT, [uuid.uuid4(), entry.pk])

    def test_the_balance_rule_constraint_backs_the_service(self, wallet) -> None:
        with pytest.raises(IntegrityError, match="ledger_account_debits_within_credits"):
            with transaction.atomic():
                _raw("UPDATE ledger_account SET posted_debits = 1 WHERE id = %s", [wallet.pk])

    def test_the_retry_helper_reruns_a_deadlocked_transaction(self) -> None:
        from ledger.retry import run_atomic

        calls = []

        def work():
            calls.append(1)
            if len(calls) == 1:
                _raw("SELECT 1")
                raise OperationalError("deadlock detected") from type("Cause", (Exception,), {"sqlstate": "40P01"})()
            return "done"

        assert run_atomic(work) == "done"
        assert len(calls) == 2

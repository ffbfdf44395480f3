import pytest
from django.core.management import call_command
from django.db import connection

from common.sql_migrations import execute_sql_file
from ledger import services
from ledger.models import JournalLine, LedgerVerification
from ledger.tasks import verify
from tests.ledger.conftest import NOW, events

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(wallet, cash, actor):
    services.account_credit(account=wallet, amount=1000, actor=actor, occurred_at=NOW)
    return services.transfer_create(debit_account=wallet, credit_account=cash, amount=300, actor=actor, occurred_at=NOW)


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class TestLedgerVerify:
    def test_a_whole_ledger_prints_zero_drift_and_records_it(self, ledger, capsys) -> None:
        call_command("ledger_verify")

        out = capsys.readouterr().out
        assert "drift: 0 minor units on 0 account(s)" in out and "ledger ok" in out
        verification = LedgerVerification.objects.latest("pk")
        assert verification.is_ok and verification.drift_minor_units == 0
        assert len(events("ledger.verification.passed", object_id=str(verification.pk))) == 1

    def test_detects_a_balance_changed_by_a_raw_update_behind_the_triggers_back(self, ledger, wallet, capsys) -> None:
        if connection.vendor == "postgresql":
            raw("SET CONSTRAINTS ALL IMMEDIATE")  # fire the checks queued by the fixture before the ALTER
            raw("ALTER TABLE ledger_account DISABLE TRIGGER ledger_account_matches_lines")
        raw("UPDATE ledger_account SET posted_credits = posted_credits + 7 WHERE id = %s", [wallet.pk])

        with pytest.raises(SystemExit) as exited:
            call_command("ledger_verify")

        assert exited.value.code == 1
        out = capsys.readouterr().out
        assert "drift: 7 minor units on 1 account(s)" in out
        assert f"account {wallet.pk}: stored minus lines" in out
        verification = LedgerVerification.objects.latest("pk")
        assert (verification.is_ok, verification.drifted_accounts, verification.drift_minor_units) == (False, 1, 7)

    def test_detects_an_entry_made_unbalanced_with_the_immutability_trigger_lifted(self, ledger, capsys) -> None:
        line = JournalLine.objects.filter(entry=ledger, side="debit").get()
        if connection.vendor == "postgresql":
            raw("SET CONSTRAINTS ALL IMMEDIATE")  # fire the checks queued by the fixture before the DDL
        execute_sql_file(connection, "ledger", "0003_append_only", reverse=True)
        raw("UPDATE ledger_journalline SET amount = 301 WHERE id = %s", [line.pk])
        execute_sql_file(connection, "ledger", "0003_append_only", reverse=False)

        with pytest.raises(SystemExit):
            call_command("ledger_verify", "--no-record")

        out = capsys.readouterr().out
        assert "unbalanced entries: 1" in out and str(ledger.pk) in out
        assert "drift: 1 minor units" in out


class TestTasks:
    def test_nightly_verify_task_stores_the_result(self, ledger) -> None:
        assert verify.apply_async(kwargs={}).get() is True
        assert LedgerVerification.objects.latest("pk").is_ok

    def test_the_beat_schedule_has_expiry_and_verification(self, settings) -> None:
        tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

        assert {"ledger.expire_pending", "ledger.verify"} <= tasks


class TestMetrics:
    def test_the_collector_reports_the_last_verification(self, ledger) -> None:
        from ledger.metrics import LedgerCollector

        services.ledger_verify()

        values = {family.name: family.samples[0].value for family in LedgerCollector().collect()}
        assert values["strongroom_ledger_verification_ok"] == 1
        assert values["strongroom_ledger_drift_minor_units"] == 0
        assert values["strongroom_ledger_pending_transfers"] == 0

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from reserves import selectors, tasks
from reserves.choices import ApprovalStatus
from reserves.models import ApprovalRequest, ReserveEngineRun
from tests.reserves.conftest import DAY, NOW

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("run_reserve_engine", *args, stdout=out)
    return out.getvalue()


class TestRunReserveEngine:
    def test_a_day_runs_once_and_a_rerun_changes_nothing(self, rolling_policy, capture, merchant) -> None:
        capture(merchant)

        first = run("--date", DAY.isoformat())
        second = run("--date", DAY.isoformat())

        assert "1 merchant(s) run, 0 already done; held 10000" in first
        assert "0 merchant(s) run, 1 already done; held 0" in second
        assert ReserveEngineRun.objects.filter(merchant=merchant, run_date=DAY).count() == 1
        assert selectors.reserve_held(merchant_id=merchant.pk, currency_code="USD") == 10_000

    def test_dry_run_rolls_back(self, rolling_policy, capture, merchant) -> None:
        capture(merchant)

        assert "[dry run]" in run("--date", DAY.isoformat(), "--dry-run")
        assert not ReserveEngineRun.objects.exists()

    def test_a_bad_date_is_refused(self, db) -> None:
        with pytest.raises(CommandError):
            run("--date", "02/03/2026")


class TestTasks:
    def test_the_engine_task_runs_the_given_day(self, rolling_policy, capture, merchant) -> None:
        capture(merchant)

        result = tasks.run_engine.apply_async(kwargs={"run_date": DAY.isoformat()}).get()

        assert result == {"run_date": DAY.isoformat(), "merchants": 1, "skipped": 0, "held": 10_000, "released": 0,
                          "failed": 0}  # fmt: skip

    def test_the_expiry_task_marks_old_requests(self, release_request) -> None:
        approval = release_request(now=NOW - timedelta(days=10))

        assert tasks.expire_approvals.apply_async().get() == 1
        approval.refresh_from_db()
        assert approval.status == ApprovalStatus.EXPIRED
        assert ApprovalRequest.objects.get(pk=approval.pk).decided_at is not None

    def test_both_are_on_the_beat_schedule(self) -> None:
        tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert {"reserves.run_engine", "reserves.expire_approvals"} <= tasks_scheduled

from datetime import UTC, datetime, timedelta

import pytest

from disputes import deadlines
from disputes.deadlines import NoResponseWindow
from disputes.models import ReasonCode

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 28, 9, 30, tzinfo=UTC)  # the weekend Europe moves to summer time


class TestDueDates:
    @pytest.mark.parametrize(
        ("network", "code", "stage", "network_days", "cutoff_days"),
        [
            ("visa", "13.1", "chargeback", 30, 7),
            ("visa", "13.1", "pre_arbitration", 30, 7),
            ("visa", "13.1", "arbitration", 10, 5),  # cut-off capped at half the window
            ("visa", "10.4", "inquiry", 30, 7),
            ("mastercard", "4853", "chargeback", 45, 10),
            ("mastercard", "4853", "pre_arbitration", 30, 10),
            ("mastercard", "4870", "arbitration", 10, 5),
            ("amex", "C08", "chargeback", 20, 5),
            ("amex", "C08", "inquiry", 20, 5),
            ("amex", "C08", "arbitration", 10, 5),
            ("discover", "RG", "chargeback", 20, 5),
            ("discover", "RG", "pre_arbitration", 30, 5),
        ],
    )
    def test_network_and_internal_deadlines_per_network_and_stage(
        self, catalog, network, code, stage, network_days, cutoff_days
    ) -> None:
        reason = ReasonCode.objects.get(network=network, code=code, version=1)

        dates = deadlines.due_dates(network=network, stage=stage, response_days=reason.response_days, start=START)

        assert dates.network_due_by == START + timedelta(days=network_days)
        assert dates.due_by == START + timedelta(days=network_days - cutoff_days)

    def test_exact_utc_instants_across_a_dst_change(self, catalog) -> None:
        reason = ReasonCode.objects.get(network="visa", code="13.1")

        dates = deadlines.due_dates(network="visa", stage="chargeback", response_days=reason.response_days, start=START)

        assert dates.network_due_by == datetime(2026, 4, 27, 9, 30, tzinfo=UTC)
        assert dates.due_by == datetime(2026, 4, 20, 9, 30, tzinfo=UTC)

    def test_the_internal_cutoff_comes_from_settings(self, catalog, settings) -> None:
        settings.DISPUTES_INTERNAL_CUTOFF_DAYS = {"visa": 12}
        reason = ReasonCode.objects.get(network="visa", code="13.1")

        dates = deadlines.due_dates(network="visa", stage="chargeback", response_days=reason.response_days, start=START)

        assert dates.due_by == START + timedelta(days=18)

    def test_a_stage_the_code_does_not_have_is_refused(self, catalog) -> None:
        reason = ReasonCode.objects.get(network="mastercard", code="4870")

        with pytest.raises(NoResponseWindow) as refused:
            deadlines.due_dates(
                network="mastercard", stage="pre_arbitration", response_days=reason.response_days, start=START
            )

        assert refused.value.code == "no_response_window"


class TestUrgency:
    @pytest.mark.parametrize(
        ("left", "css"),
        [
            (timedelta(seconds=-1), "sr-urgent-overdue"),
            (timedelta(0), "sr-urgent-overdue"),
            (timedelta(hours=23), "sr-urgent-day"),
            (timedelta(days=1), "sr-urgent-day"),
            (timedelta(days=2), "sr-urgent-days"),
            (timedelta(days=3, seconds=1), ""),
        ],
    )
    def test_css_class_by_time_left(self, left, css) -> None:
        assert deadlines.urgency_class(due_by=START + left, now=START) == css

    def test_time_left_text(self) -> None:
        assert deadlines.format_time_left(due_by=START + timedelta(days=2, hours=3), now=START) == "2d 3h"
        assert deadlines.format_time_left(due_by=START - timedelta(hours=5), now=START) == "overdue 5h 0m"

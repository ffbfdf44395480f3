from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from credits import tasks
from credits.models import CreditExpiry, CreditLot, CreditUnit, Reservation, Wallet
from tests.credits.conftest import SYSTEM, balances

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_runs_both_expiries() -> None:
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"credits.reservations_expire", "credits.lots_expire"} <= tasks_scheduled


def test_the_tasks_release_timed_out_reservations_and_expire_lots(wallet, grant) -> None:
    from credits import services

    past = timezone.now() - timedelta(hours=2)
    lot = grant(wallet, 100, expires_at=past + timedelta(hours=1), occurred_at=past)
    grant(wallet, 50, occurred_at=past)
    reservation = services.reservation_create(wallet=wallet, amount=30, ttl_seconds=60, actor=SYSTEM, occurred_at=past)

    assert tasks.reservations_expire.apply().get() == 1
    assert tasks.lots_expire.apply().get() == 1

    assert Reservation.objects.get(pk=reservation.pk).status == "expired"
    assert CreditExpiry.objects.get(lot=lot).amount == 100
    assert balances(wallet) == (50, 0, 50)


def test_the_commands(wallet, grant, capsys) -> None:
    call_command("credits_expire")
    assert "released 0 reservation(s), expired 0 lot(s)" in capsys.readouterr().out
    call_command("credits_create_unit", "MILES", "--exponent", "2", "--carrier", "CHF")
    assert CreditUnit.objects.get(code="MILES").ledger_currency_code == "CHF"


def test_the_demo_step_is_idempotent(db) -> None:
    from credits.demo import seed_demo_credits
    from tenants.models import Merchant

    assert seed_demo_credits() == []
    Merchant.objects.create(reference="demo-merchant", name="Demo")
    first = seed_demo_credits()
    wallet = Wallet.objects.get(customer_reference="demo-customer-1")
    assert f"demo wallet {wallet.pk}" in first[0]
    assert seed_demo_credits() == first
    assert CreditLot.objects.filter(wallet=wallet).count() == 3

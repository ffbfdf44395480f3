"""Database backstops: the constraints hold even when Python is bypassed (`update()`, raw inserts)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from credits import services
from credits.models import CreditExpiry, CreditLot, CreditUnit, Reservation, Wallet
from tests.credits.conftest import NOW, SYSTEM

pytestmark = pytest.mark.django_db


def refused(queryset, **changes) -> None:  # noqa: ANN001, ANN003
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**changes)


class TestConstraints:
    def test_lot_amounts(self, wallet, grant) -> None:
        lot = grant(wallet, 10)
        lots = CreditLot.objects.filter(pk=lot.pk)
        refused(lots, reserved=11)
        refused(lots, reserved=-1)
        refused(lots, amount=0, remaining=0)
        refused(lots, expired_at=NOW)  # an expired lot may only keep what is reserved

    def test_reservation_resolution_matches_its_status(self, wallet, grant) -> None:
        grant(wallet, 100)
        reservation = services.reservation_create(
            wallet=wallet, amount=10, ttl_seconds=60, actor=SYSTEM, occurred_at=NOW
        )
        rows = Reservation.objects.filter(pk=reservation.pk)
        refused(rows, status="committed")  # no resolved_at, nothing committed
        refused(rows, status="released", resolved_at=NOW, committed_amount=5)
        refused(rows, status="committed", resolved_at=NOW, committed_amount=11)
        refused(rows, status="bogus")
        refused(rows, expires_at=NOW)

    def test_wallet_owner_fields_match_the_owner_kind(self, wallet) -> None:
        refused(Wallet.objects.filter(pk=wallet.pk), customer_reference="")
        refused(Wallet.objects.filter(pk=wallet.pk), owner_kind="merchant")

    def test_one_expiry_per_lot(self, wallet, grant) -> None:
        lot = grant(wallet, 10, expires_at=NOW + timedelta(minutes=1))
        services.lots_expire(now=NOW + timedelta(minutes=1), actor=SYSTEM)
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditExpiry.objects.create(lot=lot, wallet=wallet, amount=0, expired_at=NOW)

    def test_an_iso_unit_is_carried_by_its_own_code(self) -> None:
        unit = services.credit_unit_for_code(code="EUR", actor=SYSTEM, occurred_at=NOW)
        refused(CreditUnit.objects.filter(pk=unit.pk), ledger_currency_code="CHF")

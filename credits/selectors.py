"""Credits reads. Balances come from the wallet's ledger account (ledger.selectors), never from lots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet

from credits.errors import ReservationNotFound, WalletNotFound
from credits.models import CreditLot, Reservation, Wallet
from ledger import selectors as ledger_selectors
from ledger.models import JournalLine
from tenants.scoping import Tenant


@dataclass(frozen=True)
class WalletBalance:
    """In minor units of the wallet's unit: total = posted; reserved = pending holds; available = total − reserved."""

    total: int
    reserved: int
    available: int


def wallet_balance(*, wallet: Wallet) -> WalletBalance:
    """One indexed read of the wallet's ledger account row."""
    balance = ledger_selectors.account_balance(account=wallet.account_id)
    return WalletBalance(total=balance.posted, reserved=balance.pending_debits, available=balance.available)


def wallets_list(*, tenant: Tenant | None = None) -> QuerySet[Wallet]:
    wallets = Wallet.objects.select_related("unit", "merchant", "account")
    if tenant is not None:
        wallets = wallets.for_tenant(tenant)
    return wallets.order_by("pk")


def wallet_get(*, pk: int, tenant: Tenant | None = None) -> Wallet:
    wallet = wallets_list(tenant=tenant).filter(pk=pk).first()
    if wallet is None:
        raise WalletNotFound(fields={"wallet": pk})
    return wallet


def wallet_lots(*, wallet: Wallet | int, include_empty: bool = False) -> QuerySet[CreditLot]:
    """The wallet's lots in consumption order (expiring first, then oldest)."""
    lots = CreditLot.objects.filter(wallet_id=wallet if isinstance(wallet, int) else wallet.pk)
    if not include_empty:
        lots = lots.filter(remaining__gt=0)
    return lots.order_by(F("expires_at").asc(nulls_last=True), "granted_at", "pk")


def wallet_transactions(*, wallet: Wallet, include_pending: bool = False) -> QuerySet[JournalLine]:
    """The wallet's ledger statement (grants, consumptions, breakage; holds with include_pending)."""
    return ledger_selectors.account_statement(account=wallet.account_id, include_pending=include_pending)


def reservation_get(*, pk: object, tenant: Tenant | None = None) -> Reservation:
    reservations = Reservation.objects.select_related("wallet", "wallet__unit")
    if tenant is not None and not tenant.is_platform:
        reservations = reservations.filter(wallet__in=wallets_list(tenant=tenant).values("pk"))
    reservation = reservations.filter(pk=pk).first()
    if reservation is None:
        raise ReservationNotFound(fields={"reservation": str(pk)})
    return reservation


def lots_expiring_soon(*, now: datetime, days: int) -> QuerySet[CreditLot]:
    return CreditLot.objects.filter(
        Q(expired_at__isnull=True), remaining__gt=0, expires_at__gt=now, expires_at__lte=now + timedelta(days=days)
    )

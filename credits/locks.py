"""Row locks of the credits app. Lock order: wallets (by pk) → reservation → ledger accounts (the
ledger's own ordered lock, taken inside its services). Every change of a wallet's lots, consumptions,
reservations and expiries happens under that wallet's lock, so lots need no lock of their own."""

from collections.abc import Iterable

from credits.errors import WalletNotFound
from credits.models import Reservation, Wallet


def lock_wallets(*, pks: Iterable[int]) -> dict[int, Wallet]:
    """Lock wallets in ascending pk order, at once; returns them by pk (missing pks are absent)."""
    rows = (
        Wallet.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=sorted(set(pks)))
        .only(
            "pk",
            "unit_id",
            "owner_kind",
            "merchant_id",
            "account_id",
            "shard",
            "issued_account_id",
            "redeemed_account_id",
            "breakage_account_id",
        )
        .order_by("pk")
    )
    return {wallet.pk: wallet for wallet in rows}


def lock_wallet(*, pk: int) -> Wallet:
    wallet = lock_wallets(pks=[pk]).get(pk)
    if wallet is None:
        raise WalletNotFound(fields={"wallet": pk})
    return wallet


def lock_reservation(*, pk: object) -> Reservation | None:
    return Reservation.objects.select_for_update(of=("self",), no_key=True).filter(pk=pk).first()

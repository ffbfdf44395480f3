"""Credits write API: units, wallets, grants (single and batch), consumption, reservations, expiry.

Every service is keyword-only, takes the acting `actor` and the effective time (`occurred_at` /
`now`), runs in one transaction (its own, retried on deadlock, or the caller's) and records its audit
event in it. Money moves only through `ledger.services`; the wallet's ledger account is the balance
(no second balance implementation). Lots say which grant the balance came from.

The rules, enforced here under the wallet's row lock (credits/locks.py):

* Consumption and reservation take from *free* credit (remaining − reserved) of lots that have not
  expired, ordered by `expires_at` (soonest first, lots without expiry last), then `granted_at`, then pk.
* A reservation earmarks lots (lot.reserved) and pends a ledger transfer; commit takes the committed
  amount from its earmarked lots in the same order (lot.remaining and lot.reserved go down), the rest
  is released; release gives the earmark back (nothing leaves the lots).
* Expiry (the beat task, and at the start of every consume/reserve of the wallet): the free remainder
  of a lot past `expires_at` goes to the unit's breakage account; one CreditExpiry per lot. Credit
  that a pending reservation earmarked stays with the reservation; if it is released later, it goes
  to breakage then (same CreditExpiry row, amount increased).
"""

from __future__ import annotations

import csv
import io
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.context import Actor
from audit.services import audit_record
from common.errors import DomainError
from common.money import ISO_4217_EXPONENTS, InvalidAmount, UnknownCurrency, to_minor
from credits.choices import AccountRole, ImportStatus, ReservationStatus, UnitKind, WalletOwnerKind
from credits.errors import (
    InsufficientCredits,
    InvalidCommitAmount,
    InvalidCreditAmount,
    InvalidGrant,
    InvalidImport,
    InvalidReservation,
    InvalidUnit,
    InvalidWallet,
    ReferenceReused,
    ReservationNotFound,
    ReservationNotPending,
    UnknownUnit,
    WalletExists,
    WalletNotFound,
)
from credits.locks import lock_reservation, lock_wallet, lock_wallets
from credits.models import (
    Consumption,
    ConsumptionLotUse,
    CreditExpiry,
    CreditImport,
    CreditLot,
    CreditUnit,
    Reservation,
    ReservationLotUse,
    UnitAccount,
    Wallet,
)
from ledger import services as ledger
from ledger.choices import AccountType, BalanceRule, OwnerKind
from ledger.retry import run_atomic
from ledger.services import EntrySpec, LineSpec
from tenants.models import Merchant

# One grant's ceiling in minor units: far above any real grant, far below the ledger's 64-bit totals,
# so a typo'd amount is refused (invalid_amount) instead of overflowing the ledger's columns.
MAX_GRANT_AMOUNT = 10**15
RESERVATION_REFERENCE_PREFIX = "reservation:"  # a commit's consumption reference; not for direct consumption
WALLET_ACCOUNT_ROLE = "credits_wallet"  # the ledger API refuses postings by tenants to role accounts
LOT_ORDER = (F("expires_at").asc(nulls_last=True), "granted_at", "pk")
_ACCOUNT_TYPES = {
    AccountRole.ISSUED: AccountType.EXPENSE,
    AccountRole.REDEEMED: AccountType.REVENUE,
    AccountRole.BREAKAGE: AccountType.REVENUE,
}


def _tenant(wallet: Wallet) -> str | None:
    return f"merchant:{wallet.merchant_id}" if wallet.merchant_id else None


def _check_amount(amount: Any, name: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidCreditAmount(fields={name: str(amount)})
    return amount


def _unit_account(unit_id: int, role: str, shard: int) -> int:
    account_id = (
        UnitAccount.objects.filter(unit_id=unit_id, role=role, shard=shard).values_list("account_id", flat=True).first()
    )
    if account_id is None:  # a unit opened before CREDITS_ACCOUNT_SHARDS was raised: shard 0 always exists
        account_id = UnitAccount.objects.filter(unit_id=unit_id, role=role, shard=0).values_list(
            "account_id", flat=True
        )[0]
    return account_id


# --- Units ---------------------------------------------------------------------------------------------


def credit_unit_create(
    *,
    code: str,
    actor: Actor,
    occurred_at: datetime,
    name: str = "",
    exponent: int | None = None,
    ledger_currency_code: str = "",
) -> CreditUnit:
    """Open a unit and its platform-side ledger accounts (issued, redeemed, breakage × shards).

    ISO 4217 code: exponent from common/money.py, carried by itself. Custom code (letters, digits,
    `_`, 3–12 characters, not an ISO code): needs `exponent` and a `ledger_currency_code` — an ISO code
    with the same exponent, not an enabled money currency (LEDGER_CURRENCIES), carrying no other unit.
    """
    code = (code or "").strip().upper()
    if not (3 <= len(code) <= 12 and code.replace("_", "").isalnum() and code.isascii() and code[0].isalpha()):
        raise InvalidUnit(
            "A unit code is 3 to 12 letters, digits or '_', starting with a letter.", fields={"code": code}
        )
    if code in ISO_4217_EXPONENTS:
        kind, carrier = UnitKind.ISO, code
        if exponent not in (None, ISO_4217_EXPONENTS[code]) or ledger_currency_code not in ("", code):
            raise InvalidUnit(f"{code} is an ISO 4217 currency: its exponent and carrier are fixed.")
        exponent = ISO_4217_EXPONENTS[code]
    else:
        kind, carrier = UnitKind.CUSTOM, (ledger_currency_code or "").strip().upper()
        if exponent is None or isinstance(exponent, bool) or not 0 <= exponent <= 6:
            raise InvalidUnit("A custom unit needs an exponent from 0 to 6.", fields={"exponent": exponent})
        if ISO_4217_EXPONENTS.get(carrier) != exponent:
            raise InvalidUnit(
                "A custom unit is carried on the ledger by an ISO 4217 code with the same exponent.",
                fields={"ledger_currency_code": carrier, "exponent": exponent},
            )
        if carrier in settings.LEDGER_CURRENCIES:
            raise InvalidUnit(
                f"{carrier} is an enabled money currency; choose a carrier the platform does not use for money.",
                fields={"ledger_currency_code": carrier},
            )
    if CreditUnit.objects.filter(Q(code=code) | Q(ledger_currency_code=carrier)).exists():
        raise InvalidUnit(
            f"A unit {code} or a unit carried by {carrier} already exists.", fields={"code": code, "carrier": carrier}
        )

    def work() -> CreditUnit:
        unit = CreditUnit(code=code, name=name or code, kind=kind, exponent=exponent, ledger_currency_code=carrier)
        unit.full_clean()
        unit.save(force_insert=True)
        links = []
        for role, account_type in _ACCOUNT_TYPES.items():
            for shard in range(max(1, settings.CREDITS_ACCOUNT_SHARDS)):
                account = ledger.account_create(
                    name=f"Credits {code} {role} #{shard}",
                    type=account_type,
                    currency_code=carrier,
                    owner_kind=OwnerKind.PLATFORM,
                    balance_rule=BalanceRule.ANY,
                    account_number=f"CREDITS-{code}-{role.upper()}-{shard}",
                    metadata={"credits_unit": code, "role": role, "shard": shard},
                    actor=actor,
                    occurred_at=occurred_at,
                )
                links.append(UnitAccount(unit=unit, role=role, shard=shard, account=account))
        UnitAccount.objects.bulk_create(links)
        audit_record(
            action="credits.unit.created",
            actor=actor,
            occurred_at=occurred_at,
            target=unit,
            data={"unit": unit.pk, "code": code, "kind": kind, "exponent": exponent, "carrier": carrier},
        )
        return unit

    return run_atomic(work)


def credit_unit_for_code(*, code: str, actor: Actor, occurred_at: datetime) -> CreditUnit:
    """The unit with this code; an ISO 4217 unit is opened on first use, a custom one must exist."""
    code = (code or "").strip().upper()
    unit = CreditUnit.objects.filter(code=code).first()
    if unit is not None:
        return unit
    if code not in ISO_4217_EXPONENTS:
        raise UnknownUnit(fields={"unit": code})
    try:
        return credit_unit_create(code=code, actor=actor, occurred_at=occurred_at)
    except (InvalidUnit, IntegrityError):  # opened concurrently, or the code carries a custom unit
        unit = CreditUnit.objects.filter(code=code).first()
        if unit is None:
            raise InvalidUnit(
                f"{code} carries a custom credit unit on the ledger and cannot be a wallet unit itself.",
                fields={"unit": code},
            ) from None
        return unit


def amount_to_minor(amount: str | int, unit: CreditUnit) -> int:
    """A decimal string in the unit ('12.50') → minor units; refuses floats and excess precision."""
    try:
        minor = to_minor(amount, unit.ledger_currency_code)
    except (InvalidAmount, UnknownCurrency) as error:
        raise InvalidCreditAmount(error.message.replace(unit.ledger_currency_code, unit.code)) from None
    if minor <= 0:
        raise InvalidCreditAmount("The amount must be positive.", fields={"amount": str(amount)})
    return minor


# --- Wallets -----------------------------------------------------------------------------------------


def wallet_create(
    *,
    unit: CreditUnit | str,
    owner_kind: str,
    actor: Actor,
    occurred_at: datetime,
    merchant: Merchant | None = None,
    customer_reference: str = "",
    customer_email: str = "",
) -> Wallet:
    """Open a wallet and its ledger account (liability, may not go negative). A merchant wallet names
    the merchant; a customer wallet an opaque customer reference (never personal data; the email,
    if given, is stored encrypted) and optionally the merchant whose customer it is."""
    if isinstance(unit, str):
        unit = credit_unit_for_code(code=unit, actor=actor, occurred_at=occurred_at)
    customer_reference = (customer_reference or "").strip()
    if owner_kind == WalletOwnerKind.MERCHANT:
        if merchant is None or customer_reference or customer_email:
            raise InvalidWallet("A merchant wallet names its merchant and no customer.", fields={"owner": owner_kind})
    elif owner_kind == WalletOwnerKind.CUSTOMER:
        if not customer_reference or len(customer_reference) > 64:
            raise InvalidWallet("A customer wallet needs a customer reference (1-64 characters).")
    else:
        raise InvalidWallet(f"Unknown owner kind {owner_kind!r}.", fields={"owner_kind": owner_kind})
    if customer_email and ("@" not in customer_email or len(customer_email) > 254):
        raise InvalidWallet("The customer email is not an email address.", fields={"customer_email": "invalid"})
    existing = Wallet.objects.filter(
        unit=unit, owner_kind=owner_kind, merchant=merchant, customer_reference=customer_reference
    ).first()
    if existing is not None:
        raise WalletExists(fields={"wallet": existing.pk})

    def work() -> Wallet:
        account = ledger.account_create(
            name=f"Credit wallet {unit.code}",
            type=AccountType.LIABILITY,
            currency_code=unit.ledger_currency_code,
            owner_kind=OwnerKind.MERCHANT if owner_kind == WalletOwnerKind.MERCHANT else OwnerKind.CUSTOMER,
            merchant=merchant,
            customer_reference=customer_reference,
            balance_rule=BalanceRule.DEBITS_WITHIN_CREDITS,
            account_number=f"CREDITS-W-{secrets.token_hex(10)}",
            metadata={"credits_unit": unit.code},
            role=WALLET_ACCOUNT_ROLE,  # only credits' flows move it, never the owner's own ledger client
            actor=actor,
            occurred_at=occurred_at,
        )
        # Round-robin over the unit's counterparty shards, so consecutive wallets post against different rows.
        shards = max(1, settings.CREDITS_ACCOUNT_SHARDS)
        shard = (Wallet.objects.filter(unit=unit).count()) % shards
        counterparties = {
            role: _unit_account(unit.pk, role, shard)
            for role in (AccountRole.ISSUED, AccountRole.REDEEMED, AccountRole.BREAKAGE)
        }
        wallet = Wallet(
            unit=unit,
            shard=shard,
            issued_account_id=counterparties[AccountRole.ISSUED],
            redeemed_account_id=counterparties[AccountRole.REDEEMED],
            breakage_account_id=counterparties[AccountRole.BREAKAGE],
            owner_kind=owner_kind,
            merchant=merchant,
            customer_reference=customer_reference,
            customer_email=customer_email or None,
            account=account,
        )
        try:
            with transaction.atomic():
                wallet.save(force_insert=True)
        except IntegrityError:
            raise WalletExists() from None
        audit_record(
            action="credits.wallet.created",
            actor=actor,
            occurred_at=occurred_at,
            target=wallet,
            tenant=_tenant(wallet),
            data={"wallet": wallet.pk, "unit": unit.code, "owner_kind": owner_kind, "account": account.pk},
        )
        return wallet

    return run_atomic(work)


# --- Grants -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantSpec:
    """One grant of a batch."""

    wallet_id: int
    amount: int
    reason: str
    expires_at: datetime | None = None
    idempotency_key: str = ""


def _check_grant(amount: Any, reason: str, expires_at: datetime | None, occurred_at: datetime) -> None:
    _check_amount(amount)
    if amount > MAX_GRANT_AMOUNT:
        raise InvalidCreditAmount(f"A grant is at most {MAX_GRANT_AMOUNT} minor units.", fields={"amount": str(amount)})
    if not (reason or "").strip() or len(reason) > 255:
        raise InvalidGrant("A grant needs a reason (1-255 characters).", fields={"reason": "required"})
    if expires_at is not None and expires_at <= occurred_at:
        raise InvalidGrant("A grant's expiry must be in the future.", fields={"expires_at": expires_at.isoformat()})


def _post_lot(wallet: Wallet, spec: GrantSpec, source: str, actor: Actor, occurred_at: datetime) -> CreditLot:
    entry = ledger.transfer_create(
        debit_account=wallet.issued_account_id,
        credit_account=wallet.account_id,
        amount=spec.amount,
        actor=actor,
        occurred_at=occurred_at,
        description=f"Credit grant: {spec.reason}"[:255],
        metadata={"credits_wallet": wallet.pk, "kind": "grant"},
    )
    return CreditLot.objects.create(
        wallet_id=wallet.pk,
        amount=spec.amount,
        remaining=spec.amount,
        source=source[:32],
        reason=spec.reason.strip(),
        expires_at=spec.expires_at,
        granted_at=occurred_at,
        entry=entry,
        idempotency_key=spec.idempotency_key,
    )


def _existing_grant(wallet_id: int, spec: GrantSpec) -> CreditLot | None:
    if not spec.idempotency_key:
        return None
    lot = CreditLot.objects.filter(wallet_id=wallet_id, idempotency_key=spec.idempotency_key).first()
    if lot is not None and (lot.amount, lot.expires_at, lot.reason) != (spec.amount, spec.expires_at, spec.reason):
        raise ReferenceReused(
            "This idempotency key was used for a different grant.", fields={"idempotency_key": spec.idempotency_key}
        )
    return lot


def credit_grant(
    *,
    wallet: Wallet | int,
    amount: int,
    reason: str,
    actor: Actor,
    occurred_at: datetime,
    expires_at: datetime | None = None,
    source: str = "api",
    idempotency_key: str = "",
) -> CreditLot:
    """Add a lot of `amount` minor units (ledger: Dr issued, Cr wallet). Audited as credits.lot.granted.
    With an idempotency key, a repeat returns the first lot; a different grant under it is refused."""
    _check_grant(amount, reason, expires_at, occurred_at)
    wallet_pk = wallet if isinstance(wallet, int) else wallet.pk
    spec = GrantSpec(wallet_pk, amount, reason.strip(), expires_at, idempotency_key)

    def work() -> CreditLot:
        locked = lock_wallet(pk=wallet_pk)
        existing = _existing_grant(wallet_pk, spec)
        if existing is not None:
            return existing
        lot = _post_lot(locked, spec, source, actor, occurred_at)
        audit_record(
            action="credits.lot.granted",
            actor=actor,
            occurred_at=occurred_at,
            target=lot,
            tenant=_tenant(locked),
            data={
                "wallet": wallet_pk, "lot": lot.pk, "amount": amount, "source": source, "reason": reason[:255],
                "expires_at": expires_at.isoformat() if expires_at else None, "entry": str(lot.entry_id),
            },
        )  # fmt: skip
        return lot

    return run_atomic(work)


def credit_grants_batch(
    *, grants: Sequence[GrantSpec], actor: Actor, occurred_at: datetime, source: str = "batch", reason: str = ""
) -> list[CreditLot]:
    """Grant many lots all or nothing: one transaction, one ledger batch, one audit event
    (credits.grants.batch) listing the lots. A refusal names the grant by `fields.row` (1-based)."""
    if not grants:
        raise InvalidGrant("A batch has at least one grant.", fields={"grants": "empty"})
    for index, spec in enumerate(grants, 1):
        try:
            _check_grant(spec.amount, spec.reason, spec.expires_at, occurred_at)
        except DomainError as error:
            raise InvalidGrant(f"Row {index}: {error.message}", fields={"row": index, **error.fields}) from None

    def work() -> list[CreditLot]:
        wallets = lock_wallets(pks=[spec.wallet_id for spec in grants])
        for index, spec in enumerate(grants, 1):
            if spec.wallet_id not in wallets:
                raise WalletNotFound(f"Row {index}: no wallet {spec.wallet_id}.", fields={"row": index})
        repeats = {spec.idempotency_key for spec in grants if spec.idempotency_key}
        used = set(CreditLot.objects.filter(idempotency_key__in=repeats).values_list("idempotency_key", flat=True))
        for index, spec in enumerate(grants, 1):
            if spec.idempotency_key in used:
                raise ReferenceReused(
                    f"Row {index}: this grant was already made (idempotency key {spec.idempotency_key!r}).",
                    fields={"row": index, "idempotency_key": spec.idempotency_key},
                )
        specs = []
        for spec in grants:
            wallet = wallets[spec.wallet_id]
            specs.append(
                EntrySpec(
                    lines=[
                        LineSpec(side="debit", amount=spec.amount, account_id=wallet.issued_account_id),
                        LineSpec(side="credit", amount=spec.amount, account_id=wallet.account_id),
                    ],
                    description=f"Credit grant: {spec.reason}"[:255],
                    metadata={"credits_wallet": wallet.pk, "kind": "grant"},
                )
            )
        entries = ledger.entries_post_batch(
            entries=specs, actor=actor, occurred_at=occurred_at, description=f"Credit grants ({source})"
        )
        lots = CreditLot.objects.bulk_create(
            [
                CreditLot(
                    wallet_id=spec.wallet_id, amount=spec.amount, remaining=spec.amount, source=source[:32],
                    reason=spec.reason.strip(), expires_at=spec.expires_at, granted_at=occurred_at, entry=entry,
                    idempotency_key=spec.idempotency_key,
                )
                for spec, entry in zip(grants, entries, strict=True)
            ]
        )  # fmt: skip
        totals: dict[int, int] = defaultdict(int)
        for spec in grants:
            totals[spec.wallet_id] += spec.amount
        audit_record(
            action="credits.grants.batch",
            actor=actor,
            occurred_at=occurred_at,
            object_type="credits.creditlot",
            data={
                "count": len(lots), "source": source, "reason": reason[:255], "lots": [lot.pk for lot in lots],
                "totals": {str(k): v for k, v in sorted(totals.items())},
            },
        )  # fmt: skip
        return lots

    return run_atomic(work)


# --- Consumption ---------------------------------------------------------------------------------------


def _usable_lots(wallet: Wallet, now: datetime, actor: Actor) -> list[CreditLot]:
    """Under the wallet's lock, in one read: expire the wallet's due lots, and return the lots with
    free credit that have not expired, in consumption order."""
    lots = list(
        CreditLot.objects.filter(wallet_id=wallet.pk, remaining__gt=0, expired_at__isnull=True)
        .only("pk", "remaining", "reserved", "expires_at", "granted_at")
        .order_by(*LOT_ORDER)
    )
    due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= now]
    if due:
        _expire_due_lots(wallet, now, actor, due)
    return [lot for lot in lots if (lot.expires_at is None or lot.expires_at > now) and lot.remaining > lot.reserved]


def _take(lots: list[CreditLot], amount: int, wallet_pk: int) -> list[tuple[CreditLot, int]]:
    plan, left = [], amount
    for lot in lots:
        if left == 0:
            break
        used = min(lot.remaining - lot.reserved, left)
        plan.append((lot, used))
        left -= used
    if left:
        available = sum(lot.remaining - lot.reserved for lot in lots)
        raise InsufficientCredits(
            f"The wallet has {available} available; {amount} requested.",
            fields={"wallet": wallet_pk, "available": available, "requested": amount},
        )
    return plan


def credit_consume(
    *, wallet: Wallet | int, amount: int, actor: Actor, occurred_at: datetime, reference: str = ""
) -> Consumption:
    """Spend `amount` from the lots expiring first (then oldest), under the wallet's lock (ledger:
    Dr wallet, Cr redeemed). insufficient_credits (422) when the free, unexpired credit is short.
    A repeat with the same reference and amount returns the first consumption."""
    _check_amount(amount)
    wallet_pk = wallet if isinstance(wallet, int) else wallet.pk
    reference = (reference or "").strip()[:200]

    if reference.startswith(RESERVATION_REFERENCE_PREFIX):
        raise ReferenceReused(
            f"References starting with {RESERVATION_REFERENCE_PREFIX!r} belong to reservation commits.",
            fields={"reference": reference},
        )

    def work() -> Consumption:
        locked = lock_wallet(pk=wallet_pk)
        if reference:
            existing = Consumption.objects.filter(wallet_id=wallet_pk, reference=reference).first()
            if existing is not None:
                if existing.amount != amount:
                    raise ReferenceReused(fields={"reference": reference, "consumption": existing.pk})
                return existing
        plan = _take(_usable_lots(locked, occurred_at, actor), amount, wallet_pk)
        entry = ledger.transfer_create(
            debit_account=locked.account_id,
            credit_account=locked.redeemed_account_id,
            amount=amount,
            actor=actor,
            occurred_at=occurred_at,
            description="Credit consumption",
            metadata={"credits_wallet": wallet_pk, "kind": "consume", "reference": reference},
        )
        consumption = Consumption.objects.create(
            wallet_id=wallet_pk, amount=amount, reference=reference, entry=entry, consumed_at=occurred_at
        )
        ConsumptionLotUse.objects.bulk_create(
            [ConsumptionLotUse(consumption=consumption, lot=lot, amount=used) for lot, used in plan]
        )
        for lot, used in plan:
            CreditLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - used)
        audit_record(
            action="credits.consumed",
            actor=actor,
            occurred_at=occurred_at,
            target=consumption,
            tenant=_tenant(locked),
            data={
                "wallet": wallet_pk, "consumption": consumption.pk, "amount": amount, "reference": reference,
                "lots": [[lot.pk, used] for lot, used in plan], "entry": str(entry.pk),
            },
        )  # fmt: skip
        return consumption

    return run_atomic(work)


# --- Reservations ------------------------------------------------------------------------------------


def reservation_create(
    *,
    wallet: Wallet | int,
    amount: int,
    actor: Actor,
    occurred_at: datetime,
    ttl_seconds: int | None = None,
    reference: str = "",
) -> Reservation:
    """Hold `amount` for `ttl_seconds`: earmark lots (expiring first) and pend a ledger transfer
    (Dr wallet, Cr redeemed). Committed or released exactly once; released by the beat after its TTL."""
    _check_amount(amount)
    ttl = settings.CREDITS_RESERVATION_DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    if (
        isinstance(ttl, bool)
        or not isinstance(ttl, int)
        or not 1 <= ttl <= settings.CREDITS_RESERVATION_MAX_TTL_SECONDS
    ):
        raise InvalidReservation(
            f"ttl_seconds must be 1 to {settings.CREDITS_RESERVATION_MAX_TTL_SECONDS}.", fields={"ttl_seconds": ttl}
        )
    wallet_pk = wallet if isinstance(wallet, int) else wallet.pk

    def work() -> Reservation:
        locked = lock_wallet(pk=wallet_pk)
        plan = _take(_usable_lots(locked, occurred_at, actor), amount, wallet_pk)
        hold = ledger.transfer_pend(
            debit_account=locked.account_id,
            credit_account=locked.redeemed_account_id,
            amount=amount,
            actor=actor,
            occurred_at=occurred_at,
            description="Credit reservation",
            metadata={"credits_wallet": wallet_pk, "kind": "reservation"},
        )
        reservation = Reservation.objects.create(
            wallet_id=wallet_pk,
            amount=amount,
            reference=(reference or "").strip()[:200],
            reserved_at=occurred_at,
            expires_at=occurred_at + timedelta(seconds=ttl),
            hold=hold,
        )
        ReservationLotUse.objects.bulk_create(
            [ReservationLotUse(reservation=reservation, lot=lot, amount=used) for lot, used in plan]
        )
        for lot, used in plan:
            CreditLot.objects.filter(pk=lot.pk).update(reserved=F("reserved") + used)
        audit_record(
            action="credits.reservation.created",
            actor=actor,
            occurred_at=occurred_at,
            target=reservation,
            tenant=_tenant(locked),
            data={
                "wallet": wallet_pk, "reservation": str(reservation.pk), "amount": amount, "ttl_seconds": ttl,
                "lots": [[lot.pk, used] for lot, used in plan], "hold": str(hold.pk),
            },
        )  # fmt: skip
        return reservation

    return run_atomic(work)


def _resolve(
    reservation: Reservation | Any, *, commit: int | None, to: str, actor: Actor, occurred_at: datetime, reason: str
) -> Reservation:
    pk = reservation.pk if isinstance(reservation, Reservation) else reservation
    wallet_pk = Reservation.objects.filter(pk=pk).values_list("wallet_id", flat=True).first()
    if wallet_pk is None:
        raise ReservationNotFound(fields={"reservation": str(pk)})

    def work() -> Reservation:
        locked = lock_wallet(pk=wallet_pk)
        current = lock_reservation(pk=pk)
        if current is None or current.status != ReservationStatus.PENDING:
            status = current.status if current else "unknown"
            raise ReservationNotPending(
                f"The reservation is {status}.", fields={"reservation": str(pk), "status": status}
            )
        timed_out = occurred_at >= current.expires_at
        if to == ReservationStatus.EXPIRED and not timed_out:
            raise ReservationNotPending("The reservation has not timed out.", fields={"reservation": str(pk)})
        if to == ReservationStatus.COMMITTED:
            if timed_out:
                raise ReservationNotPending(
                    "The reservation timed out; it is being released.",
                    fields={
                        "reservation": str(pk),
                        "status": "timed_out",
                        "expires_at": current.expires_at.isoformat(),
                    },
                )
            if commit is None:
                commit_amount = current.amount
            elif isinstance(commit, bool) or not isinstance(commit, int) or not 1 <= commit <= current.amount:
                raise InvalidCommitAmount(fields={"amount": commit, "reserved": current.amount})
            else:
                commit_amount = commit
        else:
            commit_amount = 0
        uses = list(
            ReservationLotUse.objects.filter(reservation_id=pk)
            .select_related("lot")
            .order_by(F("lot__expires_at").asc(nulls_last=True), "lot__granted_at", "lot_id")
        )
        # The ledger first: the hold is posted (partly) or voided by its guarded pending → posted/voided.
        posting = None
        if commit_amount:
            posting = ledger.transfer_post(
                transfer=current.hold_id,
                amount=None if commit_amount == current.amount else commit_amount,
                actor=actor,
                occurred_at=occurred_at,
                reason=reason,
            )
        else:
            ledger.transfer_void(transfer=current.hold_id, actor=actor, occurred_at=occurred_at, reason=reason)
        taken: list[tuple[CreditLot, int]] = []
        breakage: list[tuple[CreditLot, int]] = []
        left = commit_amount
        for use in uses:
            used = min(use.amount, left)
            left -= used
            released = use.amount - used
            lost = released if use.lot.expired_at is not None else 0
            CreditLot.objects.filter(pk=use.lot_id).update(
                remaining=F("remaining") - used - lost, reserved=F("reserved") - use.amount
            )
            if used:
                taken.append((use.lot, used))
            if lost:
                breakage.append((use.lot, lost))
        consumption = None
        if commit_amount:
            consumption = Consumption.objects.create(
                wallet_id=wallet_pk,
                amount=commit_amount,
                reference=f"{RESERVATION_REFERENCE_PREFIX}{pk}",
                reservation_id=pk,
                entry=posting,
                consumed_at=occurred_at,
            )
            ConsumptionLotUse.objects.bulk_create(
                [ConsumptionLotUse(consumption=consumption, lot=lot, amount=used) for lot, used in taken]
            )
        if breakage:
            _post_breakage(locked, breakage, actor, occurred_at)
        updated = Reservation.objects.filter(pk=pk, status=ReservationStatus.PENDING).update(
            status=to, resolved_at=occurred_at, committed_amount=commit_amount, updated_at=timezone.now()
        )
        if updated != 1:  # pragma: no cover - the lock makes this unreachable; the guard stays
            raise ReservationNotPending(fields={"reservation": str(pk)})
        current.refresh_from_db()
        action = {
            ReservationStatus.COMMITTED: "credits.reservation.committed",
            ReservationStatus.RELEASED: "credits.reservation.released",
            ReservationStatus.EXPIRED: "credits.reservation.expired",
        }[to]
        audit_record(
            action=action,
            actor=actor,
            occurred_at=occurred_at,
            target=current,
            tenant=_tenant(locked),
            data={
                "wallet": wallet_pk, "reservation": str(pk), "amount": current.amount, "committed": commit_amount,
                "consumption": consumption.pk if consumption else None, "lots": [[lot.pk, used] for lot, used in taken],
                "breakage": [[lot.pk, lost] for lot, lost in breakage], "reason": reason[:500],
            },
        )  # fmt: skip
        return current

    return run_atomic(work)


def reservation_commit(
    *, reservation: Reservation | Any, actor: Actor, occurred_at: datetime, amount: int | None = None
) -> Reservation:
    """Commit the reservation: all of it, or `amount` of it (the rest is released). Once; refused with
    reservation_not_pending (409) when committed, released or timed out."""
    return _resolve(
        reservation, commit=amount, to=ReservationStatus.COMMITTED, actor=actor, occurred_at=occurred_at, reason=""
    )


def reservation_release(
    *, reservation: Reservation | Any, actor: Actor, occurred_at: datetime, reason: str = ""
) -> Reservation:
    """Release the reservation: the earmark returns to its lots (expired lots' share goes to breakage)."""
    return _resolve(
        reservation, commit=None, to=ReservationStatus.RELEASED, actor=actor, occurred_at=occurred_at, reason=reason
    )


def reservations_expire(*, now: datetime, actor: Actor | None = None, limit: int | None = None) -> int:
    """Release pending reservations past their TTL (each in its own transaction). Returns how many."""
    actor = actor or Actor.system("credits.reservations_expire")
    due = list(
        Reservation.objects.filter(status=ReservationStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[: limit or settings.CREDITS_EXPIRE_BATCH_SIZE]
    )
    done = 0
    for pk in due:
        try:
            _resolve(pk, commit=None, to=ReservationStatus.EXPIRED, actor=actor, occurred_at=now, reason="timeout")
        except ReservationNotPending:
            continue  # committed or released meanwhile
        done += 1
    return done


# --- Expiry ------------------------------------------------------------------------------------------------


def _post_breakage(wallet: Wallet, amounts: list[tuple[CreditLot, int]], actor: Actor, occurred_at: datetime) -> Any:
    """One ledger transfer (Dr wallet, Cr breakage) for these lots' amounts; adds them to their expiries."""
    total = sum(amount for _, amount in amounts)
    entry = ledger.transfer_create(
        debit_account=wallet.account_id,
        credit_account=wallet.breakage_account_id,
        amount=total,
        actor=actor,
        occurred_at=occurred_at,
        description="Credit breakage (expired credit)",
        metadata={"credits_wallet": wallet.pk, "kind": "breakage", "lots": [[lot.pk, a] for lot, a in amounts]},
    )
    for lot, amount in amounts:
        CreditExpiry.objects.filter(lot_id=lot.pk).update(amount=F("amount") + amount)
    return entry


def _expire_due_lots(wallet: Wallet, now: datetime, actor: Actor, due: list[CreditLot] | None = None) -> int:
    """Under the wallet's lock: expire its lots past `expires_at` (or the `due` lots the caller read).
    The free remainder goes to breakage (one ledger transfer for all of them); one CreditExpiry per
    lot (amount 0 when nothing was free)."""
    if due is None:
        due = list(
            CreditLot.objects.filter(wallet_id=wallet.pk, expired_at__isnull=True, remaining__gt=0, expires_at__lte=now)
            .only("pk", "remaining", "reserved", "expires_at")
            .order_by(*LOT_ORDER)
        )
    if not due:
        return 0
    free = [(lot, lot.remaining - lot.reserved) for lot in due]
    total = sum(amount for _, amount in free)
    entry = None
    if total:
        entry = ledger.transfer_create(
            debit_account=wallet.account_id,
            credit_account=wallet.breakage_account_id,
            amount=total,
            actor=actor,
            occurred_at=now,
            description="Credit breakage (expired credit)",
            metadata={"credits_wallet": wallet.pk, "kind": "breakage", "lots": [[lot.pk, a] for lot, a in free]},
        )
    CreditExpiry.objects.bulk_create(
        [
            CreditExpiry(lot=lot, wallet_id=wallet.pk, amount=amount, expired_at=now, entry=entry if amount else None)
            for lot, amount in free
        ]
    )
    CreditLot.objects.filter(pk__in=[lot.pk for lot in due]).update(remaining=F("reserved"), expired_at=now)
    for lot, amount in free:
        audit_record(
            action="credits.lot.expired",
            actor=actor,
            occurred_at=now,
            object_type="credits.creditlot",
            object_id=str(lot.pk),
            tenant=_tenant(wallet),
            data={
                "wallet": wallet.pk, "lot": lot.pk, "breakage": amount, "held_by_reservations": lot.reserved,
                "expires_at": lot.expires_at.isoformat() if lot.expires_at else None,
                "entry": str(entry.pk) if entry and amount else None,
            },
        )  # fmt: skip
    return len(due)


def lots_expire(*, now: datetime, actor: Actor | None = None, limit: int | None = None) -> int:
    """Expire lots past `expires_at` (each wallet in its own transaction). Idempotent: a lot expires
    once (CreditExpiry is unique per lot and only unexpired lots are picked). Returns lots expired."""
    actor = actor or Actor.system("credits.lots_expire")
    wallet_pks = list(
        CreditLot.objects.filter(expired_at__isnull=True, remaining__gt=0, expires_at__lte=now)
        .order_by("wallet_id")
        .values_list("wallet_id", flat=True)
        .distinct()[: limit or settings.CREDITS_EXPIRE_BATCH_SIZE]
    )
    done = 0
    for wallet_pk in wallet_pks:
        done += run_atomic(lambda pk=wallet_pk: _expire_due_lots(lock_wallet(pk=pk), now, actor))
    return done


# --- CSV import ---------------------------------------------------------------------------------------

IMPORT_COLUMNS = ("wallet", "amount", "expires_at", "reason")
IMPORT_COLUMNS_READ = (*IMPORT_COLUMNS, "unit")  # `unit` is optional; when given it must be the wallet's
_WALLET_ID_DIGITS = 18  # a wallet id is a positive 64-bit integer


def credit_import_create(*, filename: str, content: bytes, actor: Actor, occurred_at: datetime) -> CreditImport:
    """Store an uploaded CSV (columns wallet, amount, expires_at, reason) and queue its validation.
    A file that is not UTF-8 CSV with these columns, or is too large, is refused at once."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidImport("The file is not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in ("wallet", "amount", "reason") if name not in header]
    if missing:
        raise InvalidImport(f"The header must name the columns {', '.join(IMPORT_COLUMNS)}; missing: {missing}.")
    raw = []
    for record in reader:
        row = {(k or "").strip(): v for k, v in record.items()}
        values = {name: (row.get(name) or "").strip() for name in IMPORT_COLUMNS_READ}
        if not any(values.values()):
            continue  # a blank row (",,,", as spreadsheets export them), like an empty line
        # The row's number as the user sees it: its line in the file, less the header line.
        raw.append({**values, "_row": reader.line_num - 1})
    if not raw:
        raise InvalidImport("The file has no rows.")
    if len(raw) > settings.CREDITS_IMPORT_MAX_ROWS:
        raise InvalidImport(f"At most {settings.CREDITS_IMPORT_MAX_ROWS} rows per file.")

    def work() -> CreditImport:
        job = CreditImport.objects.create(
            filename=filename[:255], raw_rows=raw, total_rows=len(raw), created_by_id=actor.id[:64],
            created_by_label=actor.label[:255],
        )  # fmt: skip
        audit_record(
            action="credits.import.uploaded",
            actor=actor,
            occurred_at=occurred_at,
            target=job,
            data={"import": job.pk, "filename": filename[:255], "rows": len(raw)},
        )
        from credits.tasks import import_validate as import_validate_task

        transaction.on_commit(lambda: import_validate_task.apply_async(kwargs={"import_id": job.pk}))
        return job

    return run_atomic(work)


def _wallet_id(text: str) -> int | None:
    """The wallet id a CSV cell names, or None: ASCII digits only, within a 64-bit pk."""
    if not (text.isascii() and text.isdigit() and len(text) <= _WALLET_ID_DIGITS):
        return None
    return int(text)


def _parse_row(number: int, row: dict[str, str], units: dict[int, CreditUnit], now: datetime) -> dict[str, Any]:
    wallet_text = row.get("wallet", "")
    wallet_id = _wallet_id(wallet_text)
    if wallet_id is None or wallet_id not in units:
        raise InvalidImport(f"no wallet {wallet_text[:40]!r}")
    unit = units[wallet_id]
    if row.get("unit") and row["unit"].upper() != unit.code:
        raise InvalidImport(f"wallet {wallet_id} counts {unit.code}, not {row['unit'][:12]!r}")
    amount = amount_to_minor(row.get("amount", ""), unit)
    expires_at = None
    if row.get("expires_at"):
        try:
            expires_at = parse_datetime(row["expires_at"])
        except ValueError:  # well formed but not a date, e.g. month 13
            expires_at = None
        if expires_at is None or timezone.is_naive(expires_at):
            raise InvalidImport(f"expires_at {row['expires_at'][:40]!r} is not an ISO 8601 time with a zone")
    _check_grant(amount, row.get("reason", ""), expires_at, now)
    return {
        "row": number, "wallet": wallet_id, "amount": amount, "reason": row["reason"][:255],
        "expires_at": expires_at.isoformat() if expires_at else None,
    }  # fmt: skip


def credit_import_validate(
    *, import_id: int, now: datetime | None = None, chunk_rows: int | None = None
) -> CreditImport:
    """Validate the rows in chunks, each committed with its progress (processed_rows), so the admin
    page can show it. Ends `validated` (no errors) or `invalid` (every bad row named by its line less the header)."""
    chunk = chunk_rows or settings.CREDITS_IMPORT_CHUNK_ROWS
    job = CreditImport.objects.get(pk=import_id)
    now = now or timezone.now()
    while job.status == ImportStatus.VALIDATING and job.processed_rows < job.total_rows:
        start = job.processed_rows
        part = job.raw_rows[start : start + chunk]
        wanted = {_wallet_id(r.get("wallet", "")) for r in part} - {None}
        units = {w.pk: w.unit for w in Wallet.objects.filter(pk__in=wanted).select_related("unit")}
        rows, errors = [], []
        for offset, raw in enumerate(part):
            number = raw.get("_row", start + offset + 1)
            try:
                rows.append(_parse_row(number, raw, units, now))
            except DomainError as error:
                errors.append({"row": number, "message": f"Row {number}: {error.message}"})
        with transaction.atomic():
            CreditImport.objects.filter(pk=job.pk).update(
                processed_rows=start + len(part), rows=job.rows + rows, errors=job.errors + errors
            )
        job.refresh_from_db()
    if job.status == ImportStatus.VALIDATING:
        status = ImportStatus.INVALID if job.errors else ImportStatus.VALIDATED
        CreditImport.objects.filter(pk=job.pk, status=ImportStatus.VALIDATING).update(
            status=status, finished_at=timezone.now() if status == ImportStatus.INVALID else None
        )
        job.refresh_from_db()
    return job


def credit_import_apply(*, import_id: int, actor: Actor, occurred_at: datetime) -> CreditImport:
    """Grant every row of a validated import in one transaction (credit_grants_batch): all or nothing.
    A refusal (e.g. a wallet gone since validation) imports nothing and names the row."""
    started = CreditImport.objects.filter(pk=import_id, status=ImportStatus.VALIDATED).update(
        status=ImportStatus.APPLYING
    )
    if not started:
        raise InvalidImport("Only a validated import can be applied, once.", fields={"import": import_id})
    job = CreditImport.objects.get(pk=import_id)
    grants = [
        GrantSpec(
            wallet_id=row["wallet"], amount=row["amount"], reason=row["reason"],
            expires_at=parse_datetime(row["expires_at"]) if row["expires_at"] else None,
            idempotency_key=f"import:{job.pk}:{row['row']}",
        )
        for row in job.rows
    ]  # fmt: skip

    def work() -> CreditImport:
        lots = credit_grants_batch(
            grants=grants, actor=actor, occurred_at=occurred_at, source="import", reason=f"CSV import {job.pk}"
        )
        CreditImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.APPLIED, lots_created=len(lots), finished_at=timezone.now()
        )
        audit_record(
            action="credits.import.applied",
            actor=actor,
            occurred_at=occurred_at,
            target=job,
            data={"import": job.pk, "lots": len(lots), "total": sum(g.amount for g in grants)},
        )
        return job

    try:
        run_atomic(work)
    except DomainError as error:
        row = error.fields.get("row")
        number = job.rows[row - 1]["row"] if isinstance(row, int) and 0 < row <= len(job.rows) else None
        message = error.message if number is None else f"Row {number}: {error.message.split(': ', 1)[-1]}"
        CreditImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, errors=[{"row": number, "message": message}], finished_at=timezone.now()
        )
    except Exception:
        # Anything else (a database outage …): nothing was granted (one transaction); say so rather than
        # leave the import "applying" for good, and let the task's error reporting see the cause.
        CreditImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED,
            errors=[{"row": None, "message": "The import failed unexpectedly; nothing was granted. Upload it again."}],
            finished_at=timezone.now(),
        )
        raise
    job.refresh_from_db()
    return job

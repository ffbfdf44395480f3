"""Credits models: units, wallets (each backed by one ledger account), lots, consumptions,
reservations (ledger holds), expiries and CSV imports.

Balances live in the ledger only: a wallet's total, reserved and available amounts are its ledger
account's posted balance, pending debits and available balance. Lots record *where* that balance
came from: at every commit, for each wallet,

    sum(lot.remaining) = ledger posted balance       sum(lot.reserved) = ledger pending debits

All changes of a wallet's lots happen under the wallet's row lock (credits/locks.py), in the same
transaction as the ledger posting that explains them.
"""

import uuid

from django.db import models
from django.db.models import F, Q

from credits.choices import AccountRole, ImportStatus, ReservationStatus, UnitKind, WalletOwnerKind
from ledger.models import Account, JournalEntry
from tenants.models import Merchant
from tenants.scoping import TenantQuerySet
from vault.fields import EncryptedTextField


class CreditUnit(models.Model):
    """What a wallet counts: an ISO 4217 currency, or a custom unit (e.g. POINTS) with its exponent.

    The ledger accepts ISO 4217 codes only (Account.currency_code, common/money.py), so a custom unit
    is *carried* on the ledger by an ISO code with the same exponent that the platform does not use
    for money (not in LEDGER_CURRENCIES) and that no other unit carries (unique).
    """

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=UnitKind.choices)
    exponent = models.PositiveSmallIntegerField()
    ledger_currency_code = models.CharField(max_length=3, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=UnitKind.values),
                name="credits_creditunit_kind_valid",
                violation_error_message="Unknown unit kind.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=UnitKind.ISO) | Q(ledger_currency_code=F("code")),
                name="credits_creditunit_iso_is_its_own_ledger_currency",
                violation_error_message="An ISO unit is carried by its own currency code.",
            ),
            models.CheckConstraint(
                condition=Q(exponent__lte=6),
                name="credits_creditunit_exponent_range",
                violation_error_message="The exponent is 0 to 6.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} (pk={self.pk})"


class UnitAccount(models.Model):
    """One platform-side ledger account of a unit: role × shard."""

    unit = models.ForeignKey(CreditUnit, on_delete=models.PROTECT, related_name="accounts")
    role = models.CharField(max_length=12, choices=AccountRole.choices)
    shard = models.PositiveSmallIntegerField()
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "role", "shard"],
                name="credits_unitaccount_unique_role_shard",
                violation_error_message="This unit already has an account for this role and shard.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=AccountRole.values),
                name="credits_unitaccount_role_valid",
                violation_error_message="Unknown account role.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}:{self.role}:{self.shard} (pk={self.pk})"


class WalletQuerySet(TenantQuerySet):
    pass


class Wallet(models.Model):
    """A prepaid credit wallet of a merchant, or of a customer (of a merchant, or of the platform).

    Backed by one ledger liability account with the rule `debits_within_credits`: posted and pending
    debits never exceed credits, so the wallet never goes negative (checked by the ledger under its
    lock and by a database constraint). The customer's email is encrypted by the vault.
    """

    TENANT_FIELDS = {"merchant": "merchant_id"}

    unit = models.ForeignKey(CreditUnit, on_delete=models.PROTECT, related_name="wallets")
    owner_kind = models.CharField(max_length=10, choices=WalletOwnerKind.choices)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    customer_reference = models.CharField(max_length=64, blank=True)
    customer_email = EncryptedTextField(null=True, blank=True)
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="credit_wallet")
    # The unit's counterparty accounts of this wallet's shard, fixed at creation (no lookup per posting).
    shard = models.PositiveSmallIntegerField(default=0)
    issued_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    redeemed_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    breakage_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WalletQuerySet.as_manager()

    class Meta:
        permissions = [
            ("grant_credits", "Can grant credits"),
            ("import_credits", "Can import credit grants from CSV"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_kind=WalletOwnerKind.MERCHANT, merchant__isnull=False, customer_reference="")
                | (Q(owner_kind=WalletOwnerKind.CUSTOMER) & ~Q(customer_reference="")),
                name="credits_wallet_owner_consistent",
                violation_error_message="A merchant wallet names its merchant; a customer wallet its customer.",
            ),
            models.UniqueConstraint(
                fields=["unit", "merchant"],
                condition=Q(owner_kind=WalletOwnerKind.MERCHANT),
                name="credits_wallet_unique_merchant_owner",
                violation_error_message="This merchant already has a wallet in this unit.",
            ),
            models.UniqueConstraint(
                fields=["unit", "merchant", "customer_reference"],
                condition=Q(owner_kind=WalletOwnerKind.CUSTOMER, merchant__isnull=False),
                name="credits_wallet_unique_merchant_customer",
                violation_error_message="This customer already has a wallet in this unit.",
            ),
            models.UniqueConstraint(
                fields=["unit", "customer_reference"],
                condition=Q(owner_kind=WalletOwnerKind.CUSTOMER, merchant__isnull=True),
                name="credits_wallet_unique_platform_customer",
                violation_error_message="This customer already has a wallet in this unit.",
            ),
        ]

    def __str__(self) -> str:
        owner = f"merchant {self.merchant_id}" if self.owner_kind == WalletOwnerKind.MERCHANT else "customer"
        return f"Wallet {self.pk} ({owner}, {self.unit_id and self.unit.code})"

    @property
    def owner_ref(self) -> str:
        if self.owner_kind == WalletOwnerKind.MERCHANT:
            return f"merchant:{self.merchant_id}"
        return f"customer:{self.customer_reference}"


class CreditLot(models.Model):
    """One grant: `amount` added at `granted_at`, of which `remaining` is unused and, of that,
    `reserved` is earmarked by pending reservations. An expired lot (`expired_at` set) keeps only
    what pending reservations earmarked; the rest went to breakage (CreditExpiry)."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="lots")
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()
    reserved = models.BigIntegerField(default=0)
    source = models.CharField(max_length=32)
    reason = models.CharField(max_length=255)
    expires_at = models.DateTimeField(null=True, blank=True)
    granted_at = models.DateTimeField()
    expired_at = models.DateTimeField(null=True, blank=True)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["wallet", "expires_at", "granted_at", "id"],
                name="credits_lot_open_order",
                condition=Q(remaining__gt=0),
            ),
            models.Index(
                fields=["expires_at"], name="credits_lot_due", condition=Q(expired_at__isnull=True, remaining__gt=0)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(reserved__gte=0)
                & Q(remaining__gte=F("reserved"))
                & Q(remaining__lte=F("amount")),
                name="credits_creditlot_remaining_within_amount",
                violation_error_message="0 <= reserved <= remaining <= amount, amount > 0.",
            ),
            models.CheckConstraint(
                condition=Q(expired_at__isnull=True) | Q(remaining=F("reserved")),
                name="credits_creditlot_expired_keeps_only_reserved",
                violation_error_message="An expired lot holds nothing beyond what reservations earmarked.",
            ),
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="credits_creditlot_unique_idempotency_key",
                violation_error_message="A grant with this idempotency key already exists for this wallet.",
            ),
        ]

    def __str__(self) -> str:
        return f"Lot {self.pk}: {self.remaining}/{self.amount} (wallet {self.wallet_id})"

    @property
    def free(self) -> int:
        return self.remaining - self.reserved


class Reservation(models.Model):
    """A two-phase hold on a wallet: a ledger pending transfer, committed (fully or partly) or released
    exactly once. Which lots it earmarked is in ReservationLotUse."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="reservations")
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.PENDING)
    reserved_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    committed_amount = models.BigIntegerField(default=0)
    hold = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["expires_at"], name="credits_reservation_due", condition=Q(status=ReservationStatus.PENDING)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReservationStatus.values),
                name="credits_reservation_status_valid",
                violation_error_message="Unknown reservation status.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0, expires_at__gt=F("reserved_at")),
                name="credits_reservation_amount_and_ttl_positive",
                violation_error_message="A reservation holds a positive amount for a positive time.",
            ),
            models.CheckConstraint(
                condition=Q(status=ReservationStatus.PENDING, resolved_at__isnull=True, committed_amount=0)
                | Q(status=ReservationStatus.COMMITTED, resolved_at__isnull=False, committed_amount__gt=0)
                & Q(committed_amount__lte=F("amount"))
                | Q(
                    status__in=[ReservationStatus.RELEASED, ReservationStatus.EXPIRED],
                    resolved_at__isnull=False,
                    committed_amount=0,
                ),
                name="credits_reservation_resolution_consistent",
                violation_error_message="Resolution time and committed amount do not match the status.",
            ),
        ]

    def __str__(self) -> str:
        return f"Reservation {self.pk} ({self.status}) {self.amount} on wallet {self.wallet_id}"


class ReservationLotUse(models.Model):
    """How much of a lot a reservation earmarked."""

    reservation = models.ForeignKey(Reservation, on_delete=models.PROTECT, related_name="lot_uses")
    lot = models.ForeignKey(CreditLot, on_delete=models.PROTECT, related_name="reservation_uses")
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="credits_reservationlotuse_amount_positive",
                violation_error_message="A lot use is a positive amount.",
            ),
            models.UniqueConstraint(
                fields=["reservation", "lot"],
                name="credits_reservationlotuse_unique_lot",
                violation_error_message="A reservation uses a lot once.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of lot {self.lot_id} for reservation {self.reservation_id}"


class Consumption(models.Model):
    """Credits spent: directly (`credit_consume`) or by committing a reservation."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="consumptions")
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=200, blank=True)
    reservation = models.OneToOneField(
        Reservation, on_delete=models.PROTECT, null=True, blank=True, related_name="consumption"
    )
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="+")
    consumed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="credits_consumption_amount_positive",
                violation_error_message="A consumption is a positive amount.",
            ),
            models.UniqueConstraint(
                fields=["wallet", "reference"],
                condition=~Q(reference=""),
                name="credits_consumption_unique_reference",
                violation_error_message="This wallet already has a consumption with this reference.",
            ),
        ]

    def __str__(self) -> str:
        return f"Consumption {self.pk}: {self.amount} from wallet {self.wallet_id}"


class ConsumptionLotUse(models.Model):
    """How much of a lot a consumption took."""

    consumption = models.ForeignKey(Consumption, on_delete=models.PROTECT, related_name="lot_uses")
    lot = models.ForeignKey(CreditLot, on_delete=models.PROTECT, related_name="consumption_uses")
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="credits_consumptionlotuse_amount_positive",
                violation_error_message="A lot use is a positive amount.",
            ),
            models.UniqueConstraint(
                fields=["consumption", "lot"],
                name="credits_consumptionlotuse_unique_lot",
                violation_error_message="A consumption uses a lot once.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of lot {self.lot_id} for consumption {self.consumption_id}"


class CreditExpiry(models.Model):
    """The expiry of one lot (one row per lot: reruns are no-ops). `amount` is what went to breakage;
    it grows if credit that pending reservations earmarked at expiry is later released."""

    lot = models.OneToOneField(CreditLot, on_delete=models.PROTECT, related_name="expiry")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="expiries")
    amount = models.BigIntegerField()
    expired_at = models.DateTimeField()
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "credit expiries"
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="credits_creditexpiry_amount_non_negative",
                violation_error_message="Breakage is never negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"Expiry of lot {self.lot_id}: {self.amount} (pk={self.pk})"


class CreditImport(models.Model):
    """A CSV of grants uploaded in the admin: validated in committed chunks (progress), then applied
    all or nothing in one transaction. Rows hold wallet ids and amounts only (no personal data)."""

    filename = models.CharField(max_length=255)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.VALIDATING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    raw_rows = models.JSONField(default=list, blank=True)
    rows = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    lots_created = models.PositiveIntegerField(default=0)
    created_by_id = models.CharField(max_length=64, blank=True)
    created_by_label = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values) & Q(processed_rows__lte=F("total_rows")),
                name="credits_creditimport_status_and_progress_valid",
                violation_error_message="Unknown status, or more rows processed than the file has.",
            ),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} {self.filename} ({self.status})"

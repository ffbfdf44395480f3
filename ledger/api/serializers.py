"""Shapes of the ledger API: input serializers (parse, then resolve accounts in the caller's tenant and
convert decimal strings to minor units) and output serializers (minor units back to decimal strings).

Amounts cross this edge only as decimal strings ("100.00"); a JSON number, excess precision or a
non-positive amount is refused with `invalid_amount` (400). Accounts are named by `account_number`
and looked up only among the accounts the token's tenant owns (all of them for platform clients),
so another tenant's account is `account_not_found` (404) exactly like an unknown one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from common.api.fields import (  # noqa: F401  (re-exported: the ledger API's names)
    AMOUNT_SCHEMA,
    SIGNED_AMOUNT_SCHEMA,
    AmountField,
    MinorUnitsField,
    decimal,
    minor_units,
)
from common.money import InvalidAmount, exponent
from ledger.choices import AccountType, BalanceRule, OwnerKind, Side
from ledger.errors import AccountNotFound, CurrencyMismatch, InvalidTemplateParams
from ledger.models import Account, JournalEntry, JournalLine, TransactionTemplate
from ledger.services import Condition, EntrySpec, LineSpec
from tenants.models import Merchant, Partner
from tenants.scoping import Tenant

MAX_LINES = 1000
MAX_BATCH_ENTRIES = 500
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600
ACCOUNT_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"  # no ':' — chart addresses stay the chart's

# --- Tenancy -------------------------------------------------------------------------------------


def platform_only(tenant: Tenant, what: str) -> None:
    if not tenant.is_platform:
        raise PermissionDenied(f"{what} is for platform clients only.")


def scoped_accounts(tenant: Tenant, numbers: Iterable[str], *, posting: bool = False) -> dict[str, Account]:
    """The accounts with these numbers among those `tenant` owns, in one query; `account_not_found`
    (404) for any other, whether unknown or another tenant's. A tenant's client may post only to its
    own ad-hoc accounts: chart accounts (payable, reserve …) move by the platform's flows."""
    wanted = sorted(set(numbers))
    found = {a.account_number: a for a in Account.objects.for_tenant(tenant).filter(account_number__in=wanted)}
    missing = [number for number in wanted if number not in found]
    if missing:
        raise AccountNotFound(
            f"No ledger account {', '.join(repr(n) for n in missing)}.", fields={"account_number": missing}
        )
    if posting and not tenant.is_platform:
        charted = sorted(number for number, account in found.items() if account.role)
        if charted:
            raise PermissionDenied(f"Chart accounts ({', '.join(charted)}) are posted to by platform clients only.")
    return found


def owner_key(account: Account) -> str:
    if account.owner_kind == OwnerKind.MERCHANT:
        return f"merchant:{account.merchant_id}"
    if account.owner_kind == OwnerKind.PARTNER:
        return f"partner:{account.partner_id}"
    if account.owner_kind == OwnerKind.CUSTOMER:
        return f"customer:{account.customer_reference}"
    return "platform"


# --- Accounts ------------------------------------------------------------------------------------


class AccountCreateSerializer(serializers.Serializer):
    account_number = serializers.RegexField(
        ACCOUNT_NUMBER_PATTERN, help_text="Letters, digits, '.', '_', '-'; unique across the ledger."
    )
    account_type = serializers.ChoiceField(choices=AccountType.choices)
    name = serializers.CharField(max_length=200)
    currency_code = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. USD.")
    balance_rule = serializers.ChoiceField(choices=BalanceRule.choices, default=BalanceRule.ANY)
    owner = serializers.RegexField(
        r"^(merchant|partner):\d{1,18}$|^platform$",
        required=False,
        help_text="'merchant:<id>', 'partner:<id>' or 'platform'; platform clients only. "
        "A tenant's client owns what it creates.",
    )
    metadata = serializers.DictField(required=False, default=dict)

    def validate_currency_code(self, value: str) -> str:
        exponent(value)  # unknown_currency (400) unless ISO 4217
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        tenant: Tenant = self.context["tenant"]
        owner = data.pop("owner", None)
        if not tenant.is_platform:
            if owner is not None and owner != tenant.key:
                raise PermissionDenied("The owner of an account is set by platform clients only.")
            owner = tenant.key
        kind, _, pk = (owner or "platform").partition(":")
        data.update(owner_kind=kind, merchant=None, partner=None)
        if kind in (OwnerKind.MERCHANT, OwnerKind.PARTNER):
            model = Merchant if kind == OwnerKind.MERCHANT else Partner
            data[kind] = model.objects.filter(pk=int(pk)).first()
            if data[kind] is None:
                raise serializers.ValidationError({"owner": [f"No {kind} {pk}."]})
        return data


class BalancesSerializer(serializers.Serializer):
    posted = MinorUnitsField("posted_balance", help_text="Posted balance, in the account's normal orientation.")
    pending = MinorUnitsField(
        "pending_balance", help_text="Net pending movement (posted + pending = the balance once every hold posts)."
    )
    available = MinorUnitsField("available_balance", help_text="Posted less what pending transfers may take out.")


class AccountSerializer(serializers.Serializer):
    account_number = serializers.CharField()
    name = serializers.CharField()
    account_type = serializers.CharField(source="type")
    currency_code = serializers.CharField()
    status = serializers.CharField()
    balance_rule = serializers.CharField()
    owner = serializers.SerializerMethodField()
    role = serializers.CharField(help_text="Chart-of-accounts role, empty for ad-hoc accounts.")
    address = serializers.CharField(allow_null=True)
    metadata = serializers.DictField()
    version = serializers.IntegerField()
    balances = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_owner(self, account: Account) -> str:
        return owner_key(account)

    @extend_schema_field(BalancesSerializer)
    def get_balances(self, account: Account) -> dict[str, str]:
        return BalancesSerializer(BalanceView(account)).data


class BalanceView:
    """An account's balances now, from its row (no sums): posted, net pending, available."""

    def __init__(self, account: Account) -> None:
        self.currency_code = account.currency_code
        self.posted_balance = account.posted_balance
        net_pending = account.pending_debits - account.pending_credits
        self.pending_balance = net_pending if account.is_debit_normal else -net_pending
        self.available_balance = account.available_balance


class BalanceQuerySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(required=False, help_text="ISO 8601; the posted balance at that time.")


class BalanceSerializer(serializers.Serializer):
    account_number = serializers.CharField()
    currency_code = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True)
    posted = serializers.CharField()
    pending = serializers.CharField(allow_null=True, help_text="Null for a balance as of a past time.")
    available = serializers.CharField(allow_null=True, help_text="Null for a balance as of a past time.")
    version = serializers.IntegerField(allow_null=True, help_text="Null for a balance as of a past time.")


class StatementQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text="Lines posted at or after this time.")
    until = serializers.DateTimeField(required=False, help_text="Lines posted before this time.")
    include_pending = serializers.BooleanField(required=False, default=False, help_text="Also list hold lines.")


class StatementLineSerializer(serializers.ModelSerializer):
    entry_id = serializers.UUIDField()
    description = serializers.CharField(source="entry.description")
    effective_at = serializers.DateTimeField(source="entry.effective_at")
    amount = MinorUnitsField("amount")
    balance_after = MinorUnitsField("balance_after", help_text="Running posted balance right after this line.")

    class Meta:
        model = JournalLine
        fields = [
            "entry_id", "account_version", "posted_at", "effective_at", "description", "side", "phase", "amount",
            "currency_code", "balance_after",
        ]  # fmt: skip


# --- Entries -------------------------------------------------------------------------------------


class LineInSerializer(serializers.Serializer):
    account_number = serializers.CharField(max_length=120)
    side = serializers.ChoiceField(choices=Side.choices)
    amount = AmountField()


class ConditionInSerializer(serializers.Serializer):
    account_number = serializers.CharField(max_length=120)
    min_available = AmountField(required=False, help_text="The account's available balance must be at least this.")
    expected_version = serializers.IntegerField(
        required=False, min_value=0, help_text="The account's version must equal this."
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "min_available" not in data and "expected_version" not in data:
            raise serializers.ValidationError("Give min_available and/or expected_version.")
        return data


def _effective_at(value: Any) -> Any:
    if value is not None and value > timezone.now():
        raise serializers.ValidationError("Must not be in the future.")
    return value


class BatchEntrySerializer(serializers.Serializer):
    description = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    lines = LineInSerializer(many=True, min_length=2, max_length=MAX_LINES)
    metadata = serializers.DictField(required=False, default=dict)


def _line_specs(lines: list[Mapping[str, Any]], accounts: Mapping[str, Account], prefix: str) -> list[LineSpec]:
    return [
        LineSpec(
            side=line["side"],
            amount=minor_units(line["amount"], accounts[line["account_number"]].currency_code, f"{prefix}[{i}].amount"),
            account_id=accounts[line["account_number"]].pk,
        )
        for i, line in enumerate(lines)
    ]


class EntryCreateSerializer(BatchEntrySerializer):
    effective_at = serializers.DateTimeField(required=False, validators=[_effective_at])
    conditions = ConditionInSerializer(many=True, required=False, default=list, max_length=MAX_LINES)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        numbers = [line["account_number"] for line in data["lines"]]
        accounts = scoped_accounts(
            self.context["tenant"], numbers + [c["account_number"] for c in data["conditions"]], posting=True
        )
        data["lines"] = _line_specs(data["lines"], accounts, "lines")
        data["conditions"] = [
            Condition(
                account_id=accounts[c["account_number"]].pk,
                min_available=None
                if "min_available" not in c
                else minor_units(
                    c["min_available"],
                    accounts[c["account_number"]].currency_code,
                    f"conditions[{i}].min_available",
                    positive=False,
                ),
                expected_version=c.get("expected_version"),
            )
            for i, c in enumerate(data["conditions"])
        ]
        return data


class BatchCreateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    effective_at = serializers.DateTimeField(required=False, validators=[_effective_at])
    entries = BatchEntrySerializer(many=True, min_length=1, max_length=MAX_BATCH_ENTRIES)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        numbers = [line["account_number"] for entry in data["entries"] for line in entry["lines"]]
        accounts = scoped_accounts(self.context["tenant"], numbers, posting=True)
        data["entries"] = [
            EntrySpec(
                lines=_line_specs(entry["lines"], accounts, f"entries[{i}].lines"),
                description=entry["description"],
                metadata=entry["metadata"],
            )
            for i, entry in enumerate(data["entries"])
        ]
        return data


class ReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="Reversed through the API.")


class LineSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="account.account_number")
    amount = MinorUnitsField("amount")

    class Meta:
        model = JournalLine
        fields = ["account_number", "side", "phase", "amount", "currency_code"]


class EntrySerializer(serializers.ModelSerializer):
    hold = serializers.BooleanField(source="is_hold", help_text="A pending two-phase transfer.")
    reversal_of = serializers.UUIDField(source="reversal_of_id", allow_null=True)
    pending_entry = serializers.UUIDField(
        source="pending_entry_id", allow_null=True, help_text="For the posting of a transfer: the hold it posts."
    )
    lines = LineSerializer(many=True)

    class Meta:
        model = JournalEntry
        fields = [
            "id", "status", "hold", "description", "effective_at", "created_at", "timeout_at", "resolved_at",
            "reversal_of", "pending_entry", "template_name", "template_version", "idempotency_key", "metadata", "lines",
        ]  # fmt: skip


# --- Transfers -----------------------------------------------------------------------------------


class TransferCreateSerializer(serializers.Serializer):
    from_account = serializers.CharField(max_length=120, help_text="Debited (the money leaves a wallet-like account).")
    to_account = serializers.CharField(max_length=120, help_text="Credited.")
    amount = AmountField()
    currency_code = serializers.CharField(min_length=3, max_length=3)
    description = serializers.CharField(max_length=255, allow_blank=True)
    metadata = serializers.DictField(required=False, default=dict)
    pending = serializers.BooleanField(required=False, default=False, help_text="Create a hold (two-phase).")
    timeout_seconds = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_TIMEOUT_SECONDS, help_text="Pending only: void after this long."
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "timeout_seconds" in data and not data["pending"]:
            raise serializers.ValidationError({"timeout_seconds": ["Only pending transfers time out."]})
        if data["from_account"] == data["to_account"]:
            raise serializers.ValidationError({"to_account": ["Must differ from from_account."]})
        accounts = scoped_accounts(self.context["tenant"], [data["from_account"], data["to_account"]], posting=True)
        currency = data["currency_code"]
        for field in ("from_account", "to_account"):
            account = accounts[data[field]]
            if account.currency_code != currency:
                raise CurrencyMismatch(
                    f"{field} {account.account_number} is in {account.currency_code}, not {currency}.",
                    fields={field: account.account_number, "currency_code": account.currency_code},
                )
            data[field] = account
        data["amount"] = minor_units(data["amount"], currency, "amount")
        return data

    def timeout_at(self, now: Any) -> Any:
        seconds = self.validated_data.get("timeout_seconds")
        return None if seconds is None else now + timedelta(seconds=seconds)


class TransferPostSerializer(serializers.Serializer):
    amount = AmountField(required=False, help_text="Post only this much of a two-line hold (the rest is released).")


class OneSidedSerializer(serializers.Serializer):
    amount = AmountField()
    description = serializers.CharField(max_length=255, allow_blank=True)
    metadata = serializers.DictField(required=False, default=dict)


# --- Templates and the trial balance ---------------------------------------------------------------


class TemplatePostSerializer(serializers.Serializer):
    params = serializers.DictField(
        help_text="The template's parameters; amount parameters as decimal strings in the template's currency."
    )
    version = serializers.IntegerField(required=False, min_value=1)
    description = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    metadata = serializers.DictField(required=False, default=dict)


def template_params(template: TransactionTemplate, params: Mapping[str, Any]) -> dict[str, Any]:
    """Amount parameters (decimal strings) → minor units in the template's currency (its one currency
    parameter, or the one currency its lines name)."""
    kinds = {p["name"]: p["type"] for p in template.params}
    currencies = [params.get(name) for name, kind in kinds.items() if kind == "currency"]
    if not currencies:
        currencies = sorted({line["account"].rsplit(":", 1)[-1] for line in template.lines})
    converted = dict(params)
    amounts = [name for name, kind in kinds.items() if kind == "amount" and name in params]
    if not amounts:
        return converted
    if len(set(map(str, currencies))) != 1 or not isinstance(currencies[0], str):
        raise InvalidTemplateParams(
            "The template's currency is needed to read its amounts.", fields={"currency": "Required."}
        )
    exponent(currencies[0])  # unknown_currency (400)
    for name in amounts:
        value = params[name]
        if not isinstance(value, str):
            message = 'Amounts are decimal strings such as "100.00", never numbers.'
            raise InvalidAmount(message, fields={f"params.{name}": [message]})
        converted[name] = minor_units(value, currencies[0], f"params.{name}", positive=False)
        if converted[name] < 0:
            message = f"params.{name}: must not be negative."
            raise InvalidAmount(message, fields={f"params.{name}": [message]})
    return converted


class TrialBalanceQuerySerializer(serializers.Serializer):
    currency = serializers.CharField(required=False, min_length=3, max_length=3)


class TrialBalanceRowSerializer(serializers.Serializer):
    account_type = serializers.CharField(source="type")
    debits = MinorUnitsField("debits")
    credits = MinorUnitsField("credits")
    net = MinorUnitsField("net", help_text="Debits minus credits.")


class TrialBalanceCurrencySerializer(serializers.Serializer):
    currency_code = serializers.CharField()
    rows = TrialBalanceRowSerializer(many=True)
    debits = MinorUnitsField("debits")
    credits = MinorUnitsField("credits")
    net = MinorUnitsField("net", help_text="Zero when the ledger is whole.")


class TrialBalanceSerializer(serializers.Serializer):
    currencies = TrialBalanceCurrencySerializer(many=True)

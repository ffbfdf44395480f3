"""Shapes of the credits API. Amounts cross this edge as decimal strings in the wallet's unit ("12.50";
"25" for a unit with exponent 0); JSON numbers, excess precision and amounts <= 0 are `invalid_amount`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from common.api.fields import AMOUNT_SCHEMA, AmountField, decimal, minor_units  # noqa: F401
from credits.models import Consumption, CreditLot, CreditUnit, Reservation, Wallet
from credits.selectors import WalletBalance

MAX_BATCH_GRANTS = 1000
MAX_ID = 2**63 - 1  # ids are 64-bit: a larger one is malformed (400), not a database overflow (500)


def to_minor(value: str, unit: CreditUnit, field: str) -> int:
    return minor_units(value, unit.ledger_currency_code, field)


def render(minor: int, unit: CreditUnit) -> str:
    return decimal(minor, unit.ledger_currency_code)


# --- Input ------------------------------------------------------------------------------------------


class WalletCreateSerializer(serializers.Serializer):
    owner_ref = serializers.RegexField(
        r"^(merchant:\d{1,18}|customer:[A-Za-z0-9._:-]{1,64})$",
        help_text="`merchant:<id>` (the merchant's own wallet) or `customer:<reference>` (an opaque reference, "
        "never personal data).",
    )
    unit = serializers.CharField(max_length=12, help_text="ISO 4217 code (opened on first use) or a custom unit code.")
    customer_email = serializers.EmailField(required=False, allow_blank=True, help_text="Stored encrypted.")
    merchant = serializers.IntegerField(
        required=False, min_value=1, help_text="Platform clients: the merchant whose customer this is."
    )


class GrantSerializer(serializers.Serializer):
    wallet = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = AmountField()
    reason = serializers.CharField(max_length=255)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class GrantBatchSerializer(serializers.Serializer):
    grants = GrantSerializer(many=True, allow_empty=False, max_length=MAX_BATCH_GRANTS)


class ConsumeSerializer(serializers.Serializer):
    wallet = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = AmountField()
    reference = serializers.CharField(max_length=200, help_text="Unique per wallet: a repeat replays the first.")


class ReservationCreateSerializer(serializers.Serializer):
    wallet = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = AmountField()
    ttl_seconds = serializers.IntegerField(min_value=1)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ReservationCommitSerializer(serializers.Serializer):
    amount = AmountField(required=False, help_text="Partial commit; the rest is released. Default: all of it.")


# --- Output --------------------------------------------------------------------------------------


class LotSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()
    reserved = serializers.SerializerMethodField()

    class Meta:
        model = CreditLot
        fields = ["id", "amount", "remaining", "reserved", "source", "reason", "expires_at", "granted_at", "expired_at"]

    def _unit(self, lot: CreditLot) -> CreditUnit:
        return self.context["unit"]

    def get_amount(self, lot: CreditLot) -> str:
        return render(lot.amount, self._unit(lot))

    def get_remaining(self, lot: CreditLot) -> str:
        return render(lot.remaining, self._unit(lot))

    def get_reserved(self, lot: CreditLot) -> str:
        return render(lot.reserved, self._unit(lot))


class WalletSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    owner_ref = serializers.CharField()
    unit = serializers.CharField()
    available = serializers.CharField()
    reserved = serializers.CharField()
    total = serializers.CharField()
    lots = LotSerializer(many=True)
    created_at = serializers.DateTimeField()


def wallet_data(wallet: Wallet, balance: WalletBalance, lots: list[CreditLot]) -> dict[str, Any]:
    unit = wallet.unit
    return {
        "id": wallet.pk,
        "owner_ref": wallet.owner_ref,
        "unit": unit.code,
        "available": render(balance.available, unit),
        "reserved": render(balance.reserved, unit),
        "total": render(balance.total, unit),
        "lots": LotSerializer(lots, many=True, context={"unit": unit}).data,
        "created_at": serializers.DateTimeField().to_representation(wallet.created_at),
    }


def lot_data(lot: CreditLot, unit: CreditUnit) -> dict[str, Any]:
    return {"wallet": lot.wallet_id, **LotSerializer(lot, context={"unit": unit}).data}


class GrantOutSerializer(LotSerializer):
    wallet = serializers.IntegerField(source="wallet_id")

    class Meta(LotSerializer.Meta):
        fields = ["wallet", *LotSerializer.Meta.fields]


class GrantBatchOutSerializer(serializers.Serializer):
    lots = GrantOutSerializer(many=True)


class LotUseSerializer(serializers.Serializer):
    lot = serializers.IntegerField()
    amount = serializers.CharField()


class ConsumptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    wallet = serializers.IntegerField()
    amount = serializers.CharField()
    reference = serializers.CharField()
    consumed_at = serializers.DateTimeField()
    lots = LotUseSerializer(many=True)


def consumption_data(consumption: Consumption, unit: CreditUnit) -> dict[str, Any]:
    return {
        "id": consumption.pk,
        "wallet": consumption.wallet_id,
        "amount": render(consumption.amount, unit),
        "reference": consumption.reference,
        "consumed_at": serializers.DateTimeField().to_representation(consumption.consumed_at),
        "lots": [
            {"lot": use.lot_id, "amount": render(use.amount, unit)} for use in consumption.lot_uses.order_by("pk")
        ],
    }


class ReservationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    wallet = serializers.IntegerField()
    amount = serializers.CharField()
    committed_amount = serializers.CharField()
    status = serializers.CharField()
    reference = serializers.CharField()
    reserved_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    consumption = ConsumptionSerializer(allow_null=True)


def reservation_data(reservation: Reservation, unit: CreditUnit) -> dict[str, Any]:
    consumption = Consumption.objects.filter(reservation_id=reservation.pk).first()
    field = serializers.DateTimeField()
    return {
        "id": str(reservation.pk),
        "wallet": reservation.wallet_id,
        "amount": render(reservation.amount, unit),
        "committed_amount": render(reservation.committed_amount, unit),
        "status": reservation.status,
        "reference": reservation.reference,
        "reserved_at": field.to_representation(reservation.reserved_at),
        "expires_at": field.to_representation(reservation.expires_at),
        "resolved_at": field.to_representation(reservation.resolved_at) if reservation.resolved_at else None,
        "consumption": consumption_data(consumption, unit) if consumption else None,
    }


class TransactionSerializer(serializers.Serializer):
    entry_id = serializers.UUIDField()
    account_version = serializers.IntegerField()
    posted_at = serializers.DateTimeField()
    description = serializers.CharField(source="entry.description")
    kind = serializers.SerializerMethodField()
    side = serializers.CharField()
    phase = serializers.CharField()
    amount = serializers.SerializerMethodField()
    balance_after = serializers.SerializerMethodField()

    def get_kind(self, line: Any) -> str:
        return (line.entry.metadata or {}).get("kind", "")

    def get_amount(self, line: Any) -> str:
        sign = "-" if line.side == "debit" else ""
        return sign + render(line.amount, self.context["unit"])

    def get_balance_after(self, line: Any) -> str:
        return render(line.balance_after, self.context["unit"])

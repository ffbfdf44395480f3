"""Amount fields shared by every API: decimal strings at the edge, integer minor units inside.

A JSON number, excess precision or (where positive) a zero or negative amount is refused with
`invalid_amount` (400): floats never reach the ledger.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.money import InvalidAmount, to_decimal_string, to_minor

AMOUNT_SCHEMA = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "100.00"}
SIGNED_AMOUNT_SCHEMA = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "example": "-12.50"}


# --- Amounts -------------------------------------------------------------------------------------


@extend_schema_field(AMOUNT_SCHEMA)
class AmountField(serializers.CharField):
    """A decimal string. JSON numbers are refused (`invalid_amount`): floats never reach the ledger."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", 'Decimal string in the currency\'s units, e.g. "100.00"; never a number.')
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            message = 'Amounts are decimal strings such as "100.00", never numbers.'
            raise InvalidAmount(message, fields={self.field_name: [message]})
        return super().to_internal_value(data)


def minor_units(value: str, currency_code: str, field: str, *, positive: bool = True) -> int:
    """'12.34' → 1234 in `currency_code`; refuses excess precision and (when `positive`) zero or less."""
    try:
        minor = to_minor(value, currency_code)
    except InvalidAmount as error:
        raise InvalidAmount(error.message, fields={field: [error.message]}) from None
    if positive and minor <= 0:
        message = f"{field}: amounts are positive; got {value!r}."
        raise InvalidAmount(message, fields={field: [message]})
    return minor


def decimal(minor: int, currency_code: str) -> str:
    return to_decimal_string(minor, currency_code)


@extend_schema_field(SIGNED_AMOUNT_SCHEMA)
class MinorUnitsField(serializers.Field):
    """Renders an integer attribute of minor units as a decimal string in the object's currency."""

    def __init__(self, attribute: str, *, currency: str = "currency_code", **kwargs: Any) -> None:
        self.attribute, self.currency = attribute, currency
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str:
        return decimal(getattr(value, self.attribute), getattr(value, self.currency))

"""Vault API serializers: request shapes in, masked metadata (or, for detokenize only, the card) out.

Shape checks only (types, presence, size bounds); the card rules (Luhn, brand, lengths, expiry, CVV,
cardholder characters) and the detokenization reasons are the services' (`vault.validation`,
`card_detokenize`), so a refused detokenization is audited by the service. No error message here
repeats what was submitted: DRF's messages that would (`invalid_choice`, a boolean's `invalid`) are
replaced.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.errors import DomainError
from vault.choices import CardBrand, DetokenizeReason
from vault.errors import BatchTooLarge
from vault.models import Card
from vault.selectors import CardMetadata
from vault.services import BatchItemResult, CardInput, DetokenizedCard

# The services name the card number `number`; the API calls it `pan`.
_API_FIELD_NAMES = {"number": "pan"}


def api_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A service error's `fields` under the API's field names."""
    return {_API_FIELD_NAMES.get(name, name): value for name, value in fields.items()}


def api_error(error: DomainError) -> DomainError:
    """The same error, naming the API's fields (raise it `from None`: the original needs no chaining)."""
    return type(error)(error.message, fields=api_fields(error.fields))


def _expiry(month: int, year: int) -> str:
    return f"{month:02d}/{year % 100:02d}"


# --- requests -------------------------------------------------------------------------------------------


class TokenizeRequestSerializer(serializers.Serializer):
    pan = serializers.CharField(
        max_length=40, help_text="The card number: 12-19 digits; spaces and dashes are ignored. Never echoed back."
    )
    expiry = serializers.CharField(max_length=10, help_text="'MM/YY' (or 'MM/YYYY'); valid through its month.")
    cardholder = serializers.CharField(max_length=200, help_text="2-64 letters, spaces and ' - . , (no digits).")
    cvv = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=4,
        help_text="Optional: 3 digits (4 for Amex). Held encrypted in the cache only, for one detokenization.",
    )

    def to_card_input(self) -> CardInput:
        data = self.validated_data
        return CardInput(
            number=data["pan"], expiry=data["expiry"], cardholder=data["cardholder"], cvv=data.get("cvv") or None
        )


class _AnyItemField(serializers.Field):
    """A batch item as sent (any JSON value): each one is checked on its own, so one bad item fails alone."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:  # pragma: no cover - request only
        return value


@extend_schema_field(TokenizeRequestSerializer)
class _CardItemField(_AnyItemField):
    pass


class ItemError:
    """A batch item refused before the service (its shape): reported like a service error."""

    code = "validation_error"

    def __init__(self, message: str, fields: dict[str, Any]) -> None:
        self.message = message
        self.fields = fields


class TokenizeBatchRequestSerializer(serializers.Serializer):
    cards = serializers.ListField(
        child=_CardItemField(allow_null=True),
        allow_empty=False,
        help_text="1 to STRONGROOM_VAULT_BATCH_MAX (default 1000) cards, each shaped like a single tokenize.",
    )

    def validate_cards(self, items: list[Any]) -> list[CardInput | ItemError]:
        if len(items) > settings.VAULT_BATCH_MAX:
            raise BatchTooLarge(
                f"A batch holds at most {settings.VAULT_BATCH_MAX} cards.", fields={"cards": ["too_many"]}
            )
        checked: list[CardInput | ItemError] = []
        for item in items:
            if not isinstance(item, dict):
                checked.append(ItemError("Each card must be an object.", {"non_field_errors": ["not_an_object"]}))
                continue
            card = TokenizeRequestSerializer(data=item)
            if card.is_valid():
                checked.append(card.to_card_input())
            else:
                fields = {name: [str(message) for message in messages] for name, messages in card.errors.items()}
                checked.append(ItemError("The card has invalid fields.", fields))
        return checked


@extend_schema_field({"type": "string", "enum": list(DetokenizeReason.values)})
class _ReasonField(serializers.CharField):
    """Any string: the service checks it against the fixed list (and audits a refusal)."""


class DetokenizeRequestSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=64)
    reason = _ReasonField(
        max_length=64, help_text=f"One of: {', '.join(DetokenizeReason.values)} ('other' needs reason_text)."
    )
    reason_text = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Free text, up to 200 characters; required for 'other'."
    )
    include_cvv = serializers.BooleanField(
        required=False,
        default=False,
        error_messages={"invalid": "Must be a boolean."},
        help_text="Also return the CVV given at tokenization, if still held. It is returned once, then deleted.",
    )


class ShredRequestSerializer(serializers.Serializer):
    reason_text = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


# --- responses ------------------------------------------------------------------------------------------


class TokenizedCardSerializer(serializers.Serializer):
    """Token metadata: what a tokenize answers (and what its Idempotency-Key replays)."""

    token = serializers.CharField()
    brand = serializers.ChoiceField(choices=CardBrand.choices)
    bin = serializers.CharField(help_text="First 8 digits (16+ digit PANs), else first 6.")
    last4 = serializers.CharField()
    expiry = serializers.SerializerMethodField(help_text="'MM/YY'.")
    fingerprint = serializers.CharField(
        help_text="Keyed HMAC-SHA256 of tenant + PAN: equal for the same card within this tenant only. "
        "Changes when the fingerprint key is rotated."
    )
    created = serializers.DateTimeField(source="created_at", help_text="When the token was created.")

    def get_expiry(self, card: Card) -> str:
        return _expiry(card.exp_month, card.exp_year)


class CardMetadataSerializer(serializers.Serializer):
    token = serializers.CharField()
    brand = serializers.ChoiceField(choices=CardBrand.choices)
    bin = serializers.CharField()
    last4 = serializers.CharField()
    expiry = serializers.SerializerMethodField(help_text="'MM/YY'.")
    created = serializers.DateTimeField(source="created_at")
    shredded = serializers.BooleanField(source="is_shredded")
    shredded_at = serializers.DateTimeField(allow_null=True)

    def get_expiry(self, card: CardMetadata | Card) -> str:
        return _expiry(card.exp_month, card.exp_year)


class DetokenizedCardSerializer(serializers.Serializer):
    pan = serializers.CharField()
    expiry = serializers.SerializerMethodField(help_text="'MM/YY'.")
    cardholder = serializers.CharField()
    cvv = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Only when include_cvv was asked: the CVV, or null if no longer held.",
    )

    def get_expiry(self, card: DetokenizedCard) -> str:
        return _expiry(card.exp_month, card.exp_year)

    def to_representation(self, instance: DetokenizedCard) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("include_cvv"):
            data.pop("cvv", None)
        return data


class ItemErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BatchItemSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["created", "matched", "failed"])
    card = TokenizedCardSerializer(allow_null=True)
    error = ItemErrorSerializer(allow_null=True)


class BatchSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    matched = serializers.IntegerField()
    failed = serializers.IntegerField()


class TokenizeBatchResponseSerializer(serializers.Serializer):
    summary = BatchSummarySerializer()
    results = BatchItemSerializer(many=True)


# Stands in, in the service call, for an item refused by its shape, so the service sees every item at its own
# index (its batch audit event counts and indexes the whole request) and refuses it: no number, no card.
REFUSED_ITEM = CardInput(number=None, expiry=None)


def batch_service_inputs(items: list[CardInput | ItemError]) -> list[CardInput]:
    return [item if isinstance(item, CardInput) else REFUSED_ITEM for item in items]


def batch_response(items: list[CardInput | ItemError], results: list[BatchItemResult]) -> dict[str, Any]:
    """Per-item outcomes in input order; an item refused by its shape reports that, not the placeholder's error."""
    rows: list[dict[str, Any]] = []
    for index, (item, result) in enumerate(zip(items, results, strict=True)):
        error: ItemError | DomainError | None = item if isinstance(item, ItemError) else result.error
        if error is not None:
            fields = api_fields(error.fields)
            rows.append({"index": index, "outcome": "failed", "card": None,
                         "error": {"code": error.code, "message": error.message, "fields": fields}})  # fmt: skip
        else:
            outcome = "created" if result.created else "matched"
            rows.append({"index": index, "outcome": outcome, "card": result.card, "error": None})
    summary = {name: sum(row["outcome"] == name for row in rows) for name in ("created", "matched", "failed")}
    return TokenizeBatchResponseSerializer({"summary": summary, "results": rows}).data

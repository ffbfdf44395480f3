"""Input and output shapes of `/api/v1/reserves/`. Amounts are decimal strings next to their currency."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.money import to_decimal_string
from reserves.choices import ApprovalAction, ApprovalStatus, Decision
from reserves.models import ApprovalRequest, ApprovalSignature


@extend_schema_field(
    {"type": "string", "pattern": f"^({'|'.join(ApprovalAction.values)})$",
     "description": f"One of: {', '.join(ApprovalAction.values)}."}
)  # fmt: skip
class ActionField(serializers.ChoiceField):
    """Documented by a pattern, not an enum: drf-spectacular names enums by field name, and another app's
    "action" choice set would collide with this one (the schema must build without warnings)."""


StatusField = DecisionField = serializers.ChoiceField
# Not echoing the input: a lone surrogate in it could not be rendered as UTF-8 (a 500 instead of this 400).
NOT_ECHOED = {"invalid_choice": "Not one of the allowed values."}


class ApprovalCreateSerializer(serializers.Serializer):
    action = ActionField(choices=ApprovalAction.choices, error_messages=NOT_ECHOED)
    merchant_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    payload = serializers.DictField()


class ApprovalSignSerializer(serializers.Serializer):
    payload_hash = serializers.RegexField(r"^[0-9a-f]{64}$", help_text="SHA-256 (hex) of the payload you reviewed.")
    decision = DecisionField(choices=Decision.choices, error_messages=NOT_ECHOED)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class SignatureSerializer(serializers.ModelSerializer):
    partner = serializers.CharField(source="partner.reference")
    decision = DecisionField(choices=Decision.choices, read_only=True)
    signer = serializers.CharField(source="signer_label")

    class Meta:
        model = ApprovalSignature
        fields = ["partner", "decision", "signer", "comment", "signed_at"]


class ApprovalSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk")
    action = ActionField(choices=ApprovalAction.choices, read_only=True)
    status = StatusField(choices=ApprovalStatus.choices, read_only=True)
    merchant_id = serializers.IntegerField(allow_null=True)
    requester = serializers.CharField(source="requester_label")
    requester_partner = serializers.SerializerMethodField()
    eligible_partners = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalRequest
        fields = ["id", "action", "merchant_id", "payload", "payload_hash", "status", "required_signatures",
                  "approvals", "eligible_partners", "requester", "requester_partner", "created_at", "expires_at",
                  "decided_at", "result", "signatures"]  # fmt: skip

    def get_requester_partner(self, approval: ApprovalRequest) -> str | None:
        return approval.requester_partner.reference if approval.requester_partner else None

    def get_eligible_partners(self, approval: ApprovalRequest) -> list[str]:
        return sorted(p.reference for p in approval.eligible_partners.all())

    def get_approvals(self, approval: ApprovalRequest) -> int:
        return sum(1 for s in approval.signatures.all() if s.revoked_at is None and s.decision == Decision.APPROVE)

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, approval: ApprovalRequest) -> list[dict[str, Any]]:
        live = [s for s in approval.signatures.all() if s.revoked_at is None]
        return SignatureSerializer(live, many=True).data


class PolicySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    kind = serializers.CharField()
    currency_code = serializers.CharField()
    percent_bp = serializers.IntegerField(allow_null=True)
    hold_days = serializers.IntegerField(allow_null=True)
    amount = serializers.SerializerMethodField()
    effective_date = serializers.DateField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_amount(self, policy: Any) -> str | None:
        return None if policy.amount is None else to_decimal_string(policy.amount, policy.currency_code)


class MerchantReserveSerializer(serializers.Serializer):
    merchant_id = serializers.IntegerField()
    currency_code = serializers.CharField()
    policy = PolicySerializer(allow_null=True)
    required = serializers.CharField()
    held = serializers.CharField()
    releasable = serializers.CharField()

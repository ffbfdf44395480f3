"""Shapes of the disputes API. Amounts cross the edge as decimal strings (`common.api.fields`); merchants
and the original transaction are resolved here, the service decides everything else."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import AmountField, MinorUnitsField, minor_units
from common.money import exponent
from disputes import selectors
from disputes.choices import EvidenceKind, Network, Outcome, Stage, Status
from disputes.models import Dispute, DisputeActionRequest, DisputeEvidence
from ledger.models import JournalEntry
from tenants.models import Merchant


class DisputeOpenSerializer(serializers.Serializer):
    journal_entry_id = serializers.UUIDField(help_text="The original transaction: a ledger journal entry.")
    merchant_id = serializers.IntegerField(min_value=1)
    network = serializers.ChoiceField(choices=Network.choices)
    reason_code = serializers.CharField(max_length=16)
    disputed_amount = AmountField()
    currency_code = serializers.CharField(min_length=3, max_length=3)
    network_dispute_id = serializers.CharField(max_length=64)
    stage = serializers.ChoiceField(choices=Stage.choices, default=Stage.CHARGEBACK)
    opened_at = serializers.DateTimeField(required=False, help_text="When the network opened it; default now.")

    def validate_currency_code(self, value: str) -> str:
        value = value.upper()
        exponent(value)  # unknown_currency (400) unless ISO 4217
        return value

    def validate_opened_at(self, value: Any) -> Any:
        if value > timezone.now():
            raise serializers.ValidationError("A dispute cannot be opened in the future.")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        data["merchant"] = Merchant.objects.filter(pk=data.pop("merchant_id")).first()
        if data["merchant"] is None:
            raise serializers.ValidationError({"merchant_id": ["No such merchant."]})
        data["original_entry"] = JournalEntry.objects.filter(pk=data.pop("journal_entry_id")).first()
        if data["original_entry"] is None:
            raise serializers.ValidationError({"journal_entry_id": ["No such journal entry."]})
        data["amount"] = minor_units(data.pop("disputed_amount"), data["currency_code"], "disputed_amount")
        data["occurred_at"] = data.pop("opened_at", None) or timezone.now()
        # An unknown code for the network is a 400 naming the valid ones (unknown_reason_code).
        data["reason_code"] = selectors.reason_code_in_force(
            network=data["network"], code=data["reason_code"], on=data["occurred_at"].date()
        )
        return data


class DisputeListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    network = serializers.ChoiceField(choices=Network.choices, required=False)
    merchant = serializers.IntegerField(min_value=1, required=False, help_text="Merchant id (platform clients).")
    due_before = serializers.DateTimeField(required=False, help_text="Only disputes with due_by before this time.")


class EvidenceUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    file = serializers.FileField(required=False, allow_empty_file=True, help_text="PDF, PNG or JPEG (by content).")
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default="")


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReasonCodeSerializer(serializers.Serializer):
    network = serializers.CharField()
    code = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DisputeEvidence
        fields = ["id", "kind", "stage", "text", "filename", "content_type", "size", "sha256", "added_at"]


class ActionRequestSerializer(serializers.ModelSerializer):
    status = serializers.CharField()
    requested_by = serializers.CharField(source="maker_label")

    class Meta:
        model = DisputeActionRequest
        fields = ["id", "action", "status", "requested_by", "requested_at", "note", "decided_at"]


class DisputeSerializer(serializers.ModelSerializer):
    merchant_id = serializers.IntegerField()
    journal_entry_id = serializers.UUIDField(source="original_entry_id")
    disputed_amount = MinorUnitsField("amount")
    fee = MinorUnitsField("fee")
    reason_code = ReasonCodeSerializer()
    assignee = serializers.SerializerMethodField()
    ledger_entries = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = [
            "id", "network", "network_dispute_id", "merchant_id", "journal_entry_id", "disputed_amount",
            "currency_code", "reason_code", "stage", "status", "opened_at", "network_due_by", "due_by",
            "assignee", "fee", "submitted_at", "outcome_at", "ledger_entries", "rebuttal_letter_sha256",
        ]  # fmt: skip

    def get_assignee(self, dispute: Dispute) -> str | None:
        return dispute.assignee.get_username() if dispute.assignee_id else None

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "format": "uuid"}})
    def get_ledger_entries(self, dispute: Dispute) -> dict[str, str]:
        entries = {"hold": dispute.hold_entry_id, "fee": dispute.fee_entry_id, "outcome": dispute.outcome_entry_id}
        return {name: str(pk) for name, pk in entries.items() if pk}


class DisputeDetailSerializer(DisputeSerializer):
    evidence = serializers.SerializerMethodField()
    missing_evidence = serializers.SerializerMethodField()
    pending_approval = serializers.SerializerMethodField()

    class Meta(DisputeSerializer.Meta):
        fields = [*DisputeSerializer.Meta.fields, "evidence", "missing_evidence", "pending_approval"]

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, dispute: Dispute) -> list[dict[str, Any]]:
        return EvidenceSerializer(selectors.evidence_for(dispute=dispute), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing_evidence(self, dispute: Dispute) -> list[str]:
        return selectors.evidence_missing(dispute=dispute)

    @extend_schema_field(ActionRequestSerializer(allow_null=True))
    def get_pending_approval(self, dispute: Dispute) -> dict[str, Any] | None:
        pending = selectors.pending_action_request(dispute=dispute)
        return ActionRequestSerializer(pending).data if pending else None


class ActionResultSerializer(DisputeDetailSerializer):
    """A submit/accept answer: `result` is `pending_approval` (a request for a compliance lead) or the action."""

    result = serializers.SerializerMethodField()

    class Meta(DisputeDetailSerializer.Meta):
        fields = ["result", *DisputeDetailSerializer.Meta.fields]

    @extend_schema_field(serializers.ChoiceField(choices=["pending_approval", "submitted", "accepted"]))
    def get_result(self, dispute: Dispute) -> str:
        return self.context["result"]

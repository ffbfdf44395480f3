"""Disputes: the reason-code catalog (effective-dated versions), disputes with their deadlines, evidence,
deadline alerts and maker-checker action requests.

Amounts are integers in minor units (common/money.py). Every state change goes through
disputes/services.py (the state machine lives in disputes/state_machine.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from disputes.choices import (
    OPEN_STATUSES,
    ActionKind,
    Category,
    EvidenceKind,
    Network,
    RequestStatus,
    Stage,
    Status,
)
from ledger.models import JournalEntry
from tenants.models import Merchant
from tenants.scoping import TenantQuerySet


class ReasonCode(models.Model):
    """One version of a network reason code: category, response window per stage, evidence it needs.

    Networks change rules every April and October: a change is a new version with its own effective
    dates; disputes keep pointing at the version in force when they were opened.
    """

    network = models.CharField(max_length=16, choices=Network.choices)
    code = models.CharField(max_length=16)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=24, choices=Category.choices)
    # {"inquiry": 30, "chargeback": 30, "pre_arbitration": 30, "arbitration": 10}; a missing/null stage is skipped.
    response_days = models.JSONField(default=dict, help_text='Days to respond per stage, e.g. {"chargeback": 30}.')
    required_evidence = models.JSONField(default=list, blank=True, help_text="Evidence kinds this code needs.")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty = still in force.")
    notes = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "code", "version"],
                name="disputes_reasoncode_unique_version",
                violation_error_message="This version of the reason code already exists.",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
                name="disputes_reasoncode_effective_range",
                violation_error_message="effective_to must be after effective_from.",
            ),
            models.CheckConstraint(
                condition=Q(network__in=Network.values) & Q(category__in=Category.values),
                name="disputes_reasoncode_choices_valid",
                violation_error_message="Unknown network or category.",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="disputes_reasoncode_version_positive",
                violation_error_message="Versions start at 1.",
            ),
        ]
        indexes = [models.Index(fields=["network", "code", "effective_from"], name="disputes_reasoncode_lookup")]

    def __str__(self) -> str:
        return f"{self.get_network_display()} {self.code} {self.name} v{self.version} (pk={self.pk})"

    def window_days(self, stage: str) -> int | None:
        days = (self.response_days or {}).get(stage)
        return int(days) if days else None


class DisputeQuerySet(TenantQuerySet):
    def open(self) -> "DisputeQuerySet":
        return self.filter(status__in=OPEN_STATUSES)


class Dispute(models.Model):
    """A card dispute against one original transaction (a ledger JournalEntry), at one stage.

    `network_due_by` is the network's deadline for the current stage; `due_by` the acquirer's internal
    cut-off before it. Both are recomputed whenever the stage changes. The entries the dispute caused
    (hold, fee, outcome) are kept as references to the ledger.
    """

    # A partner (sponsor bank, acquirer) reads the disputes of the merchants it serves.
    TENANT_FIELDS = {"merchant": "merchant_id", "partner": "merchant__partners"}

    network = models.CharField(max_length=16, choices=Network.choices)
    network_dispute_id = models.CharField(max_length=64)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    original_entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(help_text="Disputed amount, minor units.")
    currency_code = models.CharField(max_length=3)
    reason_code = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="disputes")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEEDS_RESPONSE)
    opened_at = models.DateTimeField()
    stage_started_at = models.DateTimeField()
    network_due_by = models.DateTimeField()
    due_by = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fee = models.BigIntegerField(default=0, help_text="Chargeback fee charged, minor units.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    hold_entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    fee_entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome_entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    rebuttal_letter = models.FileField(upload_to="disputes/letters/%Y/%m/", blank=True)
    rebuttal_letter_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DisputeQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_by"], name="disputes_dispute_status_due"),
            # The queue's default page: open disputes, most urgent first, read in index order (no sort of all rows).
            models.Index(fields=["due_by", "id"], condition=Q(status__in=OPEN_STATUSES), name="disputes_dispute_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "network_dispute_id"],
                name="disputes_dispute_unique_network_id",
                violation_error_message="A dispute with this network dispute id already exists.",
            ),
            models.UniqueConstraint(
                fields=["original_entry"],
                condition=Q(status__in=OPEN_STATUSES),
                name="disputes_dispute_one_open_per_payment",
                violation_error_message="This payment already has an open dispute.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="disputes_dispute_amount_positive",
                violation_error_message="The disputed amount is a positive number of minor units.",
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0),
                name="disputes_dispute_fee_non_negative",
                violation_error_message="The fee is never negative.",
            ),
            models.CheckConstraint(
                condition=Q(due_by__lte=F("network_due_by")),
                name="disputes_dispute_due_by_within_network",
                violation_error_message="The internal deadline is never after the network's.",
            ),
            models.CheckConstraint(
                condition=Q(network__in=Network.values) & Q(stage__in=Stage.values) & Q(status__in=Status.values),
                name="disputes_dispute_choices_valid",
                violation_error_message="Unknown network, stage or status.",
            ),
            models.CheckConstraint(
                condition=(Q(status__in=OPEN_STATUSES) & Q(outcome_at__isnull=True))
                | (~Q(status__in=OPEN_STATUSES) & Q(outcome_at__isnull=False)),
                name="disputes_dispute_outcome_at_iff_closed",
                violation_error_message="A closed dispute records its outcome time; an open one does not.",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.UNDER_REVIEW) | Q(submitted_at__isnull=False),
                name="disputes_dispute_under_review_submitted",
                violation_error_message="A dispute under review has been submitted.",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.get_network_display()} {self.network_dispute_id} (pk={self.pk})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class DisputeEvidence(models.Model):
    """One piece of evidence: a typed field holding either text or an uploaded file (PDF, PNG, JPEG).

    Files are sniffed by content and stored under a sanitised name with their SHA-256. Frozen once the
    response for the stage is submitted (no updates or deletes in the services).
    """

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=40, choices=EvidenceKind.choices)
    stage = models.CharField(max_length=20, choices=Stage.choices)
    text = models.TextField(blank=True)
    file = models.FileField(upload_to="disputes/evidence/%Y/%m/", blank=True)
    filename = models.CharField(max_length=120, blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    added_at = models.DateTimeField()
    added_by_label = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "dispute evidence"
        indexes = [models.Index(fields=["dispute", "kind"], name="disputes_evidence_dispute")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(text="") & Q(sha256=""))
                | (~Q(file="") & Q(text="") & Q(sha256__regex=r"^[0-9a-f]{64}$")),
                name="disputes_disputeevidence_text_xor_file",
                violation_error_message="Evidence holds either text or a file with its SHA-256.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=EvidenceKind.values),
                name="disputes_disputeevidence_kind_valid",
                violation_error_message="Unknown evidence kind.",
            ),
        ]

    def __str__(self) -> str:
        return f"Evidence {self.get_kind_display()} for dispute {self.dispute_id} (pk={self.pk})"


class DisputeAlert(models.Model):
    """A deadline alert for one threshold (seconds before due_by); at most one per dispute, stage and threshold."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="alerts")
    stage = models.CharField(max_length=20, choices=Stage.choices, help_text="Escalation brings new deadlines.")
    threshold_seconds = models.PositiveIntegerField()
    due_by = models.DateTimeField(help_text="The deadline alerted for.")
    sent_at = models.DateTimeField()
    recipients = models.JSONField(default=list, blank=True, help_text="User ids alerted.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dispute", "stage", "threshold_seconds"],
                name="disputes_disputealert_once_per_threshold",
                violation_error_message="This threshold was already alerted for this dispute.",
            ),
        ]

    def __str__(self) -> str:
        return f"Alert {self.threshold_seconds}s before due for dispute {self.dispute_id} (pk={self.pk})"


class DisputeActionRequest(models.Model):
    """Maker-checker: an analyst asks to submit or accept; another person, a compliance lead, decides."""

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="action_requests")
    action = models.CharField(max_length=16, choices=ActionKind.choices)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    # The maker: a person (admin) or an API client without the automation scope (API).
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by_client = models.ForeignKey(
        "common.ApiClient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        permissions = [("approve_disputeactionrequest", "Can approve or reject dispute submit/accept requests")]
        constraints = [
            models.UniqueConstraint(
                fields=["dispute"],
                condition=Q(status=RequestStatus.PENDING),
                name="disputes_disputeactionrequest_one_pending",
                violation_error_message="This dispute already has a request waiting for approval.",
            ),
            models.CheckConstraint(
                condition=(Q(requested_by__isnull=False) & Q(requested_by_client__isnull=True))
                | (Q(requested_by__isnull=True) & Q(requested_by_client__isnull=False)),
                name="disputes_disputeactionrequest_one_maker",
                violation_error_message="A request is made by one person or one API client.",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | Q(requested_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="disputes_disputeactionrequest_four_eyes",
                violation_error_message="Nobody approves their own request.",
            ),
            models.CheckConstraint(
                condition=(Q(status=RequestStatus.PENDING) & Q(decided_by__isnull=True) & Q(decided_at__isnull=True))
                | (Q(status=RequestStatus.CANCELLED) & Q(decided_by__isnull=True) & Q(decided_at__isnull=False))
                | (
                    Q(status__in=[RequestStatus.APPROVED, RequestStatus.REJECTED])
                    & Q(decided_by__isnull=False)
                    & Q(decided_at__isnull=False)
                ),
                name="disputes_disputeactionrequest_decision_recorded",
                violation_error_message="A decided request records who decided and when (a cancelled one, when).",
            ),
            models.CheckConstraint(
                condition=Q(action__in=ActionKind.values) & Q(status__in=RequestStatus.values),
                name="disputes_disputeactionrequest_choices_valid",
                violation_error_message="Unknown action or status.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} request for dispute {self.dispute_id} ({self.status}, pk={self.pk})"

    @property
    def maker_label(self) -> str:
        if self.requested_by_id:
            return self.requested_by.get_username()
        return f"API client {self.requested_by_client.name}"

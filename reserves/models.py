"""Reserves: versioned reserve policies per merchant, the tranches the engine holds, engine runs, and
multi-partner approvals (rules, requests, signatures).

Money is in the ledger: the merchant's `reserve` chart account holds the funds; tranches here say
why each part is held and when it matures (Σ outstanding tranches = the reserve account's balance).
Approval tables carry PostgreSQL row-level security (migrations/sql/0003_row_level_security).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from reserves.choices import ApprovalAction, ApprovalStatus, Decision, PolicyKind, TrancheKind
from tenants.models import Merchant, Partner


def _choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}),
        name=name,
        violation_error_message=f"{field} must be one of {', '.join(choices.values)}.",
    )


class PartnerMember(models.Model):
    """A staff user who acts for a partner (e.g. a partner approver). One partner per user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reserves_partner")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="members")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"user {self.user_id} of partner {self.partner_id} (pk={self.pk})"


class MerchantReserve(models.Model):
    """Per-merchant reserve state: the row every reserve change locks (the "fund lock").

    `basis_version` counts the changes an approval is made against (policy changes and out-of-schedule
    releases); a request whose basis changed before execution is superseded.
    """

    merchant = models.OneToOneField(Merchant, on_delete=models.PROTECT, related_name="reserve_state")
    basis_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"reserve of merchant {self.merchant_id} v{self.basis_version} (pk={self.pk})"


class ReservePolicy(models.Model):
    """One version of a merchant's reserve policy. The newest version is in force.

    rolling: `percent_bp` basis points of each day's captured volume, held `hold_days` days.
    fixed: a minimum reserve of `amount`, topped up daily. upfront: `amount` held once.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="reserve_policies")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=PolicyKind.choices)
    currency_code = models.CharField(max_length=3)
    percent_bp = models.PositiveIntegerField(null=True, blank=True, help_text="Basis points (1000 = 10%).")
    hold_days = models.PositiveIntegerField(null=True, blank=True)
    amount = models.BigIntegerField(null=True, blank=True, help_text="Minor units.")
    effective_date = models.DateField()
    approval = models.ForeignKey("ApprovalRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "reserve policies"
        constraints = [
            models.UniqueConstraint(fields=["merchant", "version"], name="reserves_reservepolicy_unique_version"),
            _choices_check("kind", PolicyKind, "reserves_reservepolicy_kind_valid"),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind=PolicyKind.ROLLING,
                        percent_bp__gte=1,
                        percent_bp__lte=10000,
                        hold_days__gte=1,
                        hold_days__lte=3650,
                        amount__isnull=True,
                    )
                    | Q(
                        kind__in=[PolicyKind.FIXED, PolicyKind.UPFRONT],
                        amount__gt=0,
                        percent_bp__isnull=True,
                        hold_days__isnull=True,
                    )
                ),
                name="reserves_reservepolicy_parameters_match_kind",
                violation_error_message="Rolling needs percent_bp (1..10000) and hold_days (1..3650); "
                "fixed and upfront need a positive amount only.",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="reserves_reservepolicy_version_positive",
                violation_error_message="Versions start at 1.",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} of merchant {self.merchant_id} (pk={self.pk})"


class ReserveTranche(models.Model):
    """A part of the reserve: held on `held_date`, matures on `release_date` (none for base tranches
    until the policy changes). `released_amount` grows by scheduled and approved releases."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="reserve_tranches")
    policy = models.ForeignKey(ReservePolicy, on_delete=models.PROTECT, related_name="tranches")
    kind = models.CharField(max_length=16, choices=TrancheKind.choices)
    currency_code = models.CharField(max_length=3)
    amount = models.BigIntegerField()
    released_amount = models.BigIntegerField(default=0)
    held_date = models.DateField()
    release_date = models.DateField(null=True, blank=True)
    hold_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "release_date"], name="reserves_tranche_maturity")]
        constraints = [
            _choices_check("kind", TrancheKind, "reserves_reservetranche_kind_valid"),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="reserves_reservetranche_amount_positive",
                violation_error_message="A tranche holds a positive amount.",
            ),
            models.CheckConstraint(
                condition=Q(released_amount__gte=0, released_amount__lte=F("amount")),
                name="reserves_reservetranche_released_within_amount",
                violation_error_message="A tranche never releases more than it held.",
            ),
            models.CheckConstraint(
                condition=Q(kind=TrancheKind.BASE) | Q(release_date__isnull=False),
                name="reserves_reservetranche_rolling_has_release_date",
                violation_error_message="A rolling tranche has a release date.",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.kind} tranche {self.amount} {self.currency_code} of merchant {self.merchant_id} (pk={self.pk})"

    @property
    def outstanding(self) -> int:
        return self.amount - self.released_amount


class ReserveEngineRun(models.Model):
    """One engine run for one merchant and day; the unique constraint makes a rerun a no-op."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="reserve_engine_runs")
    run_date = models.DateField()
    policy = models.ForeignKey(ReservePolicy, on_delete=models.PROTECT, related_name="+")
    captured_volume = models.BigIntegerField(default=0)
    held_amount = models.BigIntegerField(default=0)
    released_amount = models.BigIntegerField(default=0)
    required_after = models.BigIntegerField(default=0)
    held_after = models.BigIntegerField(default=0)
    hold_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")  # fmt: skip
    release_entry = models.ForeignKey("ledger.JournalEntry", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")  # fmt: skip
    ran_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "run_date"], name="reserves_reserveenginerun_once_per_day"),
            models.CheckConstraint(
                condition=Q(captured_volume__gte=0, held_amount__gte=0, released_amount__gte=0),
                name="reserves_reserveenginerun_amounts_not_negative",
                violation_error_message="Engine amounts are never negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"engine run {self.run_date} for merchant {self.merchant_id} (pk={self.pk})"


class ApprovalRule(models.Model):
    """How many partner signatures an action needs, who may sign, and how long a request lives.

    No eligible partners listed = every active partner serving the merchant (for rule changes: every
    active partner). Changing a rule is itself an approval request (`change_approval_rule`).
    """

    action = models.CharField(max_length=32, choices=ApprovalAction.choices, unique=True)
    required_signatures = models.PositiveSmallIntegerField(default=2)
    ttl_hours = models.PositiveIntegerField(default=72)
    eligible_partners = models.ManyToManyField(Partner, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            _choices_check("action", ApprovalAction, "reserves_approvalrule_action_valid"),
            models.CheckConstraint(
                condition=Q(required_signatures__gte=1, required_signatures__lte=10),
                name="reserves_approvalrule_signatures_in_range",
                violation_error_message="Between 1 and 10 signatures.",
            ),
            models.CheckConstraint(
                condition=Q(ttl_hours__gte=1, ttl_hours__lte=720),
                name="reserves_approvalrule_ttl_in_range",
                violation_error_message="A request lives between 1 hour and 30 days.",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"rule {self.action}: {self.required_signatures} signatures, {self.ttl_hours} h (pk={self.pk})"


class ApprovalRequestQuerySet(models.QuerySet):
    def for_partner(self, partner_id: int) -> "ApprovalRequestQuerySet":
        """Requests this partner may sign, or that its own people made."""
        return self.filter(Q(eligibility__partner_id=partner_id) | Q(requester_partner_id=partner_id)).distinct()


class ApprovalRequest(models.Model):
    """An action that runs only once `required_signatures` eligible partners approved its exact payload."""

    action = models.CharField(max_length=32, choices=ApprovalAction.choices)
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=64, help_text="SHA-256 (hex) of the canonical JSON of the payload.")
    required_signatures = models.PositiveSmallIntegerField()
    eligible_partners = models.ManyToManyField(Partner, through="ApprovalEligibility", related_name="+")
    requested_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")  # fmt: skip
    requested_by_client = models.ForeignKey("common.ApiClient", null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="+")  # fmt: skip
    requester_label = models.CharField(max_length=255)
    requester_partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    basis = models.JSONField(default=dict, help_text="Versions the request was made against.")
    status = models.CharField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    reason = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        permissions = [("sign_approvalrequest", "Can sign (approve or reject) reserve approval requests")]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="reserves_approval_open"),
            models.Index(fields=["merchant", "action", "payload_hash"], name="reserves_approval_payload"),
        ]
        constraints = [
            _choices_check("action", ApprovalAction, "reserves_approvalrequest_action_valid"),
            _choices_check("status", ApprovalStatus, "reserves_approvalrequest_status_valid"),
            models.CheckConstraint(
                condition=Q(requested_by_user__isnull=True, requested_by_client__isnull=False)
                | Q(requested_by_user__isnull=False, requested_by_client__isnull=True),
                name="reserves_approvalrequest_one_requester",
                violation_error_message="A request is made by exactly one staff user or one API client.",
            ),
            models.CheckConstraint(
                condition=Q(action=ApprovalAction.CHANGE_APPROVAL_RULE) | Q(merchant__isnull=False),
                name="reserves_approvalrequest_merchant_given",
                violation_error_message="Reserve actions name their merchant.",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="reserves_approvalrequest_expires_after_creation",
                violation_error_message="A request expires after it is made.",
            ),
            models.CheckConstraint(
                condition=Q(required_signatures__gte=1), name="reserves_approvalrequest_signatures_positive",
                violation_error_message="At least one signature.",
            ),
            models.CheckConstraint(
                condition=Q(status=ApprovalStatus.PENDING, decided_at__isnull=True)
                | (~Q(status=ApprovalStatus.PENDING) & Q(decided_at__isnull=False)),
                name="reserves_approvalrequest_decided_at_matches_status",
                violation_error_message="Exactly the decided requests have a decision time.",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.get_action_display()} [{self.status}] (pk={self.pk})"

    @property
    def requester_key(self) -> str:
        return (
            f"user:{self.requested_by_user_id}"
            if self.requested_by_user_id
            else f"client:{self.requested_by_client_id}"
        )


class ApprovalEligibility(models.Model):
    """A partner that may sign a request (snapshot of the rule when the request was made)."""

    approval = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="eligibility")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name_plural = "approval eligibilities"
        constraints = [
            models.UniqueConstraint(fields=["approval", "partner"], name="reserves_approvaleligibility_unique"),
        ]

    def __str__(self) -> str:
        return f"partner {self.partner_id} may sign approval {self.approval_id} (pk={self.pk})"


class ApprovalSignature(models.Model):
    """One partner's decision on one request: approve or reject, for the payload hash it reviewed.

    One live signature per partner (revoked ones stay as history)."""

    approval = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="signatures")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    payload_hash = models.CharField(max_length=64)
    signed_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")  # fmt: skip
    signed_by_client = models.ForeignKey("common.ApiClient", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")  # fmt: skip
    signer_label = models.CharField(max_length=255)
    comment = models.TextField(blank=True)
    signed_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["approval", "partner"], condition=Q(revoked_at__isnull=True),
                name="reserves_approvalsignature_one_per_partner",
                violation_error_message="This partner has already signed this request.",
            ),
            _choices_check("decision", Decision, "reserves_approvalsignature_decision_valid"),
            models.CheckConstraint(
                condition=Q(signed_by_user__isnull=True, signed_by_client__isnull=False)
                | Q(signed_by_user__isnull=False, signed_by_client__isnull=True),
                name="reserves_approvalsignature_one_signer",
                violation_error_message="A signature is made by exactly one staff user or one API client.",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.decision} by partner {self.partner_id} on approval {self.approval_id} (pk={self.pk})"

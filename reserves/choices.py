"""Choices of the reserves app (UPPER_CASE TextChoices)."""

from django.db import models


class PolicyKind(models.TextChoices):
    ROLLING = "rolling", "Rolling reserve"
    FIXED = "fixed", "Fixed minimum reserve"
    UPFRONT = "upfront", "Upfront reserve"


class ApprovalAction(models.TextChoices):
    RELEASE_RESERVE = "release_reserve", "Release reserve funds outside the schedule"
    CHANGE_POLICY = "change_policy", "Change the merchant's reserve policy"
    CHANGE_APPROVAL_RULE = "change_approval_rule", "Change an approval rule"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    EXECUTED = "executed", "Executed"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    SUPERSEDED = "superseded", "Superseded"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class TrancheKind(models.TextChoices):
    ROLLING = "rolling", "Rolling (matures on its release date)"
    BASE = "base", "Base (fixed or upfront; held until the policy changes or an approved release)"

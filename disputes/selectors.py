"""Reads of disputes: the queue, the reason-code catalog in force, due disputes for the sweep, ledger
entries a dispute caused, dashboard counts and monthly dispute ratios per merchant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from common.errors import DomainError
from disputes import conf, evidence
from disputes.choices import OPEN_STATUSES, RequestStatus, Status
from disputes.models import Dispute, DisputeActionRequest, DisputeAlert, DisputeEvidence, ReasonCode
from ledger.models import JournalEntry, JournalLine


class UnknownReasonCode(DomainError):
    code = "unknown_reason_code"
    status_code = 400
    default_message = "No version of this reason code is in force on that date for that network."


def _in_force(on: date) -> Q:
    return Q(effective_from__lte=on) & (Q(effective_to__isnull=True) | Q(effective_to__gt=on))


def reason_codes_in_force(*, network: str, on: date) -> list[str]:
    """The network's codes with a version in force on `on`, sorted."""
    return sorted(set(ReasonCode.objects.filter(_in_force(on), network=network).values_list("code", flat=True)))


def reason_code_in_force(*, network: str, code: str, on: date) -> ReasonCode:
    """The version of `code` effective on `on` (effective_from ≤ on < effective_to), newest version first.
    An unknown code is refused naming the network's valid ones."""
    found = (
        ReasonCode.objects.filter(_in_force(on), network=network, code=code)
        .order_by("-effective_from", "-version", "-pk")
        .first()
    )
    if found is None:
        valid = reason_codes_in_force(network=network, on=on)
        message = f"{network} has no reason code {code!r} in force on {on.isoformat()}; valid: {', '.join(valid)}."
        raise UnknownReasonCode(message, fields={"reason_code": [message], "valid_reason_codes": valid})
    return found


def dispute_queue(*, open_only: bool = True) -> QuerySet[Dispute]:
    """The compliance queue: most urgent first."""
    disputes = Dispute.objects.select_related("merchant", "reason_code", "assignee")
    if open_only:
        disputes = disputes.filter(status__in=OPEN_STATUSES)
    return disputes.order_by("due_by", "pk")


def dispute_entries(*, dispute: Dispute) -> list[JournalEntry]:
    """The ledger entries the dispute caused (hold, fee, outcome), in posting order."""
    pks = [pk for pk in (dispute.hold_entry_id, dispute.fee_entry_id, dispute.outcome_entry_id) if pk]
    entries = {e.pk: e for e in JournalEntry.objects.filter(pk__in=pks).prefetch_related("lines__account")}
    return [entries[pk] for pk in pks if pk in entries]


def evidence_for(*, dispute: Dispute) -> QuerySet[DisputeEvidence]:
    return DisputeEvidence.objects.filter(dispute=dispute).order_by("added_at", "pk")


def evidence_kinds_present(*, dispute: Dispute) -> set[str]:
    return set(DisputeEvidence.objects.filter(dispute=dispute).values_list("kind", flat=True))


def evidence_missing(*, dispute: Dispute) -> list[str]:
    """The evidence kinds the reason code requires that the dispute does not have yet."""
    return evidence.missing(
        required=dispute.reason_code.required_evidence or [], provided=evidence_kinds_present(dispute=dispute)
    )


def pending_action_request(*, dispute: Dispute) -> DisputeActionRequest | None:
    """The submit/accept request waiting for a compliance lead, if any (at most one, by constraint)."""
    return (
        DisputeActionRequest.objects.select_related("requested_by", "requested_by_client")
        .filter(dispute=dispute, status=RequestStatus.PENDING)
        .first()
    )


def original_amount(*, entry: JournalEntry | object, currency_code: str) -> int:
    """What the original transaction moved in `currency_code`: the sum of its posted debit lines."""
    from django.db.models import Sum

    total = JournalLine.objects.filter(
        entry=entry, currency_code=currency_code, side="debit", phase="posted"
    ).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)


def entry_involves_merchant(*, entry: JournalEntry | object, merchant_id: int) -> bool:
    return JournalLine.objects.filter(entry=entry, account__merchant_id=merchant_id).exists()


def disputes_due_for_expiry(*, now: datetime, limit: int) -> list[int]:
    """Ids of unanswered disputes past their internal deadline (index (status, due_by))."""
    return list(
        Dispute.objects.filter(status=Status.NEEDS_RESPONSE, due_by__lte=now)
        .order_by("due_by", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def disputes_due_for_alert(*, now: datetime, thresholds: list[timedelta], limit: int) -> list[int]:
    """Ids of unanswered disputes that crossed a threshold not yet alerted for their current stage.
    One index range scan up to the widest threshold; only those rows are checked against their alerts."""
    if not thresholds:
        return []
    pending = Q()
    for threshold in thresholds:
        already = DisputeAlert.objects.filter(
            dispute=OuterRef("pk"), stage=OuterRef("stage"), threshold_seconds=int(threshold.total_seconds())
        )
        pending |= Q(due_by__lte=now + threshold) & ~Exists(already)
    return list(
        Dispute.objects.filter(status=Status.NEEDS_RESPONSE, due_by__gt=now, due_by__lte=now + max(thresholds))
        .filter(pending)
        .order_by("due_by", "pk")
        .values_list("pk", flat=True)[:limit]
    )


@dataclass(frozen=True)
class QueueCounts:
    needs_response: int
    under_review: int
    overdue: int
    due_within_24h: int
    alerts_sent: int


def queue_counts(*, now: datetime) -> QueueCounts:
    counts = Dispute.objects.filter(status__in=OPEN_STATUSES).aggregate(
        needs_response=Count("pk", filter=Q(status=Status.NEEDS_RESPONSE)),
        under_review=Count("pk", filter=Q(status=Status.UNDER_REVIEW)),
        overdue=Count("pk", filter=Q(status=Status.NEEDS_RESPONSE, due_by__lte=now)),
        due_within_24h=Count(
            "pk", filter=Q(status=Status.NEEDS_RESPONSE, due_by__gt=now, due_by__lte=now + timedelta(hours=24))
        ),
    )
    return QueueCounts(**counts, alerts_sent=DisputeAlert.objects.count())


@dataclass(frozen=True)
class MerchantRatio:
    merchant_id: int
    merchant_name: str
    disputes: int
    transactions: int
    ratio: Decimal  # disputes / transactions; 0 when there were no transactions
    programmes_exceeded: tuple[str, ...]


def merchant_dispute_ratios(*, month_start: datetime, month_end: datetime) -> list[MerchantRatio]:
    """Per merchant with disputes opened in [month_start, month_end): disputes / card_capture entries of the
    merchant in that month, and the monitoring programmes (settings) whose ratio and count it exceeds.
    Highest ratio first. Two grouped queries, whatever the number of merchants."""
    disputes = (
        Dispute.objects.filter(opened_at__gte=month_start, opened_at__lt=month_end)
        .values("merchant_id", "merchant__name")
        .annotate(n=Count("pk"))
        .order_by("merchant_id")
    )
    rows = {row["merchant_id"]: row for row in disputes}
    if not rows:
        return []
    captures = dict(
        JournalLine.objects.filter(
            entry__template_name="card_capture",
            entry__effective_at__gte=month_start,
            entry__effective_at__lt=month_end,
            account__role="payable",
            account__merchant_id__in=list(rows),
        )
        .values("account__merchant_id")
        .annotate(n=Count("entry_id", distinct=True))
        .order_by("account__merchant_id")
        .values_list("account__merchant_id", "n")
    )
    programmes = conf.monitoring_programmes()
    result = []
    for merchant_id, row in rows.items():
        transactions = captures.get(merchant_id, 0)
        ratio = (Decimal(row["n"]) / Decimal(transactions)) if transactions else Decimal(0)
        exceeded = tuple(
            p["name"] for p in programmes if (not transactions or ratio > p["ratio"]) and row["n"] > p["count"]
        )
        result.append(MerchantRatio(merchant_id, row["merchant__name"], row["n"], transactions, ratio, exceeded))
    return sorted(result, key=lambda r: (-r.ratio, -r.disputes, r.merchant_id))

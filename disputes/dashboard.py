from datetime import UTC, datetime

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from common.dashboard import Tile, register_tile
from disputes.selectors import merchant_dispute_ratios, queue_counts

RATIO_ROWS = 5


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


@register_tile
def disputes_tile(request: HttpRequest) -> Tile | None:
    if not request.user.has_perm("disputes.view_dispute"):
        return None
    now = timezone.now()
    counts = queue_counts(now=now)
    month_start, month_end = month_bounds(now)
    ratios = merchant_dispute_ratios(month_start=month_start, month_end=month_end)
    status = "failed" if counts.overdue else ("warning" if counts.due_within_24h else "ok")
    rows = [
        ("Needs response", str(counts.needs_response)),
        ("Under review", str(counts.under_review)),
        ("Overdue", str(counts.overdue)),
        ("Due within 24 h", str(counts.due_within_24h)),
        ("Alerts sent", str(counts.alerts_sent)),
    ]
    for ratio in ratios[:RATIO_ROWS]:
        flag = f" — over {', '.join(ratio.programmes_exceeded)}" if ratio.programmes_exceeded else ""
        rows.append(
            (
                f"{ratio.merchant_name} this month",
                f"{ratio.ratio * 100:.2f}% ({ratio.disputes}/{ratio.transactions}){flag}",
            )
        )
        if ratio.programmes_exceeded:
            status = "failed"
    return Tile(title="Disputes", status=status, link=reverse("admin:disputes_dispute_changelist"), rows=rows)

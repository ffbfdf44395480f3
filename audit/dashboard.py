from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from audit.selectors import chain_state
from common.dashboard import Tile, register_tile


@register_tile
def audit_tile(request: HttpRequest) -> Tile | None:
    if not request.user.has_perm("audit.view_auditevent"):
        return None
    state = chain_state()
    verification = state.last_verification
    status = "ok"
    if state.lag_seconds > settings.AUDIT_CHAIN_LAG_WARNING_SECONDS:
        status = "warning"
    if verification is not None and not verification.is_ok:
        status = "failed"
    if verification is None:
        verified = "never"
    elif verification.is_ok:
        verified = f"ok, {verification.events_checked} events, {verification.finished_at:%Y-%m-%d %H:%M} UTC"
    else:
        verified = f"BROKEN at #{verification.first_broken_sequence}: {verification.reason}"
    checkpoint = state.last_checkpoint
    return Tile(
        title="Audit trail",
        status=status,
        link=reverse("admin:audit_auditevent_changelist"),
        rows=[
            ("Chained", f"#{state.head_sequence}"),
            ("Waiting to chain", f"{state.unchained} (lag {state.lag_seconds:.0f}s)"),
            ("Last verification", verified),
            ("Last checkpoint", f"#{checkpoint.sequence} at {checkpoint.signed_at}" if checkpoint else "none"),
        ],
    )

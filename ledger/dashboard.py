from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from common.dashboard import Tile, register_tile
from ledger.selectors import last_verification, pending_transfers


@register_tile
def ledger_tile(request: HttpRequest) -> Tile | None:
    if not request.user.has_perm("ledger.view_account"):
        return None
    verification = last_verification()
    overdue = pending_transfers(now=timezone.now(), expired_only=True).count()
    if verification is None:
        verified, status = "never", "warning"
    elif verification.is_ok:
        verified = f"ok, {verification.accounts_checked} accounts, {verification.finished_at:%Y-%m-%d %H:%M} UTC"
        status = "ok"
    else:
        verified = (
            f"DRIFT {verification.drift_minor_units} minor units on {verification.drifted_accounts} account(s), "
            f"{verification.unbalanced_entries} unbalanced entr(ies)"
        )
        status = "failed"
    if overdue and status == "ok":
        status = "warning"
    return Tile(
        title="Ledger",
        status=status,
        link=reverse("admin:ledger_account_trial_balance"),
        rows=[
            ("Last verification", verified),
            ("Pending transfers", str(pending_transfers().count())),
            ("Overdue holds", str(overdue)),
        ],
    )

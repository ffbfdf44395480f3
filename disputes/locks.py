"""Row locks of disputes.

Lock order inside a dispute service: the dispute row (this module), then its action request, then the
ledger's accounts (taken by `ledger.services.template_post`). No path locks ledger accounts and then a
dispute, so this order cannot deadlock with the ledger. On SQLite (one writer) the locks are no-ops.
"""

from disputes.models import Dispute, DisputeActionRequest


def lock_dispute(*, pk: int, skip_locked: bool = False, **conditions: object) -> Dispute | None:
    """The dispute, locked (FOR NO KEY UPDATE OF the dispute row), if it matches `conditions`; with
    skip_locked, None when another transaction holds it (sweeps move on to the next one)."""
    return (
        Dispute.objects.select_for_update(of=("self",), no_key=True, skip_locked=skip_locked)
        .select_related("reason_code", "merchant")
        .filter(pk=pk, **conditions)
        .first()
    )


def lock_action_request(*, pk: int) -> DisputeActionRequest | None:
    return (
        DisputeActionRequest.objects.select_for_update(of=("self",), no_key=True)
        .select_related("requested_by", "requested_by_client")
        .filter(pk=pk)
        .first()
    )

"""The one state machine of a dispute: which action may run from which status (and stage), and where it leads.

Services ask `plan(action, status=…, stage=…, reason_code=…)` under the dispute's row lock; an action that
is not allowed raises `InvalidTransition` (409 `invalid_transition`). Money effects per transition:

| action | from | to | ledger |
|---|---|---|---|
| open | – | needs_response | chargeback stage or later: `dispute_open_hold` + `dispute_fee` |
| submit | needs_response | under_review | – |
| accept | needs_response | accepted | held funds → issuer (`dispute_lost_to_issuer`) |
| expire | needs_response | expired | held funds → issuer |
| resolve won | under_review | won | hold released (`dispute_won_release`) |
| resolve lost | under_review | lost | held funds → issuer |
| escalate | under_review; needs_response (inquiry only) | needs_response, next stage | from inquiry: hold + fee |
"""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import DomainError
from disputes.choices import STAGE_ORDER, Stage, Status


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status_code = 409
    default_message = "This action is not allowed in the dispute's current state."


class Action:
    SUBMIT = "submit"
    ACCEPT = "accept"
    EXPIRE = "expire"
    RESOLVE_WON = "resolve_won"
    RESOLVE_LOST = "resolve_lost"
    ESCALATE = "escalate"

    ALL = (SUBMIT, ACCEPT, EXPIRE, RESOLVE_WON, RESOLVE_LOST, ESCALATE)


# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    Action.SUBMIT: (frozenset({Status.NEEDS_RESPONSE}), Status.UNDER_REVIEW),
    Action.ACCEPT: (frozenset({Status.NEEDS_RESPONSE}), Status.ACCEPTED),
    Action.EXPIRE: (frozenset({Status.NEEDS_RESPONSE}), Status.EXPIRED),
    Action.RESOLVE_WON: (frozenset({Status.UNDER_REVIEW}), Status.WON),
    Action.RESOLVE_LOST: (frozenset({Status.UNDER_REVIEW}), Status.LOST),
    Action.ESCALATE: (frozenset({Status.UNDER_REVIEW, Status.NEEDS_RESPONSE}), Status.NEEDS_RESPONSE),
}

# Held funds go to the issuer on these outcomes; they come back on WON.
LOSING_STATUSES = frozenset({Status.LOST, Status.ACCEPTED, Status.EXPIRED})


@dataclass(frozen=True)
class Step:
    action: str
    from_status: str
    to_status: str
    from_stage: str
    to_stage: str


def next_stage(stage: str, response_days: dict | None) -> str | None:
    """The next stage that the reason code has a window for (e.g. Mastercard 4870 skips pre-arbitration)."""
    later = STAGE_ORDER[STAGE_ORDER.index(stage) + 1 :]
    return next((s for s in later if (response_days or {}).get(s)), None)


def plan(action: str, *, status: str, stage: str, response_days: dict | None = None) -> Step:
    """The step `action` takes from (status, stage), or InvalidTransition."""
    if action not in TRANSITIONS:
        raise InvalidTransition(f"Unknown action {action!r}.", fields={"action": action})
    sources, target = TRANSITIONS[action]
    refusal = InvalidTransition(
        f"Cannot {action.replace('_', ' ')} a dispute that is {status} at the {stage} stage.",
        fields={"action": action, "status": status, "stage": stage},
    )
    if status not in sources:
        raise refusal
    to_stage = stage
    if action == Action.ESCALATE:
        if status == Status.NEEDS_RESPONSE and stage != Stage.INQUIRY:
            raise refusal  # the issuer escalates after our response; only an unanswered inquiry becomes a chargeback
        following = next_stage(stage, response_days)
        if following is None:
            raise refusal
        to_stage = following
    return Step(action=action, from_status=status, to_status=target, from_stage=stage, to_stage=to_stage)


def allowed_actions(*, status: str, stage: str, response_days: dict | None = None) -> list[str]:
    """The actions the state machine allows now (for the admin's buttons)."""
    allowed = []
    for action in Action.ALL:
        try:
            plan(action, status=status, stage=stage, response_days=response_days)
        except InvalidTransition:
            continue
        allowed.append(action)
    return allowed

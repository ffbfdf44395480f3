"""The reserves app's write API: policies, the reserve engine, approvals (see docs/reserves.md)."""

from reserves.services.approvals import (
    approval_cancel,
    approval_request_create,
    approval_revoke,
    approval_rule_for,
    approval_sign,
    approvals_expire,
    canonical_json,
    payload_hash,
)
from reserves.services.engine import EngineResult, reserve_engine_run
from reserves.services.errors import (
    AlreadySigned,
    ApprovalExpired,
    ApprovalNotFound,
    ApprovalNotPending,
    ApprovalRateLimited,
    ApprovalRequestNotAllowed,
    InvalidApprovalPayload,
    NotEligibleToSign,
    PayloadHashMismatch,
    SelfApprovalRefused,
    SignatureNotFound,
    UnableToChangePolicy,
    UnableToCreateApproval,
)
from reserves.services.policies import reserve_policy_create_initial

__all__ = [
    "AlreadySigned",
    "ApprovalExpired",
    "ApprovalNotFound",
    "ApprovalNotPending",
    "ApprovalRateLimited",
    "ApprovalRequestNotAllowed",
    "EngineResult",
    "InvalidApprovalPayload",
    "NotEligibleToSign",
    "PayloadHashMismatch",
    "SelfApprovalRefused",
    "SignatureNotFound",
    "UnableToChangePolicy",
    "UnableToCreateApproval",
    "approval_cancel",
    "approval_request_create",
    "approval_revoke",
    "approval_rule_for",
    "approval_sign",
    "approvals_expire",
    "canonical_json",
    "payload_hash",
    "reserve_engine_run",
    "reserve_policy_create_initial",
]

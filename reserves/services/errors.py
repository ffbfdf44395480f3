"""Refusals of the reserves services (stable codes; see docs/reserves.md, "Error codes")."""

from rest_framework import status

from common.errors import DomainError


class InvalidApprovalPayload(DomainError):
    code = "invalid_approval_payload"
    default_message = "The payload does not fit the action."


class UnableToCreateApproval(DomainError):
    code = "approval_not_satisfiable"
    status_code = status.HTTP_409_CONFLICT
    default_message = "Not enough eligible partners could ever approve this request."


class ApprovalRequestNotAllowed(DomainError):
    code = "approval_request_not_allowed"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = "Only platform staff and platform clients create approval requests."


class ApprovalRateLimited(DomainError):
    code = "approval_rate_limited"
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_message = "Too many approval requests; wait for the open ones to be decided."


class ApprovalNotFound(DomainError):
    code = "approval_not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "No such approval request."


class ApprovalNotPending(DomainError):
    code = "approval_not_pending"
    status_code = status.HTTP_409_CONFLICT
    default_message = "The request is no longer pending."


class ApprovalExpired(DomainError):
    code = "approval_expired"
    status_code = status.HTTP_410_GONE
    default_message = "The request has expired and can no longer be signed."


class PayloadHashMismatch(DomainError):
    code = "payload_hash_mismatch"
    status_code = status.HTTP_409_CONFLICT
    default_message = "The payload hash does not match the request: review the current payload."


class NotEligibleToSign(DomainError):
    code = "not_eligible_to_sign"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = "Your partner is not eligible to sign this request."


class SelfApprovalRefused(DomainError):
    code = "self_approval_refused"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = "The requester and the requester's partner cannot sign their own request."


class AlreadySigned(DomainError):
    code = "already_signed"
    status_code = status.HTTP_409_CONFLICT
    default_message = "Your partner has already signed this request."


class SignatureNotFound(DomainError):
    code = "signature_not_found"
    status_code = status.HTTP_409_CONFLICT
    default_message = "There is no live signature of yours on this request."


class UnableToChangePolicy(DomainError):
    code = "reserve_policy_conflict"
    status_code = status.HTTP_409_CONFLICT
    default_message = "The reserve policy cannot be changed this way."


class MerchantNotFound(DomainError):
    code = "merchant_not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "No such merchant."

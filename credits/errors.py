"""Credits refusals: one code per rule, the same in services, admin and API."""

from rest_framework import status

from common.errors import DomainError


class InsufficientCredits(DomainError):
    code = "insufficient_credits"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = "The wallet's available credit is less than the amount requested."


class WalletNotFound(DomainError):
    code = "wallet_not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "No such wallet."


class WalletExists(DomainError):
    code = "wallet_exists"
    status_code = status.HTTP_409_CONFLICT
    default_message = "This owner already has a wallet in this unit."


class InvalidWallet(DomainError):
    code = "invalid_wallet"
    default_message = "The wallet's owner or unit is not valid."


class UnknownUnit(DomainError):
    code = "unknown_unit"
    default_message = "No such credit unit (ISO 4217 codes are opened on first use; custom units by an operator)."


class InvalidUnit(DomainError):
    code = "invalid_unit"
    default_message = "The credit unit is not valid."


class InvalidGrant(DomainError):
    code = "invalid_grant"
    default_message = "The grant is not valid."


class InvalidCreditAmount(DomainError):
    code = "invalid_amount"
    default_message = "The amount must be a positive whole number of minor units."


class ReferenceReused(DomainError):
    code = "reference_reused"
    status_code = status.HTTP_409_CONFLICT
    default_message = "This reference was already used on this wallet for a different request."


class ReservationNotFound(DomainError):
    code = "reservation_not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "No such reservation."


class ReservationNotPending(DomainError):
    code = "reservation_not_pending"
    status_code = status.HTTP_409_CONFLICT
    default_message = "The reservation was already committed, released or expired."


class InvalidReservation(DomainError):
    code = "invalid_reservation"
    default_message = "The reservation is not valid."


class InvalidCommitAmount(DomainError):
    code = "invalid_commit_amount"
    default_message = "The amount to commit must be between 1 and the reserved amount."


class InvalidImport(DomainError):
    code = "invalid_import"
    default_message = "The import cannot be applied."

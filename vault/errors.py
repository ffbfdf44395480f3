"""Vault errors. Messages never contain a PAN, CVV or cardholder name; `fields` names the field at fault."""

from rest_framework import status

from common.errors import DomainError


class InvalidCard(DomainError):
    """The card number, expiry, cardholder or CVV is not acceptable."""

    code = "invalid_card"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "The card details are not valid."


class CardExpired(InvalidCard):
    code = "card_expired"
    default_message = "The card has expired."


class InvalidDetokenizeReason(DomainError):
    code = "invalid_reason"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "A detokenization needs a reason from the fixed list."


class BatchTooLarge(DomainError):
    code = "batch_too_large"
    status_code = status.HTTP_400_BAD_REQUEST


class CardNotFound(DomainError):
    """Unknown token, or a token of another tenant: the two are indistinguishable on purpose."""

    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "No such card."


class CardShredded(DomainError):
    code = "card_shredded"
    status_code = status.HTTP_410_GONE
    default_message = "The card has been shredded; its data can no longer be recovered."


class CardUndecryptable(DomainError):
    """Authentication of the stored envelope failed: tampering, a moved ciphertext, or a wrong key."""

    code = "card_undecryptable"
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_message = "The stored card data failed its integrity check."


class VaultUnavailable(DomainError):
    """The key provider (HSM, KMS, keyring) cannot be reached or has no usable key. Never falls back."""

    code = "vault_unavailable"
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_message = "The vault's key provider is unavailable."


class UnableToRotateKey(DomainError):
    code = "key_rotation_refused"
    status_code = status.HTTP_409_CONFLICT


class UnableToRetireKey(DomainError):
    code = "key_retirement_refused"
    status_code = status.HTTP_409_CONFLICT

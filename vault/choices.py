"""Enumerations of the vault: card brands, key purposes and states, detokenization reasons."""

from django.db import models


class CardBrand(models.TextChoices):
    VISA = "visa", "Visa"
    MASTERCARD = "mastercard", "Mastercard"
    AMEX = "amex", "American Express"
    DISCOVER = "discover", "Discover"
    JCB = "jcb", "JCB"
    DINERS = "diners", "Diners Club"
    UNIONPAY = "unionpay", "UnionPay"


class KeyPurpose(models.TextChoices):
    """What a versioned key protects. Only KEKs live in the provider; the others are wrapped by a KEK."""

    KEK = "kek", "Key-encryption key (wraps data keys)"
    FINGERPRINT = "fingerprint", "Fingerprint key (HMAC-SHA256 of PANs, for dedupe)"
    CVV = "cvv", "CVV key (encrypts CVVs held in the cache before authorization)"


class KeyState(models.TextChoices):
    """Active: encrypts and decrypts (one per purpose). Decrypt-only: superseded. Retired: never used again."""

    ACTIVE = "active", "Active"
    DECRYPT_ONLY = "decrypt_only", "Decrypt only"
    RETIRED = "retired", "Retired"


class DetokenizeReason(models.TextChoices):
    AUTHORIZATION = "authorization", "Authorization"
    REFUND = "refund", "Refund"
    CHARGEBACK_EVIDENCE = "chargeback_evidence", "Chargeback evidence"
    CUSTOMER_REQUEST = "customer_request", "Customer request"
    OTHER = "other", "Other (explanation required)"

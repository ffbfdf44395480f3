"""Choices of the disputes app (UPPER_CASE TextChoices)."""

from django.db import models


class Network(models.TextChoices):
    VISA = "visa", "Visa"
    MASTERCARD = "mastercard", "Mastercard"
    AMEX = "amex", "American Express"
    DISCOVER = "discover", "Discover"


class Category(models.TextChoices):
    FRAUD = "fraud", "Fraud"
    AUTHORIZATION = "authorization", "Authorization"
    PROCESSING_ERROR = "processing_error", "Processing error"
    CONSUMER_DISPUTE = "consumer_dispute", "Consumer dispute"


class Stage(models.TextChoices):
    INQUIRY = "inquiry", "Inquiry"
    CHARGEBACK = "chargeback", "Chargeback"
    PRE_ARBITRATION = "pre_arbitration", "Pre-arbitration"
    ARBITRATION = "arbitration", "Arbitration"


STAGE_ORDER: tuple[str, ...] = (Stage.INQUIRY, Stage.CHARGEBACK, Stage.PRE_ARBITRATION, Stage.ARBITRATION)


class Status(models.TextChoices):
    NEEDS_RESPONSE = "needs_response", "Needs response"
    UNDER_REVIEW = "under_review", "Under review"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"


OPEN_STATUSES: tuple[str, ...] = (Status.NEEDS_RESPONSE, Status.UNDER_REVIEW)
CLOSED_STATUSES: tuple[str, ...] = (Status.WON, Status.LOST, Status.ACCEPTED, Status.EXPIRED)


class Outcome(models.TextChoices):
    WON = "won", "Won"
    LOST = "lost", "Lost"


class ActionKind(models.TextChoices):
    """Actions that need maker-checker when people do them."""

    SUBMIT = "submit", "Submit response"
    ACCEPT = "accept", "Accept liability"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled (the dispute moved on)"


class EvidenceKind(models.TextChoices):
    """Typed evidence fields (after Stripe's evidence object); each may be text or an uploaded file."""

    PROOF_OF_AUTHORIZATION = "proof_of_authorization", "Proof of authorization (approval code, auth log)"
    AVS_CVV_RESULT = "avs_cvv_result", "AVS / CVV result"
    THREE_DS_RESULT = "three_ds_result", "3-D Secure / ECI data"
    DEVICE_AND_IP_HISTORY = "device_and_ip_history", "IP and device history"
    CHIP_PIN_LOG = "chip_pin_log", "Chip read / PIN verification log"
    SIGNED_RECEIPT = "signed_receipt", "Signed receipt"
    RECEIPT = "receipt", "Receipt / invoice"
    DISTINCT_CHARGES_PROOF = "distinct_charges_proof", "Proof the charges are distinct"
    REFUND_ISSUED_PROOF = "refund_issued_proof", "Proof a refund was issued"
    TRACKING_NUMBER = "tracking_number", "Carrier tracking number"
    PROOF_OF_DELIVERY = "proof_of_delivery", "Proof of delivery"
    PRODUCT_DESCRIPTION = "product_description", "Product or service description"
    CUSTOMER_COMMUNICATION = "customer_communication", "Customer communication"
    REFUND_POLICY = "refund_policy", "Refund policy (as shown at checkout)"
    CANCELLATION_POLICY = "cancellation_policy", "Cancellation policy"
    RECURRING_AGREEMENT = "recurring_agreement", "Recurring billing agreement"
    USAGE_LOG = "usage_log", "Usage after the claimed cancellation"
    UNCATEGORIZED = "uncategorized", "Other"


class DueWindow(models.TextChoices):
    OVERDUE = "overdue", "Overdue"
    DAY = "24h", "Due within 24 h"
    THREE_DAYS = "3d", "Due within 3 days"
    WEEK = "7d", "Due within 7 days"

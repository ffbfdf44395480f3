"""Seed the reason-code catalog, version 1, effective 2025-04-01 (disputes-reference.md A3–A6).

Windows are days to respond per stage; a stage left out does not exist for the code (Mastercard 4870/4871
go straight to arbitration; 4807/4808 have no pre-arbitration). Discover's response window is given as
20 or 30 days by different sources: the shorter is used. Safe to rerun (get_or_create on network, code, version).
"""

import datetime

from django.db import migrations

EFFECTIVE_FROM = datetime.date(2025, 4, 1)

# Windows per network: inquiry, chargeback (representment), pre-arbitration, arbitration.
VISA = {"inquiry": 30, "chargeback": 30, "pre_arbitration": 30, "arbitration": 10}
MASTERCARD = {"inquiry": 30, "chargeback": 45, "pre_arbitration": 30, "arbitration": 10}
MASTERCARD_NO_PRE_ARB = {"inquiry": 30, "chargeback": 45, "arbitration": 10}
AMEX = {"inquiry": 20, "chargeback": 20, "pre_arbitration": 20, "arbitration": 10}
DISCOVER = {"inquiry": 20, "chargeback": 20, "pre_arbitration": 30, "arbitration": 10}

# Evidence each kind of code needs (A6).
FRAUD_CNP = ["proof_of_authorization", "avs_cvv_result", "three_ds_result", "device_and_ip_history"]
FRAUD_CP = ["chip_pin_log", "signed_receipt"]
AUTHORIZATION = ["proof_of_authorization"]
PROCESSING = ["receipt", "distinct_charges_proof"]
AMOUNT = ["receipt", "refund_issued_proof"]
NOT_RECEIVED = ["tracking_number", "proof_of_delivery", "customer_communication"]
NOT_AS_DESCRIBED = ["product_description", "customer_communication", "refund_policy"]
CREDIT = ["refund_policy", "cancellation_policy", "customer_communication"]
RECURRING = ["recurring_agreement", "cancellation_policy", "usage_log"]
CONSUMER_GENERAL = ["receipt", "customer_communication"]

F, A, P, C = "fraud", "authorization", "processing_error", "consumer_dispute"

CATALOG = [
    # Visa Claims Resolution
    ("visa", "10.1", "EMV Liability Shift Counterfeit Fraud", F, VISA, FRAUD_CP),
    ("visa", "10.2", "EMV Liability Shift Non-Counterfeit Fraud", F, VISA, FRAUD_CP),
    ("visa", "10.3", "Other Fraud – Card-Present Environment", F, VISA, FRAUD_CP),
    ("visa", "10.4", "Other Fraud – Card-Absent Environment", F, VISA, FRAUD_CNP),
    ("visa", "10.5", "Visa Fraud Monitoring Program", F, VISA, FRAUD_CNP),
    ("visa", "11.1", "Card Recovery Bulletin", A, VISA, AUTHORIZATION),
    ("visa", "11.2", "Declined Authorization", A, VISA, AUTHORIZATION),
    ("visa", "11.3", "No Authorization", A, VISA, AUTHORIZATION),
    ("visa", "12.1", "Late Presentment", P, VISA, PROCESSING),
    ("visa", "12.2", "Incorrect Transaction Code", P, VISA, PROCESSING),
    ("visa", "12.3", "Incorrect Currency", P, VISA, AMOUNT),
    ("visa", "12.4", "Incorrect Account Number", P, VISA, PROCESSING),
    ("visa", "12.5", "Incorrect Amount", P, VISA, AMOUNT),
    ("visa", "12.6.1", "Duplicate Processing", P, VISA, PROCESSING),
    ("visa", "12.6.2", "Paid by Other Means", P, VISA, PROCESSING),
    ("visa", "12.7", "Invalid Data", P, VISA, PROCESSING),
    ("visa", "13.1", "Merchandise/Services Not Received", C, VISA, NOT_RECEIVED),
    ("visa", "13.2", "Cancelled Recurring Transaction", C, VISA, RECURRING),
    ("visa", "13.3", "Not as Described or Defective Merchandise/Services", C, VISA, NOT_AS_DESCRIBED),
    ("visa", "13.4", "Counterfeit Merchandise", C, VISA, NOT_AS_DESCRIBED),
    ("visa", "13.5", "Misrepresentation", C, VISA, NOT_AS_DESCRIBED),
    ("visa", "13.6", "Credit Not Processed", C, VISA, CREDIT),
    ("visa", "13.7", "Cancelled Merchandise/Services", C, VISA, CREDIT),
    ("visa", "13.8", "Original Credit Transaction Not Accepted", C, VISA, CONSUMER_GENERAL),
    ("visa", "13.9", "Non-Receipt of Cash or Load Transaction Value", C, VISA, CONSUMER_GENERAL),
    # Mastercard
    ("mastercard", "4837", "No Cardholder Authorization", F, MASTERCARD, FRAUD_CNP),
    ("mastercard", "4840", "Fraudulent Processing of Transactions", F, MASTERCARD, FRAUD_CNP),
    ("mastercard", "4849", "Questionable Merchant Activity", F, MASTERCARD, FRAUD_CNP),
    ("mastercard", "4863", "Cardholder Does Not Recognize – Potential Fraud", F, MASTERCARD, FRAUD_CNP),
    ("mastercard", "4870", "Chip Liability Shift", F, {"chargeback": 45, "arbitration": 10}, FRAUD_CP),
    ("mastercard", "4871", "Chip/PIN Liability Shift", F, {"chargeback": 45, "arbitration": 10}, FRAUD_CP),
    ("mastercard", "4807", "Warning Bulletin File", A, MASTERCARD_NO_PRE_ARB, AUTHORIZATION),
    ("mastercard", "4808", "Authorization-Related Chargeback", A, MASTERCARD_NO_PRE_ARB, AUTHORIZATION),
    ("mastercard", "4834", "Point-of-Interaction Error", P, MASTERCARD, PROCESSING),
    ("mastercard", "4853", "Cardholder Dispute", C, MASTERCARD, CONSUMER_GENERAL),
    ("mastercard", "4855", "Goods or Services Not Provided", C, MASTERCARD, NOT_RECEIVED),
    # American Express
    ("amex", "F24", "No Card Member Authorization", F, AMEX, FRAUD_CNP),
    ("amex", "F29", "Card Not Present", F, AMEX, FRAUD_CNP),
    ("amex", "A08", "Authorization Approval Expired", A, AMEX, AUTHORIZATION),
    ("amex", "P05", "Incorrect Charge Amount", P, AMEX, AMOUNT),
    ("amex", "P08", "Duplicate Charge", P, AMEX, PROCESSING),
    ("amex", "C02", "Credit Not Processed", C, AMEX, CREDIT),
    ("amex", "C08", "Goods/Services Not Received or Only Partially Received", C, AMEX, NOT_RECEIVED),
    ("amex", "C28", "Cancelled Recurring Billing", C, AMEX, RECURRING),
    ("amex", "C31", "Goods/Services Not as Described", C, AMEX, NOT_AS_DESCRIBED),
    ("amex", "C32", "Goods/Services Damaged or Defective", C, AMEX, NOT_AS_DESCRIBED),
    # Discover
    ("discover", "UA01", "Fraud – Card Present Transaction", F, DISCOVER, FRAUD_CP),
    ("discover", "UA02", "Fraud – Card Not Present Transaction", F, DISCOVER, FRAUD_CNP),
    ("discover", "UA05", "Fraud – Chip Counterfeit Transaction", F, DISCOVER, FRAUD_CP),
    ("discover", "UA06", "Fraud – Chip and PIN Transaction", F, DISCOVER, FRAUD_CP),
    ("discover", "AA", "Does Not Recognize", F, DISCOVER, FRAUD_CNP),
    ("discover", "AT", "Authorization Noncompliance", A, DISCOVER, AUTHORIZATION),
    ("discover", "DP", "Duplicate Processing", P, DISCOVER, PROCESSING),
    ("discover", "PM", "Paid by Other Means", P, DISCOVER, PROCESSING),
    ("discover", "AW", "Altered Amount", P, DISCOVER, AMOUNT),
    ("discover", "LP", "Late Presentation", P, DISCOVER, PROCESSING),
    ("discover", "RG", "Non-Receipt of Goods or Services", C, DISCOVER, NOT_RECEIVED),
    ("discover", "RM", "Quality Dispute", C, DISCOVER, NOT_AS_DESCRIBED),
    ("discover", "RN2", "Credit Not Processed", C, DISCOVER, CREDIT),
    ("discover", "AP", "Recurring Payments", C, DISCOVER, RECURRING),
]


def seed(apps, schema_editor) -> None:
    ReasonCode = apps.get_model("disputes", "ReasonCode")
    for network, code, name, category, windows, evidence in CATALOG:
        ReasonCode.objects.get_or_create(
            network=network,
            code=code,
            version=1,
            defaults={
                "name": name,
                "category": category,
                "response_days": dict(windows),
                "required_evidence": list(evidence),
                "effective_from": EFFECTIVE_FROM,
                "notes": "catalog v1 (migration 0002)",
            },
        )


def unseed(apps, schema_editor) -> None:
    ReasonCode = apps.get_model("disputes", "ReasonCode")
    ReasonCode.objects.filter(version=1, notes="catalog v1 (migration 0002)", disputes__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_disputes_reason_codes_alerts_requests")]

    operations = [migrations.RunPython(seed, unseed)]

"""Seed version 1 of the standard transaction templates (see docs/ledger.md, "Templates").

Frozen here on purpose (a migration never imports app code). Safe to rerun: existing
(name, version) rows are left alone.
"""

from django.db import migrations

M = "merchant:{merchant}"
P = "platform"
MERCHANT = {"name": "merchant", "type": "merchant"}
CURRENCY = {"name": "currency", "type": "currency"}
AMOUNT = {"name": "amount", "type": "amount"}


def _line(side, account, amount):
    return {"side": side, "account": account, "amount": amount}


TEMPLATES = [
    (
        "card_capture",
        "Card capture settled: the scheme pays gross into settlement; merchant is owed net; platform earns the fee.",
        [MERCHANT, CURRENCY, AMOUNT, {"name": "fee", "type": "amount"}],
        [
            _line("debit", P + ":settlement:{currency}", "amount"),
            _line("credit", M + ":payable:{currency}", "amount - fee"),
            _line("credit", P + ":fee_revenue:{currency}", "fee"),
        ],
    ),
    (
        "card_refund",
        "Refund to the cardholder, taken from what the merchant is owed.",
        [MERCHANT, CURRENCY, AMOUNT],
        [_line("debit", M + ":payable:{currency}", "amount"), _line("credit", P + ":settlement:{currency}", "amount")],
    ),
    (
        "merchant_payout",
        "Payout of the merchant's balance to its bank account.",
        [MERCHANT, CURRENCY, AMOUNT],
        [_line("debit", M + ":payable:{currency}", "amount"), _line("credit", P + ":settlement:{currency}", "amount")],
    ),
    (
        "dispute_open_hold",
        "Dispute opened: hold the disputed amount out of the merchant's payable.",
        [MERCHANT, CURRENCY, AMOUNT],
        [_line("debit", M + ":payable:{currency}", "amount"), _line("credit", M + ":dispute_hold:{currency}", "amount")],
    ),
    (
        "dispute_fee",
        "Dispute fee charged to the merchant (collected later from payable by fee_collect).",
        [MERCHANT, CURRENCY, {"name": "fee", "type": "amount"}],
        [_line("debit", M + ":fees_receivable:{currency}", "fee"), _line("credit", P + ":fee_revenue:{currency}", "fee")],
    ),
    (
        "dispute_won_release",
        "Dispute won: release the held amount back to the merchant's payable.",
        [MERCHANT, CURRENCY, AMOUNT],
        [_line("debit", M + ":dispute_hold:{currency}", "amount"), _line("credit", M + ":payable:{currency}", "amount")],
    ),
    (
        "dispute_lost_to_issuer",
        "Dispute lost: the held amount becomes owed to the issuer / network.",
        [MERCHANT, CURRENCY, AMOUNT],
        [
            _line("debit", M + ":dispute_hold:{currency}", "amount"),
            _line("credit", P + ":issuer_settlement:{currency}", "amount"),
        ],
    ),
    (
        "issuer_settlement_pay",
        "Pay what is owed to issuers / networks out of settlement.",
        [CURRENCY, AMOUNT],
        [
            _line("debit", P + ":issuer_settlement:{currency}", "amount"),
            _line("credit", P + ":settlement:{currency}", "amount"),
        ],
    ),
    (
        "reserve_hold",
        "Hold part of the merchant's funds in its reserve.",
        [MERCHANT, CURRENCY, AMOUNT],
        [_line("debit", M + ":payable:{currency}", "amount"), _line("credit", M + ":reserve:{currency}", "amount")],
    ),
    (
        "reserve_release",
        "Release reserve funds back to the merchant's payable.",
        [MERCHANT, CURRENCY, AMOUNT],
        [_line("debit", M + ":reserve:{currency}", "amount"), _line("credit", M + ":payable:{currency}", "amount")],
    ),
    (
        "fee_collect",
        "Collect fees the merchant owes from its payable.",
        [MERCHANT, CURRENCY, AMOUNT],
        [_line("debit", M + ":payable:{currency}", "amount"), _line("credit", M + ":fees_receivable:{currency}", "amount")],
    ),
    (
        "merchant_credit",
        "Goodwill credit or fee rebate to the merchant, charged against fee revenue.",
        [MERCHANT, CURRENCY, AMOUNT],
        [_line("debit", P + ":fee_revenue:{currency}", "amount"), _line("credit", M + ":payable:{currency}", "amount")],
    ),
]


def seed(apps, schema_editor):
    TransactionTemplate = apps.get_model("ledger", "TransactionTemplate")
    for name, description, params, lines in TEMPLATES:
        TransactionTemplate.objects.get_or_create(
            name=name,
            version=1,
            defaults={
                "description": description,
                "params": params,
                "lines": lines,
                "is_active": True,
                "created_by_label": "migration 0004",
            },
        )


def unseed(apps, schema_editor):
    TransactionTemplate = apps.get_model("ledger", "TransactionTemplate")
    TransactionTemplate.objects.filter(version=1, created_by_label="migration 0004").delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_append_only")]

    operations = [migrations.RunPython(seed, unseed)]

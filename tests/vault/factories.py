"""Test card data (Stripe's published test PANs) and a helper that tokenizes through the service."""

from typing import Any

from vault.services import TokenizeResult, card_tokenize

# brand → valid test PANs (docs/vault-reference: Stripe test cards), plus a 13-digit Visa and a 19-digit Visa.
VALID_PANS: dict[str, list[str]] = {
    "visa": ["4242424242424242", "4000056655665556", "4222222222222", "4000000000000000006"],
    "mastercard": ["5555555555554444", "2223003122003222", "5200828282828210"],
    "amex": ["378282246310005", "371449635398431"],
    "discover": ["6011111111111117", "6011000990139424"],
    "jcb": ["3566002020360505"],
    "diners": ["3056930009020004", "36227206271667"],
    "unionpay": ["6200000000000005", "6205500000000000004"],
}
PAN = "4242424242424242"
AMEX = "378282246310005"


def tokenize(*, tenant: Any, actor: Any, number: str = PAN, **overrides: Any) -> TokenizeResult:
    from tests.vault.conftest import NOW

    arguments = {"expiry": "12/30", "cardholder": "Ada Lovelace", "now": NOW, **overrides}
    return card_tokenize(tenant=tenant, actor=actor, number=number, **arguments)

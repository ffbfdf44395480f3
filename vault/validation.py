"""Card input validation: PAN (digits, brand, length, Luhn), expiry, cardholder name, CVV.

Pure functions, no database. Every error is an `InvalidCard` (or `CardExpired`) whose message and
`fields` name the field at fault and never repeat what was submitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from common.logging import luhn_valid
from vault.choices import CardBrand
from vault.errors import CardExpired, InvalidCard

# (low, high, brand): a PAN whose first len(low) digits lie in [low, high] belongs to the brand.
# Overlaps are resolved by the longest (most specific) matching prefix.
_PREFIX_RULES: list[tuple[str, str, str]] = [
    ("4", "4", CardBrand.VISA),
    ("51", "55", CardBrand.MASTERCARD),
    ("2221", "2720", CardBrand.MASTERCARD),
    ("34", "34", CardBrand.AMEX),
    ("37", "37", CardBrand.AMEX),
    ("6011", "6011", CardBrand.DISCOVER),
    ("644", "649", CardBrand.DISCOVER),
    ("65", "65", CardBrand.DISCOVER),
    ("3528", "3589", CardBrand.JCB),
    ("300", "305", CardBrand.DINERS),
    ("3095", "3095", CardBrand.DINERS),
    ("36", "36", CardBrand.DINERS),
    ("38", "39", CardBrand.DINERS),
    ("62", "62", CardBrand.UNIONPAY),
    ("81", "81", CardBrand.UNIONPAY),
]

BRAND_LENGTHS: dict[str, frozenset[int]] = {
    CardBrand.VISA: frozenset({13, 16, 18, 19}),
    CardBrand.MASTERCARD: frozenset({16}),
    CardBrand.AMEX: frozenset({15}),
    CardBrand.DISCOVER: frozenset(range(16, 20)),
    CardBrand.JCB: frozenset(range(16, 20)),
    CardBrand.DINERS: frozenset(range(14, 20)),
    CardBrand.UNIONPAY: frozenset(range(14, 20)),
}

CVV_LENGTHS: dict[str, int] = {CardBrand.AMEX: 4}
MAX_EXPIRY_YEARS_AHEAD = 20
CARDHOLDER_MIN, CARDHOLDER_MAX = 2, 64
_CARDHOLDER_PUNCTUATION = frozenset(" '-.,")
_SEPARATORS = re.compile(r"[ \-]")
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


@dataclass(frozen=True)
class ValidCard:
    """A validated card. `pan`, `cardholder` and `cvv` are kept out of repr so they never reach a log."""

    pan: str = field(repr=False)
    brand: str
    exp_month: int
    exp_year: int
    cardholder: str = field(default="", repr=False)
    cvv: str | None = field(default=None, repr=False)

    @property
    def bin(self) -> str:
        return card_bin(self.pan)

    @property
    def last4(self) -> str:
        return self.pan[-4:]


def normalize_pan(raw: object) -> str:
    """Strip spaces and dashes; the rest must be digits."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidCard("The card number must be a string of digits.", fields={"number": ["not_a_string"]})
    text = _SEPARATORS.sub("", str(raw))
    if not text:
        raise InvalidCard("The card number is required.", fields={"number": ["required"]})
    if not (text.isascii() and text.isdigit()):
        raise InvalidCard("The card number may contain only digits, spaces and dashes.", fields={"number": ["format"]})
    return text


def detect_brand(pan: str) -> str | None:
    """The brand of the most specific matching prefix, or None."""
    best: tuple[int, str] | None = None
    for low, high, brand in _PREFIX_RULES:
        prefix = pan[: len(low)]
        if len(prefix) == len(low) and low <= prefix <= high and (best is None or len(low) > best[0]):
            best = (len(low), brand)
    return best[1] if best else None


def card_bin(pan: str) -> str:
    """BIN shown next to the last 4: 8 digits for PANs of 16+ digits, else 6 (PCI FAQ 1091)."""
    return pan[:8] if len(pan) >= 16 else pan[:6]


def validate_pan(raw: object) -> tuple[str, str]:
    """(pan, brand) or InvalidCard."""
    pan = normalize_pan(raw)
    if not 12 <= len(pan) <= 19:
        raise InvalidCard("The card number has an invalid length.", fields={"number": ["length"]})
    brand = detect_brand(pan)
    if brand is None:
        raise InvalidCard("The card number does not belong to a supported card brand.", fields={"number": ["brand"]})
    if len(pan) not in BRAND_LENGTHS[brand]:
        raise InvalidCard(
            f"The card number has an invalid length for {CardBrand(brand).label}.", fields={"number": ["length"]}
        )
    if not luhn_valid(pan):
        raise InvalidCard("The card number is not valid (check digit).", fields={"number": ["checksum"]})
    return pan, brand


def validate_expiry(raw: object, *, today: date) -> tuple[int, int]:
    """'MM/YY' or 'MM/YYYY' → (month, year). Valid through the last day of its month."""
    match = _EXPIRY.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise InvalidCard("The expiry must be given as MM/YY.", fields={"expiry": ["format"]})
    month, year = int(match.group(1)), int(match.group(2))
    if len(match.group(2)) == 2:
        year += 2000
    if not 1 <= month <= 12:
        raise InvalidCard("The expiry month must be between 01 and 12.", fields={"expiry": ["month"]})
    if (year, month) < (today.year, today.month):
        raise CardExpired("The card has expired.", fields={"expiry": ["expired"]})
    if year > today.year + MAX_EXPIRY_YEARS_AHEAD:
        raise InvalidCard("The expiry is too far in the future.", fields={"expiry": ["too_far"]})
    return month, year


def validate_cardholder(raw: object) -> str:
    """Optional name: letters, spaces and ' - . , only (no digits, so no card number can hide in it)."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise InvalidCard("The cardholder name must be text.", fields={"cardholder": ["format"]})
    name = " ".join(raw.split())
    if not name:
        return ""
    if not CARDHOLDER_MIN <= len(name) <= CARDHOLDER_MAX:
        raise InvalidCard(
            f"The cardholder name must be {CARDHOLDER_MIN} to {CARDHOLDER_MAX} characters long.",
            fields={"cardholder": ["length"]},
        )
    if not all(char.isalpha() or char in _CARDHOLDER_PUNCTUATION for char in name) or not any(
        char.isalpha() for char in name
    ):
        raise InvalidCard(
            "The cardholder name may contain only letters, spaces, apostrophes, hyphens, periods and commas.",
            fields={"cardholder": ["characters"]},
        )
    return name


def validate_cvv(raw: object, *, brand: str) -> str | None:
    if raw is None or raw == "":
        return None
    expected = CVV_LENGTHS.get(brand, 3)
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) == expected):
        raise InvalidCard(f"The security code must be {expected} digits for this card.", fields={"cvv": ["format"]})
    return raw


def validate_card(
    *, number: object, expiry: object, cardholder: object = "", cvv: object = None, today: date
) -> ValidCard:
    """Validate every field; the first error found is raised (number, expiry, cardholder, cvv)."""
    pan, brand = validate_pan(number)
    exp_month, exp_year = validate_expiry(expiry, today=today)
    name = validate_cardholder(cardholder)
    code = validate_cvv(cvv, brand=brand)
    return ValidCard(pan=pan, brand=brand, exp_month=exp_month, exp_year=exp_year, cardholder=name, cvv=code)

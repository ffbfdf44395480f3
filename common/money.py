"""Money: integer minor units inside, decimal strings at the edges, never floats.

The exponent of each ISO 4217 currency comes from the one table below. Parsing refuses excess
precision instead of rounding, and `allocate` splits an amount by largest remainder so the parts
always sum exactly to the whole.
"""

import re
from decimal import Decimal, InvalidOperation, localcontext

from common.errors import DomainError

# ISO 4217 minor-unit exponents for active currencies that differ from 2.
_EXPONENT_NOT_TWO = {
    # 0 decimals
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # 3 decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # 4 decimals
    "CLF": 4, "UYW": 4,
}  # fmt: skip
_EXPONENT_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD "
    "CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD "
    "HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD "
    "MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON "
    "RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD "
    "TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG"
).split()
ISO_4217_EXPONENTS: dict[str, int] = {**dict.fromkeys(_EXPONENT_TWO, 2), **_EXPONENT_NOT_TWO}

_DECIMAL = re.compile(r"^-?\d{1,30}(?:\.\d{1,30})?$")
MAX_MINOR_UNITS = 2**63 - 1  # the database's bigint: no amount column holds more


class InvalidAmount(DomainError):
    code = "invalid_amount"
    default_message = "The amount is not a valid decimal amount for its currency."


class UnknownCurrency(DomainError):
    code = "unknown_currency"
    default_message = "The currency is not a known ISO 4217 code."


def exponent(currency_code: str) -> int:
    try:
        return ISO_4217_EXPONENTS[currency_code]
    except KeyError:
        raise UnknownCurrency(f"{currency_code!r} is not a known ISO 4217 currency code.") from None


def to_minor(amount: str | Decimal | int, currency_code: str) -> int:
    """'12.34' USD → 1234. Refuses floats, malformed strings and more decimals than the currency has."""
    places = exponent(currency_code)
    if isinstance(amount, bool) or isinstance(amount, float):
        raise InvalidAmount("Amounts are decimal strings, never floating-point numbers.")
    if isinstance(amount, int):
        return _within_bigint(amount * 10**places, str(amount))
    text = str(amount).strip()
    if not _DECIMAL.match(text):
        raise InvalidAmount(f"{text[:40]!r} is not a decimal amount such as '100.00'.")
    with localcontext() as exact:
        exact.prec = 100  # 30 + 30 digits and the exponent fit: nothing is ever rounded
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InvalidAmount(f"{text[:40]!r} is not a decimal amount.") from None
        scaled = value.scaleb(places)
        if scaled != scaled.to_integral_value():
            raise InvalidAmount(f"{currency_code} amounts have at most {places} decimal place(s); got {text!r}.")
        return _within_bigint(int(scaled), text)


def _within_bigint(minor: int, text: str) -> int:
    if abs(minor) > MAX_MINOR_UNITS:
        raise InvalidAmount(f"{text[:40]!r} is larger than any amount the ledger can hold.")
    return minor


def to_decimal_string(minor: int, currency_code: str) -> str:
    """1234 USD → '12.34'; 5 JPY → '5'; -1 KWD → '-0.001'."""
    places = exponent(currency_code)
    if places == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` minor units in proportion to `weights`, by largest remainder: parts sum to total."""
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative with a positive sum")
    weight_sum = sum(weights)
    quotients = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    shortfall = total - sum(quotients)
    # Largest remainder first; ties go to the earlier part so results are deterministic.
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:shortfall]:
        quotients[index] += 1
    return quotients

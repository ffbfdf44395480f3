"""Transaction templates: parameters and lines as data, validated and rendered without eval.

A line names its account by a chart address with `{param}` placeholders and its amount by a sum
of parameter names and integer literals (`amount - fee`, `fee + 100`). Validation proves, per
currency and symbolically, that debits equal credits for *every* parameter value, so a valid
template can only render balanced entries.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from common.money import UnknownCurrency, exponent
from ledger.chart import MERCHANT_ROLES, PLATFORM_ROLES
from ledger.choices import Side
from ledger.errors import InvalidTemplate, InvalidTemplateParams

PARAM_TYPES = ("merchant", "currency", "amount", "text")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_PLACEHOLDER = re.compile(r"^\{([a-z][a-z0-9_]{0,39})\}$")
_TERM = re.compile(r"\s*([+-])?\s*([a-z][a-z0-9_]*|\d+)\s*")


@dataclass(frozen=True)
class RenderedLine:
    side: str
    address: str
    amount: int


def parse_amount(expression: str) -> list[tuple[int, str | int]]:
    """'amount - fee + 5' → [(1, 'amount'), (-1, 'fee'), (1, 5)]. Raises ValueError when malformed."""
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("an amount expression is a non-empty string")
    terms: list[tuple[int, str | int]] = []
    position = 0
    while position < len(expression):
        match = _TERM.match(expression, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read {expression[position:]!r}")
        sign_text, token = match.groups()
        if sign_text is None and terms:
            raise ValueError(f"expected '+' or '-' before {token!r}")
        sign = -1 if sign_text == "-" else 1
        terms.append((sign, int(token) if token.isdigit() else token))
        position = match.end()
    return terms


def _account_parts(account: str) -> tuple[str, str | None, str, str]:
    """'merchant:{merchant}:payable:{currency}' → ('merchant', '{merchant}', 'payable', '{currency}')."""
    parts = account.split(":") if isinstance(account, str) else []
    if len(parts) == 4 and parts[0] == "merchant":
        return parts[0], parts[1], parts[2], parts[3]
    if len(parts) == 3 and parts[0] == "platform":
        return parts[0], None, parts[1], parts[2]
    raise ValueError("an account is 'merchant:{merchant}:<role>:{currency}' or 'platform:<role>:{currency}'")


def validate_template(*, params: Any, lines: Any) -> None:
    """Raise InvalidTemplate (with per-field messages) unless the template is well-formed and balanced."""
    problems: dict[str, list[str]] = defaultdict(list)
    declared: dict[str, str] = {}
    if not isinstance(params, list):
        raise InvalidTemplate("params must be a list.", fields={"params": ["Must be a list of {name, type}."]})
    for index, param in enumerate(params):
        name = param.get("name") if isinstance(param, dict) else None
        kind = param.get("type") if isinstance(param, dict) else None
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            problems["params"].append(f"#{index + 1}: name must be a lower-case identifier.")
        elif name in declared:
            problems["params"].append(f"#{index + 1}: {name!r} is declared twice.")
        elif kind not in PARAM_TYPES:
            problems["params"].append(f"#{index + 1}: type must be one of {', '.join(PARAM_TYPES)}.")
        else:
            declared[name] = kind
    if not isinstance(lines, list) or len(lines) < 2:
        problems["lines"].append("A template has at least two lines.")
        lines = lines if isinstance(lines, list) else []
    # currency key → param/literal → coefficient (debits +, credits −)
    totals: dict[str, dict[str | int, int]] = defaultdict(lambda: defaultdict(int))
    for index, line in enumerate(lines):
        label = f"#{index + 1}"
        if not isinstance(line, dict):
            problems["lines"].append(f"{label}: must be an object with side, account and amount.")
            continue
        side = line.get("side")
        if side not in Side.values:
            problems["lines"].append(f"{label}: side must be 'debit' or 'credit'.")
        try:
            owner, merchant_part, role, currency_part = _account_parts(line.get("account"))
        except ValueError as error:
            problems["lines"].append(f"{label}: {error}.")
            continue
        roles = MERCHANT_ROLES if owner == "merchant" else PLATFORM_ROLES
        if role not in roles:
            problems["lines"].append(f"{label}: {owner} has no role {role!r} (known: {', '.join(roles)}).")
        if merchant_part is not None:
            placeholder = _PLACEHOLDER.match(merchant_part)
            if not placeholder or declared.get(placeholder.group(1)) != "merchant":
                problems["lines"].append(f"{label}: the merchant must be a {{param}} of type merchant.")
        placeholder = _PLACEHOLDER.match(currency_part)
        if placeholder:
            if declared.get(placeholder.group(1)) != "currency":
                problems["lines"].append(f"{label}: {currency_part} is not a param of type currency.")
        else:
            try:
                exponent(currency_part)
            except UnknownCurrency:
                problems["lines"].append(f"{label}: {currency_part!r} is neither a {{currency}} param nor ISO 4217.")
        try:
            terms = parse_amount(line.get("amount"))
        except ValueError as error:
            problems["lines"].append(f"{label}: amount: {error}.")
            continue
        for sign, token in terms:
            if isinstance(token, str) and declared.get(token) != "amount":
                problems["lines"].append(f"{label}: {token!r} is not a param of type amount.")
            direction = 1 if side == Side.DEBIT else -1
            totals[currency_part][token] += sign * direction
    if not problems:
        for currency, coefficients in totals.items():
            unbalanced = {str(token): c for token, c in coefficients.items() if c}
            if unbalanced:
                problems["lines"].append(
                    f"Debits and credits in {currency} differ by {unbalanced} (debits minus credits) for some values."
                )
    if problems:
        message = " ".join(f"{field}: {'; '.join(messages)}" for field, messages in problems.items())
        raise InvalidTemplate(message, fields=dict(problems))


def render(
    *, params_spec: list[dict[str, str]], lines: list[dict[str, str]], values: dict[str, Any]
) -> list[RenderedLine]:
    """Substitute parameter values; lines whose amount comes to zero are left out."""
    declared = {p["name"]: p["type"] for p in params_spec}
    missing = sorted(set(declared) - set(values))
    unknown = sorted(set(values) - set(declared))
    problems: dict[str, str] = {name: "Required." for name in missing}
    problems.update({name: "Not a parameter of this template." for name in unknown})
    for name, kind in declared.items():
        if name not in values:
            continue
        value = values[name]
        if kind in ("merchant", "amount") and (isinstance(value, bool) or not isinstance(value, int)):
            problems[name] = "Must be an integer (amounts in minor units)."
        elif kind == "merchant" and value <= 0:
            problems[name] = "Must be a merchant id."
        elif kind == "amount" and value < 0:
            problems[name] = "Must not be negative."
        elif kind == "currency":
            try:
                exponent(value if isinstance(value, str) else "")
            except UnknownCurrency:
                problems[name] = "Must be an ISO 4217 currency code."
        elif kind == "text" and not isinstance(value, str):
            problems[name] = "Must be text."
    if problems:
        raise InvalidTemplateParams("The parameters do not fit the template.", fields=problems)

    def substitute(part: str) -> str:
        placeholder = _PLACEHOLDER.match(part)
        return str(values[placeholder.group(1)]) if placeholder else part

    rendered = []
    for line in lines:
        amount = sum(
            sign * (token if isinstance(token, int) else values[token]) for sign, token in parse_amount(line["amount"])
        )
        if amount < 0:
            raise InvalidTemplateParams(
                f"Line {line['account']} comes to a negative amount ({amount}).", fields={"amount": "Negative line."}
            )
        if amount == 0:
            continue
        address = ":".join(substitute(part) for part in line["account"].split(":"))
        rendered.append(RenderedLine(side=line["side"], address=address, amount=amount))
    return rendered

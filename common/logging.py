"""Log masking and JSON lines.

`SensitiveDataFilter` sits on every handler (see LOGGING), so card numbers, CVVs, secrets,
`Authorization` headers and tokens never reach an output, whichever logger wrote them:
the message, its arguments, `extra` fields, tracebacks and stack info are all masked.
"""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

# A run of digits with single spaces or dashes between them ("4111 1111-1111 1111").
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){12,}")
_PAN_LENGTHS = range(13, 20)

_SENSITIVE_KEY = re.compile(
    r"^(?:cvv2?|cvc2?|cid|security_code|password|passwd|secret|client_secret|.*_secret|api_key|"
    r"access_token|refresh_token|token|authorization|pan|card_number|number|otp|otp_token|backup_code)$",
    re.IGNORECASE,
)
_KEY_VALUE = re.compile(
    r"""(?ix)
    (["']?\b(?:cvv2?|cvc2?|security_code|password|passwd|client_secret|secret|api_key|access_token|
    refresh_token|token|authorization|pan|card_number)\b["']?\s*[:=]\s*)
    (?:"[^"]*"|'[^']*'|bearer\s+\S+|basic\s+\S+|[^\s,;&}\]]+)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

REDACTED = "[REDACTED]"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_card_numbers(run: re.Match[str]) -> str:
    """Mask card numbers in one run of digit groups ("100 4111 1111 1111 1111").

    A candidate is any sequence of whole consecutive groups holding 13–19 digits that passes
    Luhn; all but its last 4 digits are masked. Whole groups only, so digits inside a longer
    unbroken number (an id, a timestamp) are not mistaken for a card.
    """
    text = run.group(0)
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", text)]
    masked: set[int] = set()
    for first in range(len(groups)):
        digits = ""
        for last in range(first, len(groups)):
            start, end = groups[last]
            digits += text[start:end]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and luhn_valid(digits):
                positions = [i for s, e in groups[first : last + 1] for i in range(s, e)]
                masked.update(positions[:-4])
    if not masked:
        return text
    return "".join("*" if i in masked else char for i, char in enumerate(text))


def mask_text(text: str) -> str:
    """Mask card numbers, key=value secrets, bearer credentials and JWTs in free text."""
    text = _KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + " " + REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    return _DIGIT_RUN.sub(_mask_card_numbers, text)


def mask_value(value: Any, key: str | None = None) -> Any:
    """Mask a structured value: sensitive keys lose their value, strings are scanned."""
    if key is not None and _SENSITIVE_KEY.match(key):
        return REDACTED
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, dict):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [mask_value(v) for v in value]
    # Objects (requests, exceptions …) are logged by their text, which may carry a query string.
    return mask_text(str(value))


_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "request_id"}


class SensitiveDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask_text(message)
        record.args = None
        if record.exc_info:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None  # formatters would otherwise format the unmasked traceback again
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        for key in set(record.__dict__) - _STANDARD_ATTRS:
            record.__dict__[key] = mask_value(record.__dict__[key], key)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in set(record.__dict__) - _STANDARD_ATTRS:
            line[key] = record.__dict__[key]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)

"""Request body parsers: JSON that the database and the response renderer can always hold.

`json.loads` accepts `"\\u0000"` (PostgreSQL text cannot store NUL) and lone surrogates such as
`"\\ud800"` (not encodable as UTF-8: saving, hashing or echoing them in an error fails). Both are refused
here as a malformed request (400), once, for every API, instead of as a 500 somewhere later.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check(value: Any) -> None:
    if isinstance(value, str):
        if _unstorable(value):
            raise ParseError("Text in the body contains a NUL character or an unpaired surrogate escape.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list):
        for item in value:
            _check(item)


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _check(data)
        return data

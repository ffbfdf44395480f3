import io
import json
import logging

import pytest

from common.logging import JsonFormatter, SensitiveDataFilter, mask_text
from common.request_id import RequestIdLogFilter

VISA = "4111111111111111"
AMEX = "378282246310005"


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    """A logger wired like production: masking and request-id filters on a JSON handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdLogFilter())
    handler.addFilter(SensitiveDataFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.masking")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


class TestCardNumbersAreMasked:
    @pytest.mark.parametrize(
        "written",
        [VISA, "4111 1111 1111 1111", "4111-1111-1111-1111", AMEX, "3782 822463 10005", "6011000990139424"],
    )
    def test_in_the_message(self, captured, written: str) -> None:
        logger, stream = captured

        logger.info("charging card %s now", written)

        line = json.loads(stream.getvalue())
        digits_left = "".join(c for c in line["message"] if c.isdigit())
        assert digits_left == written.replace(" ", "").replace("-", "")[-4:]
        assert written not in stream.getvalue()

    def test_in_extra_fields_and_nested_structures(self, captured) -> None:
        logger, stream = captured

        logger.warning("tokenize failed", extra={"card": VISA, "payload": {"items": [{"pan": VISA, "note": VISA}]}})

        output = stream.getvalue()
        assert VISA not in output
        line = json.loads(output)
        assert line["card"] == "************1111"
        assert line["payload"]["items"][0] == {"pan": "[REDACTED]", "note": "************1111"}

    def test_in_a_traceback(self, captured) -> None:
        logger, stream = captured
        try:
            raise ValueError(f"bad card {VISA}")
        except ValueError:
            logger.exception("failed")

        assert VISA not in stream.getvalue()
        assert "ValueError: bad card ************1111" in json.loads(stream.getvalue())["exception"]

    def test_a_number_inside_a_longer_run_is_still_found(self) -> None:
        assert VISA not in mask_text(f"amount 100 {VISA}")

    @pytest.mark.parametrize("text", ["order 4111111111111112 shipped", "id 41111111111111114111111111111111"])
    def test_numbers_that_fail_luhn_or_are_longer_than_a_card_are_left_alone(self, text: str) -> None:
        assert mask_text(text) == text


class TestSecretsAreMasked:
    @pytest.mark.parametrize(
        ("text", "secret"),
        [
            ('{"cvv": "123", "amount": 5}', "123"),
            ("cvc=9876&x=1", "9876"),
            ("Authorization: Bearer abcdefghijklmnop.qrs", "abcdefghijklmnop"),
            ("client_secret=s3cr3t-value", "s3cr3t-value"),
            ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl issued", "eyJhbGciOiJIUzI1NiJ9"),
            ("password='hunter2'", "hunter2"),
        ],
    )
    def test_key_value_pairs_headers_and_tokens(self, text: str, secret: str) -> None:
        masked = mask_text(text)

        assert secret not in masked
        assert "[REDACTED]" in masked

    def test_sensitive_extra_keys_lose_their_value(self, captured) -> None:
        logger, stream = captured

        logger.info("login", extra={"password": "hunter2", "cvv": 123, "authorization": "Basic dXNlcjpwYXNz"})

        line = json.loads(stream.getvalue())
        assert (line["password"], line["cvv"], line["authorization"]) == ("[REDACTED]",) * 3


class TestJsonLines:
    def test_each_record_is_one_json_object_with_the_request_id(self, captured) -> None:
        logger, stream = captured

        logger.info("hello %s", "world")

        line = json.loads(stream.getvalue())
        assert line["message"] == "hello world"
        assert line["level"] == "INFO"
        assert line["request_id"] == "-"


class TestProjectLogging:
    def test_every_configured_handler_masks(self, settings) -> None:
        handlers = settings.LOGGING["handlers"]

        assert handlers and all("mask_sensitive" in handler["filters"] for handler in handlers.values())

    def test_root_handler_masks_what_any_logger_writes(self, capsys) -> None:
        root_handlers = logging.getLogger().handlers
        assert any(isinstance(f, SensitiveDataFilter) for h in root_handlers for f in h.filters)

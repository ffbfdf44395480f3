import pytest

pytestmark = [pytest.mark.urls("tests.common.urls"), pytest.mark.django_db]

REQUEST_ID = "req-0123456789abcdef"


def envelope(response) -> dict:  # noqa: ANN001
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields", "request_id"}
    return body["error"]


class TestErrorEnvelope:
    def test_validation_error_names_the_field_and_carries_the_request_id(self, api_client) -> None:
        response = api_client.post("/api/test/echo", {"amount": "12x"}, format="json", HTTP_X_REQUEST_ID=REQUEST_ID)

        assert response.status_code == 400
        error = envelope(response)
        assert error["code"] == "validation_error"
        assert error["fields"] == {"amount": ["Must be digits."]}
        assert error["request_id"] == REQUEST_ID
        assert response["X-Request-ID"] == REQUEST_ID

    def test_malformed_json_is_a_400_in_the_envelope(self, api_client) -> None:
        response = api_client.post("/api/test/echo", "{not json", content_type="application/json")

        assert response.status_code == 400
        assert envelope(response)["code"] == "malformed_request"

    @pytest.mark.parametrize(
        "body", ['{"amount": "\\u0000"}', '{"amount": "\\ud800"}', '{"\\udfff": "1"}', '[{"a": ["x\\u0000"]}]']
    )
    def test_nul_and_unpaired_surrogates_are_a_400_not_a_500(self, api_client, body: str) -> None:
        """Neither can be stored in PostgreSQL text or encoded as UTF-8 in a response."""
        response = api_client.post("/api/test/echo", body, content_type="application/json")

        assert response.status_code == 400
        assert envelope(response)["code"] == "malformed_request"

    def test_unknown_api_path_is_a_404_in_the_envelope(self, api_client) -> None:
        response = api_client.get("/api/v1/no-such-thing", HTTP_X_REQUEST_ID=REQUEST_ID)

        assert response.status_code == 404
        error = envelope(response)
        assert error == {"code": "not_found", "message": "No such resource.", "fields": {}, "request_id": REQUEST_ID}

    def test_wrong_method_is_a_405_in_the_envelope(self, api_client) -> None:
        response = api_client.delete("/api/test/echo")

        assert response.status_code == 405
        assert envelope(response)["code"] == "method_not_allowed"

    def test_domain_error_keeps_its_code_status_and_fields(self, api_client) -> None:
        response = api_client.post("/api/test/boom", {}, format="json")

        assert response.status_code == 409
        assert envelope(response) | {"request_id": ""} == {
            "code": "test_refused",
            "message": "Refused for a reason.",
            "fields": {"amount": ["too big"]},
            "request_id": "",
        }

    def test_unhandled_exception_is_a_500_without_internals(self, api_client, caplog) -> None:
        response = api_client.get("/api/test/boom", HTTP_X_REQUEST_ID=REQUEST_ID)

        assert response.status_code == 500
        error = envelope(response)
        assert error["code"] == "internal_error"
        assert error["request_id"] == REQUEST_ID
        text = response.content.decode()
        assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
        assert any(record.levelname == "ERROR" for record in caplog.records)

    def test_unhandled_exception_in_a_plain_django_api_view_is_a_500_envelope(self, client) -> None:
        client.raise_request_exception = False

        response = client.get("/api/test/plain-boom", HTTP_X_REQUEST_ID=REQUEST_ID)

        assert response.status_code == 500
        assert envelope(response) == {
            "code": "internal_error",
            "message": "An internal error occurred. Quote the request id when reporting it.",
            "fields": {},
            "request_id": REQUEST_ID,
        }


class TestRequestId:
    def test_a_malformed_request_id_is_replaced(self, api_client) -> None:
        response = api_client.get("/api/test/echo", HTTP_X_REQUEST_ID="bad id\nwith newline")

        assert response.status_code == 200
        assert response["X-Request-ID"] != "bad id\nwith newline"
        assert len(response["X-Request-ID"]) == 32

    def test_a_request_id_is_made_when_none_is_sent(self, api_client) -> None:
        first = api_client.get("/api/test/echo")["X-Request-ID"]
        second = api_client.get("/api/test/echo")["X-Request-ID"]

        assert len(first) == 32 and first != second

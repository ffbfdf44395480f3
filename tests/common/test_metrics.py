import pytest

pytestmark = pytest.mark.django_db


class TestMetricsAccess:
    def test_an_allowed_network_can_scrape(self, client) -> None:
        response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

        assert response.status_code == 200
        assert b"django_http_requests" in response.content

    def test_other_networks_are_refused(self, client) -> None:
        response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

        assert response.status_code == 403
        assert b"django_http" not in response.content

    def test_a_spoofed_forwarded_for_header_is_not_trusted(self, client) -> None:
        response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1")

        assert response.status_code == 403

    def test_the_bearer_token_opens_it_from_anywhere(self, client, settings) -> None:
        settings.METRICS_TOKEN = "scrape-token-123456"

        allowed = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-token-123456")
        refused = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong")

        assert (allowed.status_code, refused.status_code) == (200, 403)

    def test_a_trusted_proxy_hop_is_honoured_only_when_configured(self, client, settings) -> None:
        settings.TRUSTED_PROXY_COUNT = 1

        response = client.get("/metrics", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9, 127.0.0.1")

        assert response.status_code == 200

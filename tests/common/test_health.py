from unittest import mock

import pytest
from django.db import connections

from common import health

pytestmark = pytest.mark.django_db(transaction=True)


class TestLive:
    def test_live_answers_without_dependencies(self, client) -> None:
        response = client.get("/health/live")

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


class TestReady:
    def test_ready_reports_each_dependency(self, client) -> None:
        response = client.get("/health/ready")

        assert response.status_code == 200
        checks = response.json()["checks"]
        assert checks["database"]["status"] == "ok"
        assert checks["migrations"] == {"status": "ok", "detail": "all applied"}
        assert checks["redis"]["status"] == "skipped"
        assert checks["celery_broker"]["status"] == "ok"

    def test_unreachable_database_answers_503_naming_it(self, client) -> None:
        unreachable = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "x",
            "HOST": "127.0.0.1",
            "PORT": "1",
            "USER": "x",
            "PASSWORD": "",
            "OPTIONS": {"connect_timeout": 1},
        }
        # Each check runs in a fresh thread, which opens a fresh connection from these settings.
        with mock.patch.dict(connections.settings["default"], unreachable):
            response = client.get("/health/ready")

        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "failed"
        assert body["checks"]["database"]["status"] == "failed"
        assert "OperationalError" in body["checks"]["database"]["detail"]

    def test_a_hung_check_fails_within_the_timeout(self, settings) -> None:
        settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.2
        hung = mock.Mock(side_effect=lambda: __import__("time").sleep(2))

        results = health.run_checks({"slow": hung, "fast": lambda: "fine"})

        assert results["slow"] == {"status": "failed", "detail": "no answer within 0.2s"}
        assert results["fast"] == {"status": "ok", "detail": "fine"}

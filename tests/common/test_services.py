"""The throw-away servers are real: these talk to them."""

import pytest
import redis
from django.db import connection

from common import health


@pytest.mark.postgres
@pytest.mark.django_db
class TestPostgres:
    def test_the_suite_runs_on_a_real_postgresql(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version_num')::int")
            (version,) = cursor.fetchone()

        assert connection.vendor == "postgresql"
        assert version >= 130000

    def test_readiness_reports_postgresql(self, client) -> None:
        response = client.get("/health/ready")

        assert response.json()["checks"]["database"] == {"status": "ok", "detail": "postgresql"}


@pytest.mark.redis
class TestRedis:
    def test_the_server_answers(self, redis_url: str) -> None:
        client = redis.Redis.from_url(redis_url)

        assert client.ping() is True
        client.close()

    @pytest.mark.django_db
    def test_readiness_pings_redis_and_the_redis_broker(self, redis_url: str, settings) -> None:
        from config.celery_app import app

        settings.REDIS_URL = redis_url
        original = app.conf.broker_url
        app.conf.broker_url = redis_url
        try:
            results = health.run_checks({"redis": health.check_redis, "celery_broker": health.check_broker})
        finally:
            app.conf.broker_url = original

        assert results == {
            "redis": {"status": "ok", "detail": "pong"},
            "celery_broker": {"status": "ok", "detail": "reachable"},
        }

    def test_readiness_fails_when_redis_is_down(self, settings) -> None:
        settings.REDIS_URL = "redis://127.0.0.1:1/0"

        results = health.run_checks({"redis": health.check_redis})

        assert results["redis"]["status"] == "failed"

import multiprocessing

import pytest

from common import ratelimit
from common.ratelimit import EmbeddedBackend, RedisBackend
from tests.security.helpers import bearer, make_client

pytestmark = pytest.mark.urls("tests.common.urls")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def embedded(monkeypatch) -> EmbeddedBackend:  # noqa: ANN001
    backend = EmbeddedBackend(clock=FakeClock())
    monkeypatch.setattr(ratelimit, "backend", lambda: backend)
    return backend


class TestGcra:
    def test_a_burst_then_one_per_interval(self, embedded) -> None:
        allowed = [embedded.hit("k", rate=2, burst=3).allowed for _ in range(5)]
        embedded.clock.now += 0.5
        later = embedded.hit("k", rate=2, burst=3)

        assert allowed == [True, True, True, False, False]
        assert later.allowed

    def test_a_window_edge_never_lets_twice_the_limit_through(self, embedded) -> None:
        """A fixed 1-second window of 10 would allow 10 at t=0.999 and 10 more at t=1.000."""
        embedded.clock.now = 0.999
        before_edge = sum(embedded.hit("edge", rate=10, burst=10).allowed for _ in range(10))
        embedded.clock.now = 1.000
        after_edge = sum(embedded.hit("edge", rate=10, burst=10).allowed for _ in range(10))

        assert before_edge == 10
        assert after_edge == 0  # 1 ms later only 0.01 of a request has been earned back

    def test_refusal_says_when_to_retry(self, embedded) -> None:
        embedded.hit("r", rate=1, burst=1)

        refused = embedded.hit("r", rate=1, burst=1)

        assert not refused.allowed
        assert refused.retry_after == pytest.approx(1.0)


@pytest.mark.django_db
class TestApiRateLimit:
    def test_over_the_limit_is_a_429_envelope_with_headers(self, api_client, embedded) -> None:
        issued = make_client(scopes=["audit:read"], rate_per_second=0.5, burst=2)
        bearer(api_client, issued)

        first = api_client.get("/api/test/clients/")
        second = api_client.get("/api/test/clients/")
        third = api_client.get("/api/test/clients/")

        assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
        assert (first["RateLimit-Limit"], first["RateLimit-Remaining"]) == ("2", "1")
        assert second["RateLimit-Remaining"] == "0"
        assert third.json()["error"]["code"] == "rate_limited"
        assert third["Retry-After"] == "2"
        assert third["RateLimit-Remaining"] == "0"
        assert int(third["RateLimit-Reset"]) >= 1

    def test_a_stricter_endpoint_class_has_its_own_bucket(self, api_client, embedded) -> None:
        issued = make_client(scopes=["audit:read", "vault:detokenize"])
        bearer(api_client, issued)

        statuses = [api_client.post("/api/test/strict", {}, format="json").status_code for _ in range(3)]

        assert statuses == [200, 200, 429]
        assert api_client.get("/api/test/clients/").status_code == 200  # the default bucket is untouched


@pytest.mark.django_db
@pytest.mark.urls("config.urls")
class TestTokenEndpointRateLimit:
    def test_every_token_request_is_limited_per_ip_with_headers(self, api_client, embedded, settings) -> None:
        settings.TOKEN_ENDPOINT_RATE_LIMIT = (1.0, 2)
        body = {"grant_type": "client_credentials", "client_id": "cli_unknown", "client_secret": "x"}

        responses = [api_client.post("/api/v1/auth/token", body, REMOTE_ADDR="192.0.2.10") for _ in range(3)]
        elsewhere = api_client.post("/api/v1/auth/token", body, REMOTE_ADDR="192.0.2.11")

        assert [r.status_code for r in responses] == [401, 401, 429]
        assert (responses[0]["RateLimit-Limit"], responses[0]["RateLimit-Remaining"]) == ("2", "1")
        assert responses[2].json()["error"]["code"] == "rate_limited" and responses[2]["Retry-After"] == "1"
        assert elsewhere.status_code == 401 and elsewhere["RateLimit-Remaining"] == "1"


class Unreachable:
    def hit(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise ratelimit.LimiterUnavailable("connection refused")


@pytest.mark.django_db
class TestBackendDown:
    def test_ordinary_endpoints_fail_open_and_count_it(self, api_client, monkeypatch) -> None:
        monkeypatch.setattr(ratelimit, "backend", lambda: Unreachable())
        counter = ratelimit.limiter_errors.labels("default", "allowed")
        before = counter._value.get()
        bearer(api_client, make_client(scopes=["audit:read"]))

        response = api_client.get("/api/test/clients/")

        assert response.status_code == 200
        assert counter._value.get() == before + 1

    def test_detokenization_fails_closed(self, api_client, monkeypatch) -> None:
        monkeypatch.setattr(ratelimit, "backend", lambda: Unreachable())
        bearer(api_client, make_client(scopes=["vault:detokenize"]))

        response = api_client.post("/api/test/strict", {}, format="json")

        assert response.status_code == 503
        assert response.json()["error"]["code"] == "rate_limiter_unavailable"

    def test_a_real_unreachable_redis_raises_limiter_unavailable(self) -> None:
        with pytest.raises(ratelimit.LimiterUnavailable):
            RedisBackend("redis://127.0.0.1:1/0").hit("k", 1, 1)


def _hammer(url: str, key: str, attempts: int, results) -> None:  # noqa: ANN001
    backend = RedisBackend(url)
    results.put(sum(backend.hit(key, rate=0.0001, burst=50).allowed for _ in range(attempts)))


@pytest.mark.redis
class TestRedisBackend:
    def test_two_processes_hammering_one_client_get_exactly_the_allowed_count(self, redis_url: str) -> None:
        results: multiprocessing.Queue = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(target=_hammer, args=(redis_url, "rl:shared", 100, results)) for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)

        assert results.get(timeout=5) + results.get(timeout=5) == 50

    def test_the_redis_decision_matches_gcra(self, redis_url: str) -> None:
        backend = RedisBackend(redis_url)

        decisions = [backend.hit("rl:single", rate=1, burst=3) for _ in range(4)]

        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert decisions[-1].retry_after == pytest.approx(1.0, abs=0.05)

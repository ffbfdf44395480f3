import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from common.idempotency import idempotency_purge_expired
from common.models import IdempotencyRecord
from tenants.models import Merchant
from tests.common.urls import IdempotentCreateView
from tests.security.helpers import bearer, make_client

pytestmark = pytest.mark.urls("tests.common.urls")


@pytest.fixture
def writer(api_client):  # noqa: ANN001, ANN201
    bearer(api_client, make_client(scopes=["ledger:write"], platform=True))
    return api_client


def post(client, body: dict, key: str | None = "key-1"):  # noqa: ANN001, ANN201
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/test/idempotent", body, format="json", **headers)


@pytest.mark.django_db
class TestIdempotencyKeys:
    def test_a_repeat_replays_the_first_response_without_acting_again(self, writer) -> None:
        first = post(writer, {"reference": "acme"})
        second = post(writer, {"reference": "acme"})

        assert (first.status_code, second.status_code) == (201, 201)
        assert second.json() == first.json()
        assert second["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Merchant.objects.filter(reference="acme").count() == 1

    def test_the_same_key_with_another_body_is_a_422(self, writer) -> None:
        post(writer, {"reference": "acme"})

        response = post(writer, {"reference": "other"})

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
        assert not Merchant.objects.filter(reference="other").exists()

    def test_a_twin_while_the_first_runs_is_a_409(self, writer) -> None:
        post(writer, {"reference": "acme"}, key="busy")
        # As if the first request were still running: its claim is in progress.
        IdempotencyRecord.objects.filter(key="busy").update(state="in_progress", response_status=None)

        response = post(writer, {"reference": "acme"}, key="busy")

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "idempotency_key_in_use"

    def test_an_abandoned_claim_can_be_taken_over_after_the_timeout(self, writer) -> None:
        post(writer, {"reference": "acme"}, key="stale")
        old = timezone.now() - timedelta(minutes=5)
        IdempotencyRecord.objects.filter(key="stale").update(state="in_progress", response_status=None, created_at=old)
        Merchant.objects.filter(reference="acme").delete()  # the first attempt's work never committed

        response = post(writer, {"reference": "acme"}, key="stale")

        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response

    def test_the_key_is_required_on_money_moving_posts(self, writer) -> None:
        response = post(writer, {"reference": "acme"}, key=None)

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "idempotency_key_required"

    def test_keys_are_per_client(self, writer, api_client) -> None:
        post(writer, {"reference": "acme"})
        other = bearer(type(api_client)(), make_client(scopes=["ledger:write"], platform=True))

        response = post(other, {"reference": "acme-2"})

        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response

    def test_a_failed_request_releases_its_key(self, writer) -> None:
        failed = post(writer, {})  # no reference: the handler fails
        retried = post(writer, {"reference": "fixed"})

        assert failed.status_code == 500
        assert retried.status_code == 201  # the failure kept nothing, so the corrected body may use the key
        assert Merchant.objects.filter(reference="fixed").exists()

    def test_expired_keys_are_purged(self, writer) -> None:
        post(writer, {"reference": "acme"})
        IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

        assert idempotency_purge_expired() == 1
        assert post(writer, {"reference": "acme-again"}).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentTwins:
    def test_ten_concurrent_identical_requests_execute_the_handler_once(self, api_client) -> None:
        from rest_framework.test import APIClient

        issued = make_client(scopes=["ledger:write"], platform=True)
        IdempotentCreateView.calls = 0
        barrier = threading.Barrier(10)
        statuses: list[int] = []
        lock = threading.Lock()

        def one() -> None:
            client = bearer(APIClient(), issued)
            barrier.wait()
            response = post(client, {"reference": "twins", "sleep": 0.3}, key="twin-key")
            with lock:
                statuses.append(response.status_code)
            connections.close_all()

        threads = [threading.Thread(target=one) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert IdempotentCreateView.calls == 1
        assert Merchant.objects.filter(reference="twins").count() == 1
        assert statuses.count(201) >= 1
        assert set(statuses) <= {201, 409}


@pytest.mark.django_db
class TestFingerprintIsKeyed:
    def test_the_stored_fingerprint_is_not_a_plain_hash_of_the_body(self, writer) -> None:
        import hashlib

        post(writer, {"reference": "acme"})

        stored = IdempotencyRecord.objects.get(key="key-1").fingerprint
        body = b'{"reference":"acme"}'
        assert stored != hashlib.sha256(body).hexdigest()
        assert len(stored) == 64

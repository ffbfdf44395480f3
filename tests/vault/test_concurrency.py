"""PostgreSQL only: row locks, SKIP LOCKED and concurrent tokenization."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from tests.vault.factories import AMEX, PAN, tokenize
from vault.models import Card
from vault.services import card_detokenize, key_rotate, vault_rewrap

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class TestRewrapUnderLoad:
    def test_rewrap_skips_a_locked_card_and_finishes_it_once_released(self, tenant, actor) -> None:
        locked = tokenize(tenant=tenant, actor=actor).card
        tokenize(tenant=tenant, actor=actor, number=AMEX)
        key_rotate(purpose="kek", actor=actor)
        holding, release = threading.Event(), threading.Event()

        def hold_lock() -> None:
            try:
                with transaction.atomic():
                    Card.objects.select_for_update().get(pk=locked.pk)
                    holding.set()
                    release.wait(10)
            finally:
                connections.close_all()

        pool = ThreadPoolExecutor(max_workers=1)
        future = pool.submit(hold_lock)
        assert holding.wait(10)

        first = vault_rewrap(actor=actor, max_batches=1)
        release.set()
        future.result(10)
        pool.shutdown()
        rest = vault_rewrap(actor=actor)

        assert (first.cards, first.remaining, rest.cards, rest.remaining) == (1, 1, 1, 0)
        assert card_detokenize(tenant=tenant, actor=actor, token=locked.token, reason="refund").pan == PAN

    def test_the_rewrap_lock_is_an_ordered_for_update_skip_locked(self, tenant, actor) -> None:
        from django.test.utils import CaptureQueriesContext

        tokenize(tenant=tenant, actor=actor)
        key_rotate(purpose="kek", actor=actor)

        with CaptureQueriesContext(connection) as queries:
            vault_rewrap(actor=actor)

        [select] = [q["sql"] for q in queries if "FOR NO KEY UPDATE" in q["sql"] and '"vault_card"' in q["sql"]][:1]
        assert "ORDER BY" in select and "SKIP LOCKED" in select


class TestConcurrentTokenize:
    def test_the_same_pan_tokenized_concurrently_yields_one_token(self, tenant, actor) -> None:
        barrier = threading.Barrier(4)

        def work() -> str:
            try:
                barrier.wait(10)
                return tokenize(tenant=tenant, actor=actor).card.token
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=4) as pool:
            tokens = list(pool.map(lambda _: work(), range(4)))

        assert len(set(tokens)) == 1
        assert Card.objects.filter(tenant_key=tenant.key).count() == 1

"""Audit benchmark: recording (1 and 8 writers), chaining, verification — PostgreSQL, durable commits.

    python -m bench audit

Targets (issue 3): verification >= 200,000 events/s; chainer >= 20,000 events/s.
"""

import threading
import time

from bench._django import row, setup_django

RECORD_PER_WRITER = 2000
BULK_EVENTS = 300_000


def record_rate(writers: int) -> float:
    from django.db import connections, transaction

    from audit.services import audit_record

    barrier = threading.Barrier(writers + 1)

    def work(number: int) -> None:
        barrier.wait()
        for i in range(RECORD_PER_WRITER):
            with transaction.atomic():
                audit_record(action="bench.event.recorded", object_type="bench.item", object_id=str(i),
                             data={"writer": number, "i": i, "amount": "12.34", "currency": "USD"})  # fmt: skip
        connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return writers * RECORD_PER_WRITER / (time.perf_counter() - started)


def bulk_unchained(count: int) -> None:
    """Realistic unchained rows, inserted fast (one statement) to load the chainer and verifier."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_auditevent (occurred_at, actor_kind, actor_id, actor_label, action, object_type,
                object_id, tenant, request_id, ip, user_agent, data)
            SELECT now() - (g || ' milliseconds')::interval, 'api_client', 'cli_' || (g %% 50), 'partner system',
                'ledger.entry.posted', 'ledger.journalentry', g::text, 'merchant:' || (g %% 97),
                md5(g::text), '203.0.113.' || (g %% 250), 'bench/1.0',
                '{"amount":"' || g || '.00","currency":"USD","lines":2}'
            FROM generate_series(1, %s) AS g
            """,
            [count],
        )


def main() -> None:
    setup_django(durable=True)
    from audit.services import audit_chain_pending, audit_verify

    print("PostgreSQL, fsync + synchronous_commit on; each recorded event is its own committed transaction.")
    audit_chain_pending()
    row("record: events/s, 1 writer", f"{record_rate(1):,.0f}")
    row("record: events/s, 8 writers", f"{record_rate(8):,.0f}")
    started = time.perf_counter()
    chained = audit_chain_pending()
    row(f"chainer: events/s ({chained:,} recorded above)", f"{chained / (time.perf_counter() - started):,.0f}")

    bulk_unchained(BULK_EVENTS)
    started = time.perf_counter()
    chained = audit_chain_pending()
    row(
        f"chainer: events/s ({chained:,} bulk-loaded)",
        f"{chained / (time.perf_counter() - started):,.0f}  (target 20,000)",
    )

    # The chainer's UPDATEs leave a dead version of every row; autovacuum clears them long before a
    # nightly verification, so measure the steady state.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditevent")
    started = time.perf_counter()
    result = audit_verify(record_result=False)
    elapsed = time.perf_counter() - started
    assert result.ok, result.report.broken
    row(
        f"verify: events/s ({result.report.checked:,} events)",
        f"{result.report.checked / elapsed:,.0f}  (target 200,000)",
    )


if __name__ == "__main__":
    main()

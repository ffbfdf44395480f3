"""Credits benchmark: `python -m bench credits` (PostgreSQL with durable commits, see bench/_django.py).

Prints: consumptions/s through `credits.services.credit_consume` (wallet row lock, lot selection,
ledger posting with its audit row, consumption + lot-use rows, the credits audit row; one durable
commit each) with 1 and 8 threads, each thread on its own wallet; the same with 8 threads on ONE
wallet (they queue on its lock: the per-wallet ceiling); and the latency of one balance read
(`credits.selectors.wallet_balance`, in-process) on a wallet with many ledger lines.
Targets (issue 9): >= 1,000 consumptions/s with 8 workers; balance read p99 < 2 ms.
"""

import base64
import os
import secrets
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from bench._django import percentile, row, run_threads, setup_django, summary_ms, time_each

DURATION = float(os.environ.get("BENCH_CREDITS_SECONDS", "5"))
READS = int(os.environ.get("BENCH_CREDITS_READS", "5000"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _funded_wallets(count: int) -> list:
    from audit.context import Actor
    from credits import services
    from tenants.models import Merchant

    actor = Actor.system("bench")
    merchant, _ = Merchant.objects.get_or_create(reference="bench-credits", defaults={"name": "Bench"})
    wallets = []
    for _ in range(count):
        wallet = services.wallet_create(
            unit="USD", owner_kind="customer", merchant=merchant, customer_reference=uuid.uuid4().hex[:20],
            actor=actor, occurred_at=T0,
        )  # fmt: skip
        # Three lots: expiring soonest first, so every consumption reads a few lots and updates one.
        for days, amount in ((400, 10**9), (800, 10**9), (None, 10**9)):
            expires_at = datetime(2027 + (days or 0) // 400, 1, 1, tzinfo=UTC) if days else None
            services.credit_grant(
                wallet=wallet, amount=amount, reason="bench", expires_at=expires_at, actor=actor, occurred_at=T0
            )
        wallets.append(wallet)
    return wallets


def bench_consume(workers: int, *, shared: bool = False) -> float:
    from django.utils import timezone

    from audit.context import Actor
    from credits import services

    actor = Actor.system("bench")
    wallets = _funded_wallets(1 if shared else workers)

    def work(i: int) -> None:
        wallet = wallets[0 if shared else i]
        services.credit_consume(
            wallet=wallet.pk, amount=7, reference=uuid.uuid4().hex, actor=actor, occurred_at=timezone.now()
        )

    count, errors, seconds = run_threads(workers, work, DURATION)
    rate = count / seconds
    where = "one shared wallet" if shared else "a wallet each"
    row(f"credit_consume, {workers} thread(s), {where}", f"{rate:8.0f} consumptions/s  errors={dict(errors)}")
    _check(wallets)
    return rate


def _process_worker(wallet_pk: int, start_at: float, results) -> None:  # noqa: ANN001
    """A forked worker: its own connection, consumes from its wallet for DURATION seconds."""
    from django.db import connections
    from django.utils import timezone

    from audit.context import Actor
    from credits import services

    connections.close_all()  # never share the parent's socket
    actor, done, errors = Actor.system("bench"), 0, Counter()
    time.sleep(max(0.0, start_at - time.time()))
    stop_at = time.perf_counter() + DURATION
    while time.perf_counter() < stop_at:
        try:
            services.credit_consume(
                wallet=wallet_pk, amount=7, reference=uuid.uuid4().hex, actor=actor, occurred_at=timezone.now()
            )
            done += 1
        except Exception as error:
            errors[getattr(error, "code", None) or type(error).__name__] += 1
    connections.close_all()
    results.put((done, dict(errors)))


def bench_consume_processes(workers: int) -> float:
    """Like bench_consume, but `workers` forked processes (no shared GIL), a wallet each."""
    import multiprocessing

    from django.db import connections

    wallets = _funded_wallets(workers)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 1.0
    processes = [context.Process(target=_process_worker, args=(wallet.pk, start_at, results)) for wallet in wallets]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=DURATION + 120) for _ in processes]
    for process in processes:
        process.join()
    count = sum(done for done, _ in outcomes)
    errors: Counter = Counter()
    for _, errs in outcomes:
        errors.update(errs)
    rate = count / DURATION
    row(f"credit_consume, {workers} process(es), a wallet each", f"{rate:8.0f} consumptions/s  errors={dict(errors)}")
    _check(wallets)
    return rate


def _check(wallets: list) -> None:
    """After the run: lots still sum to the ledger balance on every wallet."""
    from django.db.models import Sum

    from credits import selectors
    from credits.models import CreditLot

    for wallet in wallets:
        remaining = CreditLot.objects.filter(wallet=wallet).aggregate(s=Sum("remaining"))["s"]
        assert remaining == selectors.wallet_balance(wallet=wallet).total, wallet.pk


def bench_balance_read() -> None:
    from django.utils import timezone

    from audit.context import Actor
    from credits import selectors, services
    from credits.models import Wallet

    actor = Actor.system("bench")
    [wallet] = _funded_wallets(1)
    for _ in range(2000):
        services.credit_consume(wallet=wallet.pk, amount=1, actor=actor, occurred_at=timezone.now())
    services.reservation_create(wallet=wallet.pk, amount=5, ttl_seconds=600, actor=actor, occurred_at=timezone.now())
    loaded = Wallet.objects.get(pk=wallet.pk)
    balance = selectors.wallet_balance(wallet=loaded)
    assert balance.reserved == 5
    assert balance.total == 3 * 10**9 - 2000

    samples = time_each(lambda: selectors.wallet_balance(wallet=loaded), READS)
    row("balance read (wallet_balance), wallet with 2,000 consumptions", summary_ms(samples))
    by_id = time_each(lambda: selectors.wallet_balance(wallet=selectors.wallet_get(pk=wallet.pk)), READS)
    row("balance read incl. wallet lookup by id", summary_ms(by_id))
    p99 = percentile([s * 1000 for s in samples], 0.99)
    row("  target: balance read p99 < 2 ms", f"{'met' if p99 < 2 else 'NOT met'} ({p99:.3f} ms)")


def main() -> None:
    # A throw-away vault keyring (wallets here carry no email, but the field is encrypted when set).
    os.environ.setdefault("STRONGROOM_VAULT_LOCAL_KEYRING", f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
    setup_django()
    print(f"credits benchmark (PostgreSQL, durable commits, {DURATION:.0f} s per throughput run)", flush=True)
    from bench.ledger import bench_service

    row("reference: the ledger's own two-line posting (bench/ledger.py)", "")
    bench_service(1)
    bench_service(8)
    bench_consume(1)
    threads = bench_consume(8)
    processes = bench_consume_processes(8)
    rate = max(threads, processes)
    row("  target: >= 1,000 consumptions/s with 8 workers", f"{'met' if rate >= 1000 else 'NOT met'} ({rate:.0f}/s)")
    bench_consume(8, shared=True)
    bench_balance_read()


if __name__ == "__main__":
    main()

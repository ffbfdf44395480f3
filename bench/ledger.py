"""Ledger benchmark: `python -m bench ledger` (PostgreSQL with durable commits, see bench/_django.py).

Prints, in one run: 2-line postings/s through the service (1 and 8 threads, audit on), the same
transfer as hand-written SQL through psycopg (the reference for the limit), the cost of audit
recording (1 thread, audit on vs off; issue 3 target: at most 20 % of the posting rate), lines/s for
batches of 1000 lines, 8 threads debiting one hot protected account, balance-now / balance-as-of
latency on an account with 1,000,000 lines next to one with 10, and p50/p99 of one
`POST /api/v1/ledger/transfers` over real HTTP (gunicorn, 2 workers, production settings).
"""

import base64
import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench._django import percentile, row, run_threads, setup_django, summary_ms, time_each

DURATION = float(os.environ.get("BENCH_LEDGER_SECONDS", "4"))
BIG_LINES = int(os.environ.get("BENCH_LEDGER_BIG_LINES", "1000000"))
HTTP_REQUESTS = int(os.environ.get("BENCH_LEDGER_HTTP_REQUESTS", "1000"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _accounts(n: int, **options):  # noqa: ANN003, ANN202
    from audit.context import Actor
    from ledger import services
    from ledger.choices import AccountType, BalanceRule, OwnerKind

    actor = Actor.system("bench")
    defaults = {"type": AccountType.ASSET, "currency_code": "USD", "owner_kind": OwnerKind.PLATFORM}
    defaults["balance_rule"] = BalanceRule.ANY
    defaults.update(options)
    return [
        services.account_create(name=f"bench {uuid.uuid4().hex[:6]}", actor=actor, occurred_at=T0, **defaults)
        for _ in range(n)
    ]


def bench_service(workers: int, audit: str = "on") -> float:
    from django.utils import timezone

    from audit.context import Actor
    from ledger import services

    actor = Actor.system("bench")
    pairs = [_accounts(2) for _ in range(workers)]

    def work(i: int) -> None:
        a, b = pairs[i]
        services.transfer_create(
            debit_account=a.pk, credit_account=b.pk, amount=100, actor=actor, occurred_at=timezone.now()
        )

    count, errors, seconds = run_threads(workers, work, DURATION)
    rate = count / seconds
    label = f"service transfer_create, {workers} thread(s), audit {audit}"
    row(label, f"{rate:8.0f} postings/s  errors={dict(errors)}")
    return rate


def bench_hand_sql(workers: int, url: str) -> float:
    """The same transfer by hand: two balance UPDATEs, the entry and its two lines, one commit."""
    import psycopg

    pairs = [_accounts(2) for _ in range(workers)]
    local = threading.local()

    def work(i: int) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url)
        a, b = pairs[i]
        now = datetime.now(UTC)
        with local.conn.transaction(), local.conn.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_account SET posted_debits = posted_debits + 100, version = version + 1, "
                "last_line_at = %s, updated_at = %s WHERE id = %s RETURNING posted_debits - posted_credits, version",
                [now, now, a.pk],
            )
            debit_balance, debit_version = cursor.fetchone()
            cursor.execute(
                "UPDATE ledger_account SET posted_credits = posted_credits + 100, version = version + 1, "
                "last_line_at = %s, updated_at = %s WHERE id = %s RETURNING posted_debits - posted_credits, version",
                [now, now, b.pk],
            )
            credit_balance, credit_version = cursor.fetchone()
            entry = uuid.uuid4()
            cursor.execute(
                "INSERT INTO ledger_journalentry (id, description, status, is_hold, effective_at, created_at, metadata,"
                " created_by_kind, created_by_id, created_by_label, idempotency_source, idempotency_key,"
                " idempotency_fingerprint, template_name) VALUES (%s, '', 'posted', false, %s, %s, '{}', 'system', '',"
                " 'bench', '', '', '', '')",
                [entry, now, now],
            )
            cursor.execute(
                "INSERT INTO ledger_journalline (entry_id, account_id, side, phase, amount, currency_code,"
                " balance_after, account_version, posted_at) VALUES"
                " (%s, %s, 'debit', 'posted', 100, 'USD', %s, %s, %s),"
                " (%s, %s, 'credit', 'posted', 100, 'USD', %s, %s, %s)",
                [entry, a.pk, debit_balance, debit_version, now, entry, b.pk, credit_balance, credit_version, now],
            )

    count, errors, seconds = run_threads(workers, work, DURATION)
    rate = count / seconds
    row(f"hand-written SQL (psycopg), {workers} thread(s)", f"{rate:8.0f} transfers/s  errors={dict(errors)}")
    return rate


def bench_batches() -> None:
    from django.utils import timezone

    from audit.context import Actor
    from ledger import services
    from ledger.services import EntrySpec, LineSpec

    actor = Actor.system("bench")
    accounts = _accounts(100)
    lines_per_batch = 1000

    def batch() -> None:
        specs = []
        for _ in range(lines_per_batch // 2):
            a, b = random.sample(accounts, 2)
            specs.append(
                EntrySpec(
                    lines=[
                        LineSpec(side="debit", amount=7, account_id=a.pk),
                        LineSpec(side="credit", amount=7, account_id=b.pk),
                    ]
                )
            )
        services.entries_post_batch(entries=specs, actor=actor, occurred_at=timezone.now())

    samples = time_each(batch, 20)
    rate = lines_per_batch * len(samples) / sum(samples)
    row(
        f"batches of {lines_per_batch} lines (500 entries, 100 accounts)",
        f"{rate:8.0f} lines/s  ({summary_ms(samples)})",
    )


def bench_hot_account(workers: int) -> None:
    from django.utils import timezone

    from audit.context import Actor
    from ledger import services
    from ledger.choices import AccountType, BalanceRule, OwnerKind

    actor = Actor.system("bench")
    [hot] = _accounts(
        1, type=AccountType.LIABILITY, balance_rule=BalanceRule.DEBITS_WITHIN_CREDITS, owner_kind=OwnerKind.CUSTOMER,
        customer_reference="hot",
    )  # fmt: skip
    services.account_credit(account=hot, amount=10**12, actor=actor, occurred_at=timezone.now())
    sinks = _accounts(workers)

    def work(i: int) -> None:
        services.transfer_create(
            debit_account=hot.pk, credit_account=sinks[i].pk, amount=1, actor=actor, occurred_at=timezone.now()
        )

    count, errors, seconds = run_threads(workers, work, DURATION)
    deadlocks = sum(
        n for kind, n in errors.items() if "Deadlock" in kind or "Serialization" in kind or "Operational" in kind
    )
    row(
        f"hot protected account, {workers} threads debiting it",
        f"{count / seconds:8.0f} postings/s  deadlock/serialization errors seen by callers: {deadlocks}  "
        f"other errors: {dict(errors)}",
    )
    result = services.ledger_verify(record=False)
    row("  ledger_verify after the hot-account run", f"drift {result.drift_minor_units}, ok={result.is_ok}")


def _build_big_account(lines: int):  # noqa: ANN202
    """`lines` debits of 1 on one account, in entries of 1000 lines balanced by one credit each, with
    balance_after/version/posted_at consistent with the stored totals (bulk SQL, generate_series)."""
    from django.db import connection, transaction

    big, other = _accounts(2)
    entries = lines // 1000
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_journalentry (id, description, status, is_hold, effective_at, created_at, metadata,"
            " created_by_kind, created_by_id, created_by_label, idempotency_source, idempotency_key,"
            " idempotency_fingerprint, template_name) SELECT md5(%s || g)::uuid, 'bench', 'posted', false,"
            " %s + g * interval '1000 seconds', now(), '{}', 'system', '', 'bench', '', '', '', ''"
            " FROM generate_series(1, %s) g",
            [str(big.pk), T0, entries],
        )
        cursor.execute(
            "INSERT INTO ledger_journalline (entry_id, account_id, side, phase, amount, currency_code, balance_after,"
            " account_version, posted_at) SELECT md5(%s || ((i - 1) / 1000 + 1))::uuid, %s, 'debit', 'posted', 1,"
            " 'USD', i, i, %s + i * interval '1 second' FROM generate_series(1, %s) i",
            [str(big.pk), big.pk, T0, entries * 1000],
        )
        cursor.execute(
            "INSERT INTO ledger_journalline (entry_id, account_id, side, phase, amount, currency_code, balance_after,"
            " account_version, posted_at) SELECT md5(%s || g)::uuid, %s, 'credit', 'posted', 1000, 'USD',"
            " -1000 * g, g, %s + g * interval '1000 seconds' FROM generate_series(1, %s) g",
            [str(big.pk), other.pk, T0, entries],
        )
        cursor.execute(
            "UPDATE ledger_account SET posted_debits = %s, version = %s, last_line_at = %s WHERE id = %s",
            [entries * 1000, entries * 1000, T0 + timedelta(seconds=entries * 1000), big.pk],
        )
        cursor.execute(
            "UPDATE ledger_account SET posted_credits = %s, version = %s, last_line_at = %s WHERE id = %s",
            [entries * 1000, entries, T0 + timedelta(seconds=entries * 1000), other.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_journalline")
    return big, entries * 1000


def bench_balances() -> None:
    from django.utils import timezone

    from audit.context import Actor
    from ledger import selectors, services

    started = time.perf_counter()
    big, count = _build_big_account(BIG_LINES)
    row(f"built an account with {count:,} lines (bulk SQL)", f"{time.perf_counter() - started:.1f} s")
    small, sink = _accounts(2)
    actor = Actor.system("bench")
    for _ in range(10):
        services.transfer_create(
            debit_account=small, credit_account=sink, amount=1, actor=actor, occurred_at=timezone.now()
        )
    span = count  # seconds of history on the big account

    for label, account, check in ((f"{count:,} lines", big, count), ("10 lines", small, 10)):
        assert selectors.account_balance(account=account.pk).posted == check
        now_samples = time_each(lambda a=account: selectors.account_balance(account=a.pk), 2000)
        row(f"balance now, account with {label}", summary_ms(now_samples))
        moments = [T0 + timedelta(seconds=random.randint(1, span)) for _ in range(2000)]
        pending_moments = iter(moments)

        def as_of_lookup(a=account, m=pending_moments) -> int:  # noqa: ANN001
            return selectors.account_balance_at(account=a.pk, at=next(m))

        as_of = time_each(as_of_lookup, 2000)
        row(f"balance as of a random time, account with {label}", summary_ms(as_of))
    at = T0 + timedelta(seconds=123_456)
    assert selectors.account_balance_at(account=big.pk, at=at) == min(123_456, count)


def bench_audit_cost(rounds: int = 2) -> None:
    """1 thread, audit recording on vs off (`audit_record` a no-op in the posting engine), interleaved."""
    from ledger.services import posting

    recording = posting.audit_record
    on, off = [], []
    try:
        for _ in range(rounds):
            posting.audit_record = recording
            on.append(bench_service(1))
            posting.audit_record = lambda **kwargs: None
            off.append(bench_service(1, audit="off"))
    finally:
        posting.audit_record = recording
    rate_on, rate_off = sum(on) / len(on), sum(off) / len(off)
    row("  audit on (mean), 1 thread", f"{rate_on:8.0f} postings/s")
    row("  audit off (mean, audit_record a no-op), 1 thread", f"{rate_off:8.0f} postings/s")
    row(
        "audit recording cost, 1 thread",
        f"{100 * (rate_off - rate_on) / rate_off:7.1f} % of the posting rate  (target <= 20 %)",
    )


def _start_gunicorn(port: int) -> subprocess.Popen:
    """gunicorn (2 sync workers) on the benchmark database with production settings (config.settings.bench).

    Its start-up deployment checks must pass, so the database role gets a random password (the
    throw-away cluster trusts local connections, the check only looks at DATABASE_URL) and the vault
    a throw-away keyring."""
    from django.db import connection

    password = secrets.token_urlsafe(24)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER ROLE CURRENT_USER PASSWORD '{password}'")  # token_urlsafe: no quotes
    url = os.environ["DATABASE_URL"].replace("://strongroom@", f"://strongroom:{password}@", 1)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STRONGROOM_LOG_LEVEL": "ERROR",  # the deployment checks' warnings would drown the table
        "STRONGROOM_VAULT_LOCAL_KEYRING": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    server = subprocess.Popen(
        [gunicorn, "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--log-level", "warning"],
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/live")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /health/live within 60 s")


def bench_http_transfer() -> None:
    """p50/p99 of one POST /api/v1/ledger/transfers, sequential, a new connection each (sync workers)."""
    from audit.context import Actor
    from common.api_auth import token_issue
    from common.api_clients import api_client_create
    from common.testing.servers import free_port

    a, b = _accounts(2)
    issued = api_client_create(
        name="bench http", scopes=["ledger:write"], actor=Actor.system("bench"), platform=True,
        rate_per_second=1_000_000, burst=1_000_000,
    )  # fmt: skip
    token = token_issue(client=issued.client)["access_token"]
    body = json.dumps({"from_account": a.account_number, "to_account": b.account_number, "amount": "1.00",
                       "currency_code": "USD", "description": "bench"})  # fmt: skip
    port = free_port()
    server = _start_gunicorn(port)

    def one() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Idempotency-Key": uuid.uuid4().hex}  # fmt: skip
        connection.request("POST", "/api/v1/ledger/transfers", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        if response.status != 201:
            raise RuntimeError(f"POST transfers answered {response.status}: {payload[:300]!r}")

    try:
        time_each(one, 50)  # warm both workers (imports, DB connections)
        samples = time_each(one, HTTP_REQUESTS)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = sorted(sample * 1000 for sample in samples)
    row(
        "POST /api/v1/ledger/transfers over HTTP (gunicorn -w 2)",
        f"p50 {percentile(ms, 0.5):.2f} ms, p99 {percentile(ms, 0.99):.2f} ms (n={len(ms)}, sequential)",
    )


def _server_side_binding(enabled: bool) -> None:
    """What-if for the README: psycopg server-side binding + auto-prepared statements (as psycopg's own
    connections use by default). Production settings (config/settings/base.py) do not set this yet."""
    from django.db import connections

    options = connections["default"].settings_dict.setdefault("OPTIONS", {})
    if enabled:
        options.update({"server_side_binding": True, "prepare_threshold": 5})
    else:
        options.pop("server_side_binding", None)
        options.pop("prepare_threshold", None)
    connections.close_all()


def main() -> None:
    # Shared with the gunicorn started for the HTTP figure: it verifies the tokens issued here.
    os.environ.setdefault("STRONGROOM_JWT_SIGNING_KEYS", "bench1:" + base64.b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("STRONGROOM_AUDIT_SIGNING_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    server = setup_django(durable=True)
    print("ledger benchmark: PostgreSQL, durable commits (fsync, synchronous_commit on)", flush=True)
    service, hand = {}, {}
    for n in (1, 8):  # interleaved, so both see the same machine load
        service[n] = bench_service(n)
        hand[n] = bench_hand_sql(n, server.url)
        row(f"service / hand-written SQL, {n} thread(s)", f"{100 * service[n] / hand[n]:7.0f} %  (target >= 60 %)")
    _server_side_binding(True)
    for n in (1, 8):
        rate = bench_service(n)
        row(
            f"  with server-side binding + prepared statements, {n} thread(s)",
            f"{100 * rate / hand[n]:7.0f} % of hand SQL",
        )
    _server_side_binding(False)
    bench_audit_cost()
    bench_batches()
    bench_hot_account(8)
    bench_http_transfer()
    bench_balances()


if __name__ == "__main__":
    main()

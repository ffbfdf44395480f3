"""Vault throughput: tokenize/s and detokenize/s, single and in batches of 1000, per key provider; and the
latency of one tokenize over real HTTP.

    python -m bench vault

Durable PostgreSQL (fsync and synchronous_commit on, see bench/_django.py); every call is a real service
call with its transaction and audit row. Providers: `local` (software keyring) and `pkcs11` on SoftHSM2
(skipped with a note when softhsm2 is not installed). Figures are printed, never asserted.

HTTP: gunicorn (2 gthread workers, so the connection is kept alive; the sync worker closes every
connection) serves `config.wsgi` with the production settings (`config.settings.bench`) against the same
PostgreSQL; `POST /api/v1/vault/tokenize` is sent HTTP_CALLS times in sequence over one kept-alive
connection with http.client, each with its own Idempotency-Key and a new valid PAN. Target: p99 < 20 ms.
"""

import base64
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._django import percentile, row, setup_django, summary_ms, time_each

SINGLE = 300
BATCHES = 5
BATCH = 1000
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
HTTP_CALLS = 500
HTTP_WARMUP = 20
HTTP_TARGET_P99_MS = 20


def _pans(count: int, seed: int) -> list[str]:
    from common.logging import luhn_valid

    pans = []
    body = 400000000000000 + seed * 10_000_000
    while len(pans) < count:
        text = str(body)
        pans.append(next(text + d for d in "0123456789" if luhn_valid(text + d)))
        body += 1
    return pans


def _softhsm() -> dict | None:
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM).exists():
        return None
    base = Path(tempfile.mkdtemp(prefix="strongroom-softhsm-"))
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    pin = secrets.token_hex(8)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "bench", "--so-pin", secrets.token_hex(8), "--pin", pin],
        check=True,
        capture_output=True,
    )
    return {"pin": pin}


def _reset_vault() -> None:
    """Each provider starts from an empty vault (a KEK inventory belongs to one provider)."""
    from vault import keys
    from vault.models import Card, KeyVersion

    Card.objects.all().delete()
    KeyVersion.objects.all().delete()
    keys.reset_caches()


def _measure(provider: str, seed: int) -> None:
    from audit.context import Actor
    from tenants.models import Merchant
    from tenants.scoping import Tenant
    from vault.services import CardInput, card_detokenize, card_detokenize_batch, card_tokenize, card_tokenize_batch

    actor = Actor.system("bench")
    merchant = Merchant.objects.create(reference=f"bench-{provider}-{seed}", name="Bench")
    tenant = Tenant.for_merchant(merchant)
    print(f"\nprovider: {provider}", flush=True)

    singles = iter(_pans(SINGLE, seed))
    tokens: list[str] = []

    def one_tokenize() -> None:
        tokens.append(card_tokenize(tenant=tenant, actor=actor, number=next(singles), expiry="12/30").card.token)

    card_tokenize(tenant=tenant, actor=actor, number=_pans(1, seed + 50)[0], expiry="12/30")  # warm-up, key bootstrap
    samples = time_each(one_tokenize, SINGLE)
    row(f"tokenize, single ({SINGLE} calls)", f"{SINGLE / sum(samples):8.0f} cards/s   {summary_ms(samples)}")

    from vault import keys

    keys.reset_caches(provider=False)  # cold data-key cache: each detokenize costs one provider unwrap
    position = iter(tokens)
    samples = time_each(
        lambda: card_detokenize(tenant=tenant, actor=actor, token=next(position), reason="authorization"), SINGLE
    )
    row(
        f"detokenize, single ({SINGLE} calls, data keys cold)",
        f"{SINGLE / sum(samples):8.0f} cards/s   {summary_ms(samples)}",
    )

    batches = [[CardInput(number=p, expiry="12/30") for p in _pans(BATCH, seed + 1 + i)] for i in range(BATCHES)]
    made: list[list[str]] = []
    started = time.perf_counter()
    for batch in batches:
        made.append([r.card.token for r in card_tokenize_batch(tenant=tenant, actor=actor, cards=batch)])
    elapsed = time.perf_counter() - started
    row(f"tokenize, batches of {BATCH} ({BATCHES} batches, new cards)", f"{BATCHES * BATCH / elapsed:8.0f} cards/s")

    started = time.perf_counter()
    for batch in batches:
        card_tokenize_batch(tenant=tenant, actor=actor, cards=batch)
    elapsed = time.perf_counter() - started
    row(f"tokenize, batches of {BATCH} (all known: dedupe hits)", f"{BATCHES * BATCH / elapsed:8.0f} cards/s")

    keys.reset_caches(provider=False)
    started = time.perf_counter()
    for batch_tokens in made:
        results = card_detokenize_batch(tenant=tenant, actor=actor, tokens=batch_tokens, reason="chargeback_evidence")
        assert all(r.is_ok for r in results)
    elapsed = time.perf_counter() - started
    row(f"detokenize, batches of {BATCH} (data keys cold)", f"{BATCHES * BATCH / elapsed:8.0f} cards/s")


def _database_url_with_password() -> str:
    """The benchmark database, reached as a role with a random password: the deployment checks that
    `config.wsgi` runs before serving refuse an empty one (strongroom.E005)."""
    from django.conf import settings
    from django.db import connection

    password = secrets.token_hex(24)  # hex: safe to put in the statement and the URL as is
    db = settings.DATABASES["default"]
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER ROLE \"{db['USER']}\" PASSWORD '{password}'")
    return f"postgresql://{db['USER']}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _gunicorn(port: int, log: Path) -> subprocess.Popen:
    """gunicorn on config.wsgi with this process's environment: production settings, keys, the database."""
    from django.conf import settings

    command = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2",
               "-k", "gthread", "--threads", "2", "--keep-alive", "30"]  # fmt: skip
    environment = {**os.environ, "DATABASE_URL": _database_url_with_password()}
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=output, stderr=output)


class _Connection(http.client.HTTPConnection):
    """http.client sends the headers and the body in two writes; with Nagle's algorithm on, the body then
    waits for the server's delayed ACK of the headers (up to 40 ms on Linux). Real clients (urllib3, hence
    requests) set TCP_NODELAY, and so does this one (gunicorn sets it on its side)."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _wait_until_serving(port: int, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/live")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _measure_http(seed: int) -> None:
    from audit.context import Actor
    from common.api_auth import token_issue
    from common.api_clients import api_client_create
    from common.testing.servers import free_port
    from tenants.models import Merchant

    print("\nHTTP: POST /api/v1/vault/tokenize (provider local, gunicorn -w 2 -k gthread)", flush=True)
    merchant = Merchant.objects.create(reference=f"bench-http-{seed}", name="Bench HTTP")
    issued = api_client_create(name="bench", scopes=["vault:tokenize"], actor=Actor.system("bench"), merchant=merchant,
                               rate_per_second=1_000_000.0, burst=1_000_000)  # fmt: skip
    authorization = f"Bearer {token_issue(client=issued.client)['access_token']}"
    port, log = free_port(), Path(tempfile.mkdtemp(prefix="strongroom-gunicorn-")) / "gunicorn.log"
    server = _gunicorn(port, log)
    try:
        _wait_until_serving(port, server, log)
        connection = _Connection("127.0.0.1", port, timeout=10)
        pans = iter(_pans(HTTP_WARMUP + HTTP_CALLS, seed))
        connections = []

        def one_tokenize() -> None:
            body = json.dumps({"pan": next(pans), "expiry": "12/30", "cardholder": "Bench Card"})
            headers = {"Authorization": authorization, "Content-Type": "application/json",
                       "Idempotency-Key": secrets.token_hex(16)}  # fmt: skip
            connection.request("POST", "/api/v1/vault/tokenize", body, headers)
            response = connection.getresponse()
            answer = response.read()  # token metadata or an error envelope: never card data
            if response.status != 201:
                raise RuntimeError(f"tokenize answered {response.status}: {answer[:300]!r}")
            connections.append(connection.sock)

        time_each(one_tokenize, HTTP_WARMUP)  # the worker's first requests: imports, key bootstrap, connections
        connections.clear()
        samples = time_each(one_tokenize, HTTP_CALLS)
        connection.close()
        reused = "one kept-alive connection" if len({id(s) for s in connections}) == 1 else "connection NOT reused"
        p99 = percentile([s * 1000 for s in samples], 0.99)
        verdict = "meets" if p99 < HTTP_TARGET_P99_MS else "MISSES"
        row(f"tokenize over HTTP, sequential ({HTTP_CALLS} requests, {reused})",
            f"{HTTP_CALLS / sum(samples):8.0f} req/s     {summary_ms(samples)}")  # fmt: skip
        row(f"  target p99 < {HTTP_TARGET_P99_MS} ms", verdict)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    os.environ["STRONGROOM_VAULT_KEY_PROVIDER"] = "local"
    os.environ["STRONGROOM_VAULT_LOCAL_KEYRING"] = f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
    # Shared with the gunicorn workers (they inherit this environment): one token key, one audit key.
    os.environ["STRONGROOM_JWT_SIGNING_KEYS"] = f"bench:{base64.b64encode(secrets.token_bytes(32)).decode()}"
    os.environ["STRONGROOM_AUDIT_SIGNING_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    setup_django()
    from django.conf import settings
    from django.db import connection

    print(f"PostgreSQL {connection.pg_version // 10000} (durable commits), Python {sys.version.split()[0]}")
    _measure("local", 1)
    _measure_http(200)

    hsm = _softhsm()
    if hsm is None:
        print("\nprovider: pkcs11 — skipped: softhsm2 not installed")
        return
    settings.VAULT_KEY_PROVIDER = "pkcs11"
    settings.VAULT_PKCS11_MODULE = SOFTHSM
    settings.VAULT_PKCS11_TOKEN_LABEL = "bench"  # noqa: S105 - a token label
    settings.VAULT_PKCS11_PIN = hsm["pin"]
    _reset_vault()
    from audit.context import Actor
    from vault.services import key_rotate

    key_rotate(purpose="kek", actor=Actor.system("bench"))  # KEK v1 inside the HSM
    _measure("pkcs11 (SoftHSM2)", 100)


if __name__ == "__main__":
    main()

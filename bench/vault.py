"""Vault throughput: tokenize/s and detokenize/s, single and in batches of 1000, per key provider.

    python -m bench vault

Durable PostgreSQL (fsync and synchronous_commit on, see bench/_django.py); every call is a real service
call with its transaction and audit row. Providers: `local` (software keyring) and `pkcs11` on SoftHSM2
(skipped with a note when softhsm2 is not installed). Figures are printed, never asserted.
"""

import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._django import row, setup_django, summary_ms, time_each

SINGLE = 300
BATCHES = 5
BATCH = 1000
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


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


def main() -> None:
    os.environ["STRONGROOM_VAULT_KEY_PROVIDER"] = "local"
    os.environ["STRONGROOM_VAULT_LOCAL_KEYRING"] = f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
    setup_django()
    from django.conf import settings
    from django.db import connection

    print(f"PostgreSQL {connection.pg_version // 10000} (durable commits), Python {sys.version.split()[0]}")
    _measure("local", 1)

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

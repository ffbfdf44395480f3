"""Vault test fixtures: a fresh local keyring per test, tenants, actors, and a SoftHSM2 token per session."""

import base64
import os
import secrets
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.cache import caches

from audit.context import Actor
from tenants.models import Merchant
from tenants.scoping import Tenant
from tests.services_plugin import SERVICE_SKIP
from vault import keys

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def vault_settings(settings, tmp_path):  # noqa: ANN001, ANN201
    """Every test starts with the local provider, one KEK in a private keyring file, and empty caches."""
    keyring = tmp_path / "vault_keyring"
    keyring.write_text(f"1:{base64.b64encode(secrets.token_bytes(32)).decode()}\n")
    settings.VAULT_KEY_PROVIDER = "local"
    settings.VAULT_LOCAL_KEYRING = ""
    settings.VAULT_LOCAL_KEYRING_PATH = str(keyring)
    settings.VAULT_DEDUPE = True
    keys.reset_caches()
    caches["default"].clear()
    yield settings
    keys.reset_caches()
    caches["default"].clear()


@pytest.fixture
def merchant(db) -> Merchant:  # noqa: ANN001
    return Merchant.objects.create(reference="acme", name="Acme GmbH")


@pytest.fixture
def other_merchant(db) -> Merchant:  # noqa: ANN001
    return Merchant.objects.create(reference="globex", name="Globex Ltd")


@pytest.fixture
def tenant(merchant: Merchant) -> Tenant:
    return Tenant.for_merchant(merchant)


@pytest.fixture
def other_tenant(other_merchant: Merchant) -> Tenant:
    return Tenant.for_merchant(other_merchant)


@pytest.fixture
def actor() -> Actor:
    return Actor.system("tests")


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory) -> dict:  # noqa: ANN001
    """One SoftHSM2 token in a private directory for the session (the PKCS#11 library initialises once)."""
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        pytest.skip(f"{SERVICE_SKIP} softhsm2 not installed")
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    pin = secrets.token_hex(8)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "strongroom-test",
            "--so-pin",
            secrets.token_hex(8),
            "--pin",
            pin,
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    return {"module": SOFTHSM_MODULE, "label": "strongroom-test", "pin": pin}


@pytest.fixture
def pkcs11_settings(settings, softhsm_token):  # noqa: ANN001, ANN201
    settings.VAULT_KEY_PROVIDER = "pkcs11"
    settings.VAULT_PKCS11_MODULE = softhsm_token["module"]
    settings.VAULT_PKCS11_TOKEN_LABEL = softhsm_token["label"]
    settings.VAULT_PKCS11_PIN = softhsm_token["pin"]
    settings.VAULT_PKCS11_KEY_LABEL_PREFIX = f"test-{secrets.token_hex(6)}"  # each test its own KEK objects
    keys.reset_caches()
    return settings

"""Deployment checks of the vault: key material must exist in production (strongroom.E010)."""

from django.conf import settings
from django.core import checks

from vault.providers import PROVIDERS, ProviderError, build_provider

_HINTS = {
    "local": "Set STRONGROOM_VAULT_LOCAL_KEYRING_FILE to a mounted secret holding '1:<base64 of 32 random bytes>' "
    "(e.g. `python -c \"import base64,secrets; print('1:'+base64.b64encode(secrets.token_bytes(32)).decode())\"`), "
    "or STRONGROOM_VAULT_LOCAL_KEYRING_PATH to a writable keyring file; better, use an HSM "
    "(STRONGROOM_VAULT_KEY_PROVIDER=pkcs11) or AWS KMS (aws-kms).",
    "pkcs11": "Set STRONGROOM_VAULT_PKCS11_MODULE, STRONGROOM_VAULT_PKCS11_TOKEN_LABEL and "
    "STRONGROOM_VAULT_PKCS11_PIN(_FILE), then run `manage.py vault_rotate_kek` once to create KEK v1 in the HSM.",
    "aws-kms": "Set STRONGROOM_VAULT_KMS_REGION (and optionally STRONGROOM_VAULT_KMS_KEY_ID), give the service role "
    "kms:Encrypt/Decrypt/DescribeKey/CreateKey, then run `manage.py vault_rotate_kek` once.",
}


@checks.register(checks.Tags.security, deploy=True)
def check_vault_key_material(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    if settings.DEV_MODE:
        return []
    name = settings.VAULT_KEY_PROVIDER
    if name not in PROVIDERS:
        return [
            checks.Error(
                f"STRONGROOM_VAULT_KEY_PROVIDER={name!r} is not a vault key provider.",
                hint=f"Use one of: {', '.join(PROVIDERS)}.",
                id="strongroom.E010",
            )
        ]
    try:
        problem = build_provider(name).missing_configuration()
    except ProviderError as error:
        problem = str(error)
    messages: list[checks.CheckMessage] = []
    if problem:
        messages.append(
            checks.Error(
                f"The vault has no usable key material ({name}): {problem}.", hint=_HINTS[name], id="strongroom.E010"
            )
        )
    if name == "local":
        messages.append(
            checks.Warning(
                "The vault keeps its KEKs in software (local keyring) in production mode.",
                hint="PCI DSS 3.6.1.2: prefer an HSM (pkcs11) or KMS (aws-kms) for card data.",
                id="strongroom.W010",
            )
        )
    if settings.VAULT_CVV_TTL_SECONDS > 3600:
        messages.append(
            checks.Error(
                "CVVs may be held longer than one hour.", hint="Lower STRONGROOM_VAULT_CVV_TTL.", id="strongroom.E011"
            )
        )
    return messages

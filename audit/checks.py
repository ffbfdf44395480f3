from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_audit_signing_key(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    if settings.DEV_MODE or settings.AUDIT_SIGNING_KEY:
        return []
    return [
        checks.Error(
            "No audit signing key: audit checkpoints cannot be signed.",
            hint="Set STRONGROOM_AUDIT_SIGNING_KEY (or _FILE) to base64 of 32 random bytes, e.g. "
            "`python -c 'import base64,secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())'`.",
            id="strongroom.E006",
        )
    ]

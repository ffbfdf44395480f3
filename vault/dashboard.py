"""Admin home tile: key inventory at a glance; warns when a key is past its cryptoperiod or cards await rewrap."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from common.dashboard import Tile, register_tile
from vault import selectors
from vault.choices import KeyPurpose


@register_tile
def vault_keys_tile(request: HttpRequest) -> Tile | None:
    if not request.user.has_perm("vault.view_keyversion"):
        return None
    now = timezone.now()
    active = {row.purpose: row for row in selectors.key_inventory() if row.state == "active"}
    overdue = selectors.keys_past_cryptoperiod(now=now)
    per_kek = selectors.live_cards_per_kek_version()
    kek = active.get(KeyPurpose.KEK)
    stale = sum(n for version, n in per_kek.items() if kek is not None and version < kek.version)
    rows = []
    for purpose in KeyPurpose:
        row = active.get(purpose.value)
        if row is None:
            rows.append((purpose.label.split(" (")[0], "not created yet"))
            continue
        state = "PAST CRYPTOPERIOD" if row in overdue else f"until {row.cryptoperiod_ends_at:%Y-%m-%d}"
        rows.append((purpose.label.split(" (")[0], f"v{row.version} ({row.provider}), {state}"))
    rows.append(("Live cards per KEK version", ", ".join(f"v{v}: {n}" for v, n in sorted(per_kek.items())) or "none"))
    rows.append(("Cards awaiting rewrap", str(stale)))
    rows.append(("Min. decryption version", str(selectors.min_decryption_version() or "-")))
    return Tile(
        title="Vault keys",
        status="warning" if overdue or stale else "ok",
        link=reverse("admin:vault_keyversion_changelist"),
        rows=rows,
    )

"""Transaction templates: create versions (validated), activate/deactivate, and post through them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Max

from audit.context import Actor
from audit.services import audit_record
from ledger import template_engine
from ledger.errors import InvalidEntry, TemplateNotFound
from ledger.models import JournalEntry, TransactionTemplate
from ledger.retry import run_atomic
from ledger.services.entries import entry_post
from ledger.services.posting import Condition, LineSpec


def template_create(
    *,
    name: str,
    params: list[dict[str, str]],
    lines: list[dict[str, str]],
    actor: Actor,
    occurred_at: datetime,
    description: str = "",
) -> TransactionTemplate:
    """Validate and store the next version of template `name` (versions are never edited in place)."""
    template_engine.validate_template(params=params, lines=lines)

    def work() -> TransactionTemplate:
        latest = TransactionTemplate.objects.select_for_update().filter(name=name).aggregate(v=Max("version"))["v"]
        template = TransactionTemplate(
            name=name,
            version=(latest or 0) + 1,
            description=description,
            params=params,
            lines=lines,
            created_by_label=actor.label[:255],
        )
        template.full_clean()
        template.save(force_insert=True)
        audit_record(
            action="ledger.template.created",
            actor=actor,
            occurred_at=occurred_at,
            target=template,
            data={"name": name, "version": template.version, "params": params, "lines": lines},
        )
        return template

    return run_atomic(work)


def template_set_active(
    *, template: TransactionTemplate, is_active: bool, actor: Actor, occurred_at: datetime
) -> TransactionTemplate:
    """Switch a version on or off; `template_post` uses the newest active version."""

    def work() -> TransactionTemplate:
        TransactionTemplate.objects.filter(pk=template.pk).update(is_active=is_active)
        template.is_active = is_active
        audit_record(
            action="ledger.template.activated" if is_active else "ledger.template.deactivated",
            actor=actor,
            occurred_at=occurred_at,
            target=template,
            data={"name": template.name, "version": template.version},
        )
        return template

    return run_atomic(work)


def template_get(*, name: str, version: int | None = None) -> TransactionTemplate:
    templates = TransactionTemplate.objects.filter(name=name, is_active=True)
    if version is not None:
        templates = templates.filter(version=version)
    template = templates.order_by("-version").first()
    if template is None:
        raise TemplateNotFound(
            f"No active template {name!r}{f' version {version}' if version else ''}.", fields={"name": name}
        )
    return template


def template_post(
    *,
    name: str,
    params: Mapping[str, Any],
    actor: Actor,
    occurred_at: datetime,
    version: int | None = None,
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    conditions: Sequence[Condition] = (),
    idempotency_source: str = "",
    idempotency_key: str = "",
    pending: bool = False,
    timeout_at: datetime | None = None,
    group_id: Any = None,
) -> JournalEntry:
    """Post (or, with pending=True, hold) the entry a template renders for these params. How other
    apps move money: e.g. template_post(name="dispute_open_hold", params={"merchant": 12,
    "currency": "USD", "amount": 2500}, actor=…, occurred_at=…, idempotency_source="disputes",
    idempotency_key=f"dispute:{pk}:open")."""
    template = template_get(name=name, version=version)
    rendered = template_engine.render(params_spec=template.params, lines=template.lines, values=dict(params))
    if len(rendered) < 2:
        raise InvalidEntry(
            "The parameters leave nothing to post (all amounts are zero).", fields={"params": dict(params)}
        )
    return entry_post(
        lines=[LineSpec(side=line.side, amount=line.amount, address=line.address) for line in rendered],
        actor=actor,
        occurred_at=occurred_at,
        description=description or template.description,
        metadata={**(metadata or {}), "template_params": dict(params)},
        conditions=conditions,
        idempotency_source=idempotency_source,
        idempotency_key=idempotency_key,
        pending=pending,
        timeout_at=timeout_at,
        group_id=group_id,
        template_name=template.name,
        template_version=template.version,
    )


post_template = template_post  # the name the issue uses; template_post is the house-style name

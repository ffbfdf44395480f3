"""Vault services: tokenize, detokenize, shred, rotate, rewrap, retire.

Every service takes keyword-only arguments, the `tenant` it acts for and the acting `actor`, owns its
transaction and records its audit event in that transaction. Audit data holds tokens, ids, versions
and reasons, never a PAN, CVV or cardholder name.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.context import Actor
from audit.services import audit_record
from common.errors import DomainError
from tenants.scoping import Tenant, TenantKind
from vault import keys
from vault.choices import DetokenizeReason, KeyPurpose, KeyState
from vault.crypto.aead import IntegrityFailure, fingerprint, new_data_key, new_token, open_sealed, seal
from vault.errors import (
    BatchTooLarge,
    CardNotFound,
    CardShredded,
    CardUndecryptable,
    InvalidCard,
    InvalidDetokenizeReason,
    UnableToRetireKey,
    UnableToRotateKey,
    VaultUnavailable,
)
from vault.fields import (  # noqa: F401 - the field-encryption service pair is part of this API
    ENVELOPE_PREFIX,
    encrypted_fields,
    field_decrypt,
    field_encrypt,
)
from vault.models import TOKEN_REGEX, Card, KeyVersion
from vault.validation import ValidCard, card_bin, validate_card

logger = logging.getLogger(__name__)

__all__ = [
    "BatchItemResult",
    "CardInput",
    "DetokenizeItemResult",
    "DetokenizedCard",
    "RewrapReport",
    "TokenizeResult",
    "card_detokenize",
    "card_detokenize_batch",
    "card_shred",
    "card_tokenize",
    "card_tokenize_batch",
    "cards_rewrap",
    "field_decrypt",
    "field_encrypt",
    "key_cryptoperiod_remind",
    "key_rotate",
    "key_versions_retire",
    "vault_rewrap",
]

_TOKEN_PATTERN = re.compile(TOKEN_REGEX)
_DEDUPE_ATTEMPTS = 3


# --- results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardInput:
    """One card to tokenize. Sensitive fields stay out of repr (and so out of logs and tracebacks)."""

    number: Any = field(repr=False)
    expiry: Any
    cardholder: Any = field(default="", repr=False)
    cvv: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class TokenizeResult:
    card: Card
    created: bool


@dataclass(frozen=True)
class BatchItemResult:
    index: int
    card: Card | None = None
    created: bool = False
    error: DomainError | None = None

    @property
    def is_ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class DetokenizedCard:
    token: str
    brand: str
    exp_month: int
    exp_year: int
    pan: str = field(repr=False)
    cardholder: str = field(default="", repr=False)
    cvv: str | None = field(default=None, repr=False)


@dataclass
class RewrapReport:
    cards: int = 0
    subkeys: int = 0
    fields: int = 0
    batches: int = 0
    remaining: int = 0
    kek_version: int = 0
    fingerprint_version: int = 0


# --- envelope helpers -----------------------------------------------------------------------------------


def _card_aad(token: str, kek_version: int) -> bytes:
    return f"strongroom.vault/card|{token}|kek:{kek_version}".encode()


def _card_dek_context(token: str) -> bytes:
    return f"strongroom.vault/card-dek|{token}".encode()


def _seal_card(token: str, pan: str, cardholder: str) -> dict[str, Any]:
    """A new data key, the PAN and name sealed under it, the data key wrapped by the active KEK."""
    data_key = new_data_key()
    kek_version, wrapped = keys.wrap_data_key(data_key, _card_dek_context(token))
    payload = json.dumps({"v": 1, "pan": pan, "name": cardholder}, separators=(",", ":")).encode()
    nonce, ciphertext = seal(data_key, payload, _card_aad(token, kek_version))
    return {"ciphertext": ciphertext, "nonce": nonce, "wrapped_key": wrapped, "kek_version": kek_version}


def _open_card(card: Card) -> tuple[str, str]:
    """(pan, cardholder) of a live card; CardUndecryptable if anything does not authenticate."""
    data_key = keys.unwrap_data_key(card.kek_version, card.wrapped_key, _card_dek_context(card.token))
    try:
        payload = open_sealed(data_key, card.nonce, card.ciphertext, _card_aad(card.token, card.kek_version))
    except IntegrityFailure as error:
        raise CardUndecryptable() from error
    document = json.loads(payload)
    return document["pan"], document.get("name", "")


def _tenant_columns(tenant: Tenant) -> dict[str, Any]:
    if tenant.kind == TenantKind.MERCHANT:
        return {"merchant_id": tenant.merchant_id, "partner_id": None, "tenant_key": tenant.key}
    if tenant.kind == TenantKind.PARTNER:
        return {"merchant_id": None, "partner_id": tenant.partner_id, "tenant_key": tenant.key}
    return {"merchant_id": None, "partner_id": None, "tenant_key": "platform"}


@dataclass
class _Fingerprinter:
    """HMAC keys of every fingerprint version still in use, newest (active) first."""

    active_version: int
    keys_by_version: dict[int, bytes]

    @classmethod
    def load(cls) -> _Fingerprinter:
        active_version, active_key = keys.active_subkey(KeyPurpose.FINGERPRINT)
        by_version = {active_version: active_key}
        for number in keys.live_versions(KeyPurpose.FINGERPRINT):
            if number not in by_version:
                by_version[number] = keys.subkey(KeyPurpose.FINGERPRINT, number)
        return cls(active_version, by_version)

    def all(self, tenant_key: str, pan: str) -> dict[int, str]:
        return {
            number: fingerprint(key, tenant_key=tenant_key, pan=pan) for number, key in self.keys_by_version.items()
        }


def _duplicate_filter(tenant_key: str, fingerprints: list[dict[int, str]]) -> Q:
    condition = Q()
    by_version: dict[int, list[str]] = {}
    for entry in fingerprints:
        for number, value in entry.items():
            by_version.setdefault(number, []).append(value)
    for number, values in by_version.items():
        condition |= Q(fingerprint_version=number, fingerprint__in=values)
    return Q(tenant_key=tenant_key, shredded_at__isnull=True) & condition


def _lock(queryset: Any) -> Any:
    return queryset.select_for_update(of=("self",), no_key=True)


# --- CVV (PCI DSS 3.3): cache only, encrypted, read once -----------------------------------------------


def _cvv_cache_key(token: str) -> str:
    return f"vault:cvv:{token}"


def _cvv_aad(token: str, number: int) -> bytes:
    return f"strongroom.vault/cvv|{token}|v{number}".encode()


def _cvv_store(token: str, cvv: str) -> None:
    number, key = keys.active_subkey(KeyPurpose.CVV)
    nonce, sealed = seal(key, cvv.encode(), _cvv_aad(token, number))
    ttl = min(settings.VAULT_CVV_TTL_SECONDS, 3600)
    caches[settings.VAULT_CVV_CACHE_ALIAS].set(_cvv_cache_key(token), (number, nonce + sealed), timeout=ttl)


def _cvv_take(token: str) -> str | None:
    """The CVV if still held, deleted on this first read (only one concurrent reader wins the delete)."""
    cache = caches[settings.VAULT_CVV_CACHE_ALIAS]
    entry = cache.get(_cvv_cache_key(token))
    if entry is None or not cache.delete(_cvv_cache_key(token)):
        return None
    number, blob = entry
    try:
        key = keys.subkey(KeyPurpose.CVV, number)
        return open_sealed(key, blob[:12], blob[12:], _cvv_aad(token, number)).decode()
    except (IntegrityFailure, CardUndecryptable):
        logger.warning("vault: a held CVV did not decrypt and was discarded")
        return None


def _cvv_forget(token: str) -> None:
    caches[settings.VAULT_CVV_CACHE_ALIAS].delete(_cvv_cache_key(token))


# --- tokenize -------------------------------------------------------------------------------------------


def _today(now: datetime) -> Any:
    return timezone.localdate(now)


def _new_card(
    valid: ValidCard, tenant_columns: dict[str, Any], fingerprinter: _Fingerprinter, fp: str, now: datetime
) -> Card:
    token = new_token()
    return Card(
        token=token,
        **tenant_columns,
        **_seal_card(token, valid.pan, valid.cardholder),
        fingerprint=fp,
        fingerprint_version=fingerprinter.active_version,
        is_deduplicated=settings.VAULT_DEDUPE,
        brand=valid.brand,
        bin=card_bin(valid.pan),
        last4=valid.last4,
        exp_month=valid.exp_month,
        exp_year=valid.exp_year,
        created_at=now,
        updated_at=now,
    )


def _refresh_existing(card: Card, valid: ValidCard, fingerprinter: _Fingerprinter, fp: str, now: datetime) -> list[str]:
    """Bring a matched card up to date: newer expiry/name, newest fingerprint version. Returns changed fields."""
    changed: list[str] = []
    if (card.exp_month, card.exp_year) != (valid.exp_month, valid.exp_year):
        card.exp_month, card.exp_year = valid.exp_month, valid.exp_year
        changed += ["exp_month", "exp_year"]
    if valid.cardholder:
        _, stored_name = _open_card(card)
        if stored_name != valid.cardholder:
            for name, value in _seal_card(card.token, valid.pan, valid.cardholder).items():
                setattr(card, name, value)
            changed += ["ciphertext", "nonce", "wrapped_key", "kek_version"]
    if card.fingerprint_version != fingerprinter.active_version:
        card.fingerprint, card.fingerprint_version = fp, fingerprinter.active_version
        changed += ["fingerprint", "fingerprint_version"]
    if changed:
        card.updated_at = now
        changed.append("updated_at")
    return changed


def card_tokenize(
    *,
    tenant: Tenant,
    actor: Actor,
    number: str,
    expiry: str,
    cardholder: str = "",
    cvv: str | None = None,
    now: datetime | None = None,
) -> TokenizeResult:
    """Tokenize one card. With dedupe on, the same PAN for the same tenant returns the existing token.

    Expiry is 'MM/YY'. A CVV, if given, is held encrypted in the cache only, for the first detokenization.
    """
    now = now or timezone.now()
    valid = validate_card(number=number, expiry=expiry, cardholder=cardholder, cvv=cvv, today=_today(now))
    columns = _tenant_columns(tenant)
    fingerprinter = _Fingerprinter.load()
    fingerprints = fingerprinter.all(columns["tenant_key"], valid.pan)
    active_fp = fingerprints[fingerprinter.active_version]
    for attempt in range(_DEDUPE_ATTEMPTS):
        try:
            with transaction.atomic():
                existing = None
                if settings.VAULT_DEDUPE:
                    existing = (
                        _lock(Card.objects.filter(_duplicate_filter(columns["tenant_key"], [fingerprints])))
                        .order_by("pk")
                        .first()
                    )
                if existing is not None:
                    card, created = existing, False
                    changed = _refresh_existing(card, valid, fingerprinter, active_fp, now)
                    if changed:
                        card.save(update_fields=changed)
                else:
                    card, created, changed = _new_card(valid, columns, fingerprinter, active_fp, now), True, []
                    card.full_clean(validate_unique=False, validate_constraints=False)
                    card.save(force_insert=True)
                audit_record(
                    action="vault.card.tokenized",
                    actor=actor,
                    target=card,
                    tenant=tenant.key,
                    occurred_at=now,
                    data={
                        "card_token": card.token,
                        "created": created,
                        "updated_fields": sorted(set(changed) - {"updated_at"}),
                        "brand": card.brand,
                        "kek_version": card.kek_version,
                        "fingerprint_version": card.fingerprint_version,
                        "cvv_held": valid.cvv is not None,
                    },
                )
            break
        except IntegrityError:
            # A concurrent tokenization of the same PAN won the unique fingerprint: look again.
            if attempt == _DEDUPE_ATTEMPTS - 1:
                raise
    if valid.cvv is not None:
        _cvv_store(card.token, valid.cvv)
    return TokenizeResult(card=card, created=created)


def card_tokenize_batch(
    *, tenant: Tenant, actor: Actor, cards: Sequence[CardInput], now: datetime | None = None
) -> list[BatchItemResult]:
    """Tokenize up to VAULT_BATCH_MAX cards in one transaction; an invalid card fails only its own item.

    Results are in input order. The same PAN twice in one batch yields one token. One audit event lists
    the tokens created and matched and the indexes (with error codes) of rejected items.
    """
    if len(cards) > settings.VAULT_BATCH_MAX:
        raise BatchTooLarge(f"A batch holds at most {settings.VAULT_BATCH_MAX} cards.", fields={"cards": ["too_many"]})
    now = now or timezone.now()
    today = _today(now)
    results: dict[int, BatchItemResult] = {}
    valid_items: list[tuple[int, ValidCard]] = []
    for index, item in enumerate(cards):
        try:
            valid_items.append(
                (
                    index,
                    validate_card(
                        number=item.number, expiry=item.expiry, cardholder=item.cardholder, cvv=item.cvv, today=today
                    ),
                )
            )
        except InvalidCard as error:
            results[index] = BatchItemResult(index=index, error=error)

    columns = _tenant_columns(tenant)
    tenant_key = columns["tenant_key"]
    fingerprinter = _Fingerprinter.load() if valid_items else None
    prints = [fingerprinter.all(tenant_key, valid.pan) for _, valid in valid_items] if fingerprinter else []
    for attempt in range(_DEDUPE_ATTEMPTS):
        try:
            with transaction.atomic():
                item_results = _tokenize_batch_in_transaction(valid_items, prints, columns, fingerprinter, now)
                created = [r.card.token for r in item_results if r.created]
                matched = sorted({r.card.token for r in item_results if not r.created})
                rejected = [{"index": i, "code": r.error.code} for i, r in sorted(results.items())]
                audit_record(
                    action="vault.card.batch_tokenized",
                    actor=actor,
                    object_type="vault.card",
                    tenant=tenant.key,
                    occurred_at=now,
                    data={
                        "submitted": len(cards),
                        "created_tokens": created,
                        "matched_tokens": matched,
                        "rejected": rejected,
                        "kek_version": keys.active_version(KeyPurpose.KEK).version,
                        "fingerprint_version": fingerprinter.active_version if fingerprinter else None,
                    },
                )
            break
        except IntegrityError:
            if attempt == _DEDUPE_ATTEMPTS - 1:
                raise
    for result in item_results:
        results[result.index] = result
    for (_index, valid), result in zip(valid_items, item_results, strict=True):
        if valid.cvv is not None and result.card is not None:
            _cvv_store(result.card.token, valid.cvv)
    return [results[index] for index in range(len(cards))]


def _tokenize_batch_in_transaction(
    valid_items: list[tuple[int, ValidCard]],
    prints: list[dict[int, str]],
    columns: dict[str, Any],
    fingerprinter: _Fingerprinter | None,
    now: datetime,
) -> list[BatchItemResult]:
    if not valid_items or fingerprinter is None:
        return []
    active = fingerprinter.active_version
    existing: dict[tuple[int, str], Card] = {}
    if settings.VAULT_DEDUPE:
        for card in _lock(Card.objects.filter(_duplicate_filter(columns["tenant_key"], prints))).order_by("pk"):
            existing.setdefault((card.fingerprint_version, card.fingerprint), card)
    seen: dict[str, Card] = {}  # active fingerprint → card of this batch
    to_create: list[Card] = []
    to_update: dict[int, tuple[Card, set[str]]] = {}
    out: list[BatchItemResult] = []
    for (index, valid), entry in zip(valid_items, prints, strict=True):
        fp = entry[active]
        card = seen.get(fp) if settings.VAULT_DEDUPE else None
        created = False
        if card is None and settings.VAULT_DEDUPE:
            card = next((existing[(v, f)] for v, f in entry.items() if (v, f) in existing), None)
            if card is not None:
                changed = _refresh_existing(card, valid, fingerprinter, fp, now)
                if changed:
                    previous = to_update.get(card.pk, (card, set()))[1]
                    to_update[card.pk] = (card, previous | set(changed))
        if card is None:
            card, created = _new_card(valid, columns, fingerprinter, fp, now), True
            to_create.append(card)
        seen[fp] = card
        out.append(BatchItemResult(index=index, card=card, created=created))
    if to_create:
        Card.objects.bulk_create(to_create, batch_size=500)
    for card, changed in to_update.values():
        card.save(update_fields=sorted(changed))
    # The same new card may appear more than once in a batch: only its first item reports `created`.
    first_seen: set[int] = set()
    final = []
    for result in out:
        is_first = id(result.card) not in first_seen
        first_seen.add(id(result.card))
        final.append(BatchItemResult(index=result.index, card=result.card, created=result.created and is_first))
    return final


# --- detokenize -----------------------------------------------------------------------------------------


def _safe_token(token: object) -> str:
    return token if isinstance(token, str) and _TOKEN_PATTERN.match(token) else "[malformed]"


def card_detokenize(
    *,
    tenant: Tenant,
    actor: Actor,
    token: str,
    reason: str,
    reason_text: str = "",
    include_cvv: bool = False,
) -> DetokenizedCard:
    """Reveal a card's PAN, expiry, cardholder (and, once, its CVV) for a stated reason.

    Every call is audited, refusals included. A token of another tenant is reported exactly like an
    unknown one (`not_found`); a shredded card raises `card_shredded` (410).
    """
    reason_text = (reason_text or "").strip()
    base = {
        "card_token": _safe_token(token),
        "reason": reason if reason in DetokenizeReason.values else "[invalid]",
        "reason_text": reason_text[:200],
        "include_cvv": bool(include_cvv),
    }
    error: DomainError | None = None
    result: DetokenizedCard | None = None
    with transaction.atomic():
        card = None
        if reason not in DetokenizeReason.values:
            error = InvalidDetokenizeReason(
                f"The reason must be one of: {', '.join(DetokenizeReason.values)}.", fields={"reason": ["invalid"]}
            )
        elif reason == DetokenizeReason.OTHER and not reason_text:
            error = InvalidDetokenizeReason(
                "Reason 'other' needs an explanation.", fields={"reason_text": ["required"]}
            )
        elif len(reason_text) > 200:
            error = InvalidDetokenizeReason(
                "The explanation is limited to 200 characters.", fields={"reason_text": ["length"]}
            )
        else:
            card = Card.objects.for_tenant(tenant).filter(token=token).first() if isinstance(token, str) else None
            if card is None:
                error = CardNotFound()
            elif card.is_shredded:
                error = CardShredded()
        if error is None and card is not None:
            try:
                pan, cardholder = _open_card(card)
                cvv = _cvv_take(card.token) if include_cvv else None
                result = DetokenizedCard(
                    token=card.token,
                    brand=card.brand,
                    exp_month=card.exp_month,
                    exp_year=card.exp_year,
                    pan=pan,
                    cardholder=cardholder,
                    cvv=cvv,
                )
            except (CardUndecryptable, VaultUnavailable) as failure:
                error = failure
        audit_record(
            action="vault.card.detokenized" if error is None else "vault.card.detokenize_refused",
            actor=actor,
            target=card,
            object_type="vault.card" if card is None else "",
            tenant=tenant.key,
            data={
                **base,
                "outcome": "ok" if error is None else error.code,
                "cvv_returned": bool(result and result.cvv),
            },
        )
    if error is not None:
        raise error
    assert result is not None  # noqa: S101 - for the type checker
    return result


@dataclass(frozen=True)
class DetokenizeItemResult:
    index: int
    card: DetokenizedCard | None = None
    error: DomainError | None = None

    @property
    def is_ok(self) -> bool:
        return self.error is None


def card_detokenize_batch(
    *, tenant: Tenant, actor: Actor, tokens: Sequence[str], reason: str, reason_text: str = ""
) -> list[DetokenizeItemResult]:
    """Reveal up to VAULT_BATCH_MAX cards for one reason (no CVVs); per-item results in input order.

    Unknown, foreign and shredded tokens fail their own item only. One audit event lists every token
    asked for with its outcome; an invalid reason refuses (and audits) the whole batch.
    """
    if len(tokens) > settings.VAULT_BATCH_MAX:
        raise BatchTooLarge(
            f"A batch holds at most {settings.VAULT_BATCH_MAX} tokens.", fields={"tokens": ["too_many"]}
        )
    reason_text = (reason_text or "").strip()
    refusal: DomainError | None = None
    if reason not in DetokenizeReason.values:
        refusal = InvalidDetokenizeReason(
            f"The reason must be one of: {', '.join(DetokenizeReason.values)}.", fields={"reason": ["invalid"]}
        )
    elif (reason == DetokenizeReason.OTHER and not reason_text) or len(reason_text) > 200:
        refusal = InvalidDetokenizeReason(
            "Reason 'other' needs an explanation of at most 200 characters.", fields={"reason_text": ["required"]}
        )
    results: list[DetokenizeItemResult] = []
    with transaction.atomic():
        if refusal is None:
            wanted = [t for t in tokens if isinstance(t, str)]
            cards = {card.token: card for card in Card.objects.for_tenant(tenant).filter(token__in=wanted)}
            for index, token in enumerate(tokens):
                card = cards.get(token) if isinstance(token, str) else None
                try:
                    if card is None:
                        raise CardNotFound()
                    if card.is_shredded:
                        raise CardShredded()
                    pan, cardholder = _open_card(card)
                except (CardNotFound, CardShredded, CardUndecryptable, VaultUnavailable) as error:
                    results.append(DetokenizeItemResult(index=index, error=error))
                    continue
                revealed = DetokenizedCard(
                    token=card.token,
                    brand=card.brand,
                    exp_month=card.exp_month,
                    exp_year=card.exp_year,
                    pan=pan,
                    cardholder=cardholder,
                )
                results.append(DetokenizeItemResult(index=index, card=revealed))
        audit_record(
            action="vault.card.batch_detokenized" if refusal is None else "vault.card.detokenize_refused",
            actor=actor,
            object_type="vault.card",
            tenant=tenant.key,
            data={
                "reason": reason if reason in DetokenizeReason.values else "[invalid]",
                "reason_text": reason_text[:200],
                "outcome": "ok" if refusal is None else refusal.code,
                "revealed_tokens": [r.card.token for r in results if r.card is not None],
                "refused": [
                    {"card_token": _safe_token(tokens[r.index]), "code": r.error.code} for r in results if r.error
                ],
            },
        )
    if refusal is not None:
        raise refusal
    return results


# --- shred ----------------------------------------------------------------------------------------------


def card_shred(*, tenant: Tenant, actor: Actor, token: str, reason_text: str = "", now: datetime | None = None) -> Card:
    """Crypto-shred a card: its wrapped data key and ciphertext are destroyed, so the PAN is gone for good.

    Metadata (token, brand, BIN, last 4) remains for records. Shredding a shredded card changes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        card = _lock(Card.objects.for_tenant(tenant).filter(token=token)).first() if isinstance(token, str) else None
        if card is None:
            raise CardNotFound()
        if card.is_shredded:
            return card
        card.wrapped_key, card.ciphertext, card.nonce = None, b"", b""
        card.shredded_at = card.updated_at = now
        card.save(update_fields=["wrapped_key", "ciphertext", "nonce", "shredded_at", "updated_at"])
        audit_record(
            action="vault.card.shredded",
            actor=actor,
            target=card,
            tenant=tenant.key,
            occurred_at=now,
            data={"card_token": card.token, "reason_text": (reason_text or "")[:200]},
        )
    _cvv_forget(card.token)
    return card


# --- key lifecycle --------------------------------------------------------------------------------------


def key_rotate(*, purpose: str, actor: Actor, now: datetime | None = None) -> KeyVersion:
    """Create the next version of a key and make it the one new data uses; the previous one turns decrypt-only.

    For KEKs the provider creates the key (HSM object, KMS key, keyring entry). Run `vault_rewrap`
    afterwards, then `key_versions_retire` to raise the minimum decryption version.
    """
    if purpose not in KeyPurpose.values:
        raise UnableToRotateKey(f"Unknown key purpose {purpose!r}.", fields={"purpose": ["invalid"]})
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock(KeyVersion.objects.filter(purpose=purpose, state=KeyState.ACTIVE)).first()
        latest = (
            KeyVersion.objects.filter(purpose=purpose).order_by("-version").values_list("version", flat=True).first()
        )
        number = (latest or 0) + 1
        if purpose != KeyPurpose.KEK:
            keys.active_version(KeyPurpose.KEK)  # sub-keys are wrapped by the active KEK
        if current is not None:
            current.state, current.superseded_at = KeyState.DECRYPT_ONLY, now
            current.save(update_fields=["state", "superseded_at"])
        try:
            row = keys.create_version(purpose, number)
        except VaultUnavailable as error:
            raise UnableToRotateKey(str(error.message)) from error
        audit_record(
            action="vault.key.rotated",
            actor=actor,
            target=row,
            occurred_at=now,
            data={
                "purpose": purpose,
                "version": number,
                "previous_version": current.version if current else None,
                "provider": row.provider,
                "provider_ref": row.provider_ref,
            },
        )
        transaction.on_commit(keys.forget_metadata)
    keys.forget_metadata()
    return row


def _retirement_blockers(purpose: str, below: int, now: datetime) -> dict[str, int]:
    """What still needs a version below `below` of this key (empty: safe to retire)."""
    blockers: dict[str, int] = {}
    if purpose == KeyPurpose.KEK:
        cards = Card.objects.filter(shredded_at__isnull=True, kek_version__lt=below).count()
        subkeys = (
            KeyVersion.objects.exclude(purpose=KeyPurpose.KEK)
            .exclude(state=KeyState.RETIRED)
            .filter(wrapped_under_version__lt=below)
            .count()
        )
        values = sum(
            model._default_manager.filter(**{f"{name}__startswith": f"{ENVELOPE_PREFIX}{old}."}).count()
            for model, name in encrypted_fields()
            for old in range(1, below)
        )
        blockers = {"cards": cards, "sub_keys": subkeys, "encrypted_values": values}
    elif purpose == KeyPurpose.FINGERPRINT:
        blockers = {"cards": Card.objects.filter(shredded_at__isnull=True, fingerprint_version__lt=below).count()}
    elif purpose == KeyPurpose.CVV:
        horizon = now - timedelta(seconds=settings.VAULT_CVV_TTL_SECONDS)
        blockers = {
            "cvv_versions_superseded_within_ttl": KeyVersion.objects.filter(
                purpose=purpose, version__lt=below, superseded_at__gt=horizon
            ).count()
        }
    return {name: count for name, count in blockers.items() if count}


def key_versions_retire(
    *, purpose: str, min_version: int, actor: Actor, now: datetime | None = None
) -> list[KeyVersion]:
    """Raise the minimum decryption version: every version below `min_version` is retired and never used again.

    Refused while anything still needs an older version (run `vault_rewrap` first) or if it would retire the
    active version.
    """
    now = now or timezone.now()
    with transaction.atomic():
        active = _lock(KeyVersion.objects.filter(purpose=purpose, state=KeyState.ACTIVE)).first()
        if active is None or min_version > active.version:
            raise UnableToRetireKey(
                "The minimum decryption version cannot exceed the active version.", fields={"min_version": ["too_high"]}
            )
        rows = list(
            _lock(KeyVersion.objects.filter(purpose=purpose, version__lt=min_version))
            .exclude(state=KeyState.RETIRED)
            .order_by("pk")
        )
        blockers = _retirement_blockers(purpose, min_version, now)
        if blockers:
            detail = ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in blockers.items())
            raise UnableToRetireKey(
                f"Versions below {min_version} are still needed by {detail}; run `manage.py vault_rewrap` first.",
                fields={"min_version": ["in_use"]},
            )
        for row in rows:
            row.state, row.retired_at = KeyState.RETIRED, now
            row.save(update_fields=["state", "retired_at"])
        audit_record(
            action="vault.key.retired",
            actor=actor,
            object_type="vault.keyversion",
            occurred_at=now,
            data={"purpose": purpose, "min_version": min_version, "retired_versions": [r.version for r in rows]},
        )
        transaction.on_commit(keys.forget_metadata)
    keys.forget_metadata()
    return rows


# --- rewrap ---------------------------------------------------------------------------------------------


def cards_needing_rewrap() -> Any:
    kek = keys.active_version(KeyPurpose.KEK).version
    fp = keys.active_version(KeyPurpose.FINGERPRINT).version
    return Card.objects.filter(shredded_at__isnull=True).filter(Q(kek_version__lt=kek) | Q(fingerprint_version__lt=fp))


def _rewrap_card_batch(*, actor: Actor, batch_size: int) -> int:
    """One short transaction: lock up to `batch_size` stale cards (skipping locked ones), re-encrypt, commit."""
    fingerprinter = _Fingerprinter.load()
    kek = keys.active_version(KeyPurpose.KEK)
    with transaction.atomic():
        candidates = cards_needing_rewrap().order_by("pk")
        cards = list(candidates.select_for_update(of=("self",), no_key=True, skip_locked=True)[:batch_size])
        if not cards:
            return 0
        active_fp_key = fingerprinter.keys_by_version[fingerprinter.active_version]
        new_prints: dict[int, str] = {}
        for card in cards:
            pan, cardholder = _open_card(card)
            for name, value in _seal_card(card.token, pan, cardholder).items():
                setattr(card, name, value)
            if card.fingerprint_version != fingerprinter.active_version:
                new_prints[card.pk] = fingerprint(active_fp_key, tenant_key=card.tenant_key, pan=pan)
        # A live card already holding a new fingerprint (a race during rotation) keeps its twin as a separate token.
        taken = set(
            Card.objects.filter(
                shredded_at__isnull=True,
                is_deduplicated=True,
                fingerprint_version=fingerprinter.active_version,
                fingerprint__in=list(new_prints.values()),
            )
            .exclude(pk__in=[c.pk for c in cards])
            .values_list("tenant_key", "fingerprint")
        )
        for card in cards:
            if card.pk in new_prints:
                card.fingerprint, card.fingerprint_version = new_prints[card.pk], fingerprinter.active_version
                if (card.tenant_key, card.fingerprint) in taken:
                    card.is_deduplicated = False
        Card.objects.bulk_update(
            cards,
            [
                "ciphertext",
                "nonce",
                "wrapped_key",
                "kek_version",
                "fingerprint",
                "fingerprint_version",
                "is_deduplicated",
            ],
        )
        audit_record(
            action="vault.card.rewrapped",
            actor=actor,
            object_type="vault.card",
            data={
                "count": len(cards),
                "first_pk": cards[0].pk,
                "last_pk": cards[-1].pk,
                "kek_version": kek.version,
                "fingerprint_version": fingerprinter.active_version,
            },
        )
    return len(cards)


def cards_rewrap(
    *,
    actor: Actor,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    max_batches: int | None = None,
) -> RewrapReport:
    """Re-encrypt every live card under the active KEK and re-fingerprint it under the active fingerprint key.

    Batches of short transactions with `SKIP LOCKED`, so tokenize/detokenize/shred keep working; resumable
    (it always starts from what still needs work). Cards locked by others are retried a few times.
    """
    batch_size = batch_size or settings.VAULT_REWRAP_BATCH_SIZE
    report = RewrapReport(
        kek_version=keys.active_version(KeyPurpose.KEK).version,
        fingerprint_version=keys.active_version(KeyPurpose.FINGERPRINT).version,
    )
    idle_rounds = 0
    while max_batches is None or report.batches < max_batches:
        done = _rewrap_card_batch(actor=actor, batch_size=batch_size)
        if done:
            report.cards += done
            report.batches += 1
            idle_rounds = 0
            if progress is not None:
                progress(done)
            continue
        if not cards_needing_rewrap().exists() or idle_rounds >= 5:
            break
        idle_rounds += 1  # only locked rows are left: let their transactions finish
        time.sleep(0.2 * idle_rounds)
    report.remaining = cards_needing_rewrap().count()
    return report


def subkeys_rewrap(*, actor: Actor) -> int:
    """Re-wrap the stored fingerprint and CVV keys under the active KEK."""
    kek = keys.active_version(KeyPurpose.KEK)
    count = 0
    with transaction.atomic():
        rows = _lock(
            KeyVersion.objects.exclude(purpose=KeyPurpose.KEK)
            .exclude(state=KeyState.RETIRED)
            .filter(wrapped_under_version__lt=kek.version)
        ).order_by("pk")
        for row in rows:
            material = keys.subkey(row.purpose, row.version)
            row.wrapped_under_version, row.wrapped_material = keys.wrap_data_key(
                material, keys.subkey_context(row.purpose, row.version)
            )
            row.save(update_fields=["wrapped_under_version", "wrapped_material"])
            count += 1
        if count:
            audit_record(
                action="vault.key.subkeys_rewrapped", actor=actor, data={"count": count, "kek_version": kek.version}
            )
    return count


def encrypted_fields_rewrap(*, actor: Actor, batch_size: int = 500, models_: list[Any] | None = None) -> int:
    """Re-encrypt EncryptedTextField values stored under an older KEK (one short transaction per batch)."""
    kek = keys.active_version(KeyPurpose.KEK).version
    total = 0
    for model, name in encrypted_fields(models_):
        manager = model._default_manager
        stale = Q()
        for old in range(1, kek):
            stale |= Q(**{f"{name}__startswith": f"{ENVELOPE_PREFIX}{old}."})
        if kek == 1:
            continue
        while True:
            with transaction.atomic():
                rows = list(
                    manager.filter(stale)
                    .order_by("pk")
                    .select_for_update(skip_locked=True)
                    .values_list("pk", name)[:batch_size]
                )
                for pk, plaintext in rows:  # values are decrypted on read and re-encrypted by update()
                    manager.filter(pk=pk).update(**{name: plaintext})
                if rows:
                    audit_record(
                        action="vault.field.rewrapped",
                        actor=actor,
                        object_type=model._meta.label_lower,
                        data={"field": name, "count": len(rows), "kek_version": kek},
                    )
            total += len(rows)
            if len(rows) < batch_size:
                break
    return total


def vault_rewrap(
    *,
    actor: Actor,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    max_batches: int | None = None,
) -> RewrapReport:
    """Everything under an older KEK or fingerprint key moves to the active ones: sub-keys, cards, fields."""
    subkeys = subkeys_rewrap(actor=actor)
    report = cards_rewrap(actor=actor, batch_size=batch_size, progress=progress, max_batches=max_batches)
    report.subkeys = subkeys
    if max_batches is None:
        report.fields = encrypted_fields_rewrap(actor=actor, batch_size=batch_size or settings.VAULT_REWRAP_BATCH_SIZE)
    return report


# --- cryptoperiod reminders -------------------------------------------------------------------------------


def key_cryptoperiod_remind(*, now: datetime | None = None) -> int:
    """E-mail every key custodian (`vault.manage_keys`) about key versions past or near their cryptoperiod.

    Returns the number of custodians written to (0 when no key needs attention).
    """
    from django.contrib.auth import get_user_model

    now = now or timezone.now()
    horizon = now + timedelta(days=settings.VAULT_CRYPTOPERIOD_WARNING_DAYS)
    due = [
        row
        for row in KeyVersion.objects.filter(state=KeyState.ACTIVE).order_by("purpose", "version", "pk")
        if row.cryptoperiod_ends_at <= horizon
    ]
    if not due:
        return 0
    custodians = [
        user
        for user in get_user_model()
        .objects.with_perm(
            "vault.manage_keys", include_superusers=True, backend="django.contrib.auth.backends.ModelBackend"
        )
        .filter(is_active=True)
        .order_by("pk")
        if user.email
    ]
    lines = [
        f"- {row.get_purpose_display()} v{row.version}: cryptoperiod "
        f"{'ended' if row.cryptoperiod_ends_at <= now else 'ends'} {row.cryptoperiod_ends_at:%Y-%m-%d}"
        for row in due
    ]
    body = (
        "These vault keys are past or within "
        f"{settings.VAULT_CRYPTOPERIOD_WARNING_DAYS} days of their cryptoperiod (PCI DSS 3.7.4):\n\n"
        + "\n".join(lines)
        + "\n\nRotate with `manage.py vault_rotate_kek` (or the admin), then run `manage.py vault_rewrap`.\n"
    )
    if custodians:
        send_mail(
            subject="[Strongroom] Vault keys need rotation",
            message=body,
            from_email=None,
            recipient_list=[user.email for user in custodians],
        )
    with transaction.atomic():
        audit_record(
            action="vault.key.cryptoperiod_reminded",
            actor=Actor.system("vault.key_cryptoperiod_remind"),
            data={"keys": [f"{r.purpose}:v{r.version}" for r in due], "custodians": [u.pk for u in custodians]},
        )
    return len(custodians)

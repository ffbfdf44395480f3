"""`/api/v1/ledger/`: thin views over `ledger.services` and `ledger.selectors`.

Each view parses with an input serializer (which resolves accounts in the token's tenant and turns
decimal strings into minor units), makes one service or selector call, and renders with an output
serializer. Every POST takes an `Idempotency-Key` (`common.idempotency`): the services join the
decorator's transaction, so the stored response commits with the posting it reports.
Refusals are `DomainError`s rendered by the one exception handler; `presented()` only restates the
ledger's minor units and account pks of a refusal as decimal strings and account numbers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.schema import IDEMPOTENCY_KEY, api_schema
from common.api_auth import HasRequiredScope, IsPlatformClient, TenantScopedMixin, tenant_of
from common.idempotency import idempotent
from ledger import selectors, services
from ledger.api import serializers as s
from ledger.errors import (
    AccountNotActive,
    AccountNotFound,
    ConditionFailed,
    EntryNotFound,
    InsufficientFunds,
    UnbalancedEntry,
)
from ledger.models import Account, JournalEntry, JournalLine

SCOPES = {"GET": "ledger:read", "POST": "ledger:write"}


def ledger_schema(**kwargs: Any) -> Any:
    return api_schema("ledger", **kwargs)


def _source(request: Request) -> str:
    return f"api:{request.auth.client.client_id}"[:64]


def _key(request: Request) -> str:
    return request.headers.get("Idempotency-Key", "")


@contextlib.contextmanager
def presented() -> Iterator[None]:
    """Restate a refusal's minor units and account pks as decimal strings and account numbers."""
    try:
        yield
    except (InsufficientFunds, ConditionFailed, AccountNotActive) as error:
        account = Account.objects.filter(pk=error.fields.get("account")).only("account_number", "currency_code").first()
        if account is None:  # pragma: no cover - the engine names accounts it locked
            raise
        fields: dict[str, Any] = {"account_number": account.account_number}
        for name, value in error.fields.items():
            if name in ("available", "requested", "min_available"):
                fields[name] = s.decimal(value, account.currency_code)
            elif name != "account":
                fields[name] = value
        if isinstance(error, InsufficientFunds):
            template = "Account {account_number} has {available} available; the posting needs {requested}."
        elif isinstance(error, AccountNotActive):
            template = "Account {account_number} is {status} and refuses postings."
        elif "expected_version" in fields:
            template = "Account {account_number} is at version {version}, not {expected_version}; nothing was posted."
        else:
            template = "Account {account_number} has {available} available, less than {min_available}; nothing posted."
        message = template.format(**fields)
        raise type(error)(message, fields=fields) from None
    except UnbalancedEntry as error:
        imbalance = {code: s.decimal(net, code) for code, net in error.fields.get("imbalance", {}).items()}
        raise UnbalancedEntry(
            f"Debits minus credits per currency: {imbalance}; every currency must come to zero.",
            fields={"imbalance": imbalance},
        ) from None


def _entries_data(entries: list[JournalEntry]) -> list[dict[str, Any]]:
    """The entries rendered with their lines (two queries), in the given order."""
    lines = Prefetch("lines", queryset=JournalLine.objects.select_related("account").order_by("pk"))
    by_pk = {e.pk: e for e in JournalEntry.objects.filter(pk__in=[e.pk for e in entries]).prefetch_related(lines)}
    return s.EntrySerializer([by_pk[e.pk] for e in entries], many=True).data


def _entries_out(entries: list[JournalEntry]) -> Response:
    return Response(_entries_data(entries), status=status.HTTP_201_CREATED)


def _entry_out(entry: JournalEntry, code: int = status.HTTP_201_CREATED) -> Response:
    return Response(_entries_data([entry])[0], status=code)


class LedgerView(APIView):
    required_scopes = SCOPES

    def parse(self, serializer_class: type[serializers.Serializer], data: Any) -> serializers.Serializer:
        serializer = serializer_class(data=data, context={"tenant": tenant_of(self.request)})
        serializer.is_valid(raise_exception=True)
        return serializer


def scoped_entry(request: Request, entry_id: Any) -> str:
    """The entry if the tenant may act on it (every line on its own ad-hoc accounts); its currency."""
    tenant = tenant_of(request)
    rows = list(JournalLine.objects.filter(entry_id=entry_id).values_list("account_id", "currency_code"))
    if not rows:
        raise EntryNotFound(fields={"entry": str(entry_id)})
    if not tenant.is_platform:
        accounts = {account_id for account_id, _ in rows}
        own = Account.objects.for_tenant(tenant).filter(pk__in=accounts)
        if own.count() != len(accounts):
            raise EntryNotFound(fields={"entry": str(entry_id)})
        if own.exclude(role="").exists():
            raise PermissionDenied("Entries on chart accounts are handled by platform clients only.")
    return rows[0][1]


# --- Accounts ------------------------------------------------------------------------------------


def scoped_account(request: Request, number: str, accounts: Any = None) -> Account:
    """The account with this number if the token's tenant owns it (any for platform clients)."""
    if accounts is None:
        accounts = Account.objects.for_tenant(tenant_of(request))
    account = accounts.filter(account_number=number).first()
    if account is None:
        raise AccountNotFound(f"No ledger account {number!r}.", fields={"account_number": [number]})
    return account


class AccountView(TenantScopedMixin, generics.GenericAPIView):
    """An account in the tenant's scope, by number (`account_not_found` otherwise)."""

    required_scopes = SCOPES
    queryset = Account.objects.all()
    lookup_field = "account_number"

    def get_object(self) -> Account:
        return scoped_account(self.request, self.kwargs["account_number"], self.get_queryset())


class AccountCreateApi(LedgerView):
    @ledger_schema(
        operation_id="ledger_account_create",
        request=s.AccountCreateSerializer,
        responses={201: s.AccountSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        data = self.parse(s.AccountCreateSerializer, request.data).validated_data
        account = services.account_create(
            name=data["name"], type=data["account_type"], currency_code=data["currency_code"],
            owner_kind=data["owner_kind"], merchant=data["merchant"], partner=data["partner"],
            balance_rule=data["balance_rule"], account_number=data["account_number"], metadata=data["metadata"],
            actor=request.auth.actor, occurred_at=timezone.now(),
        )  # fmt: skip
        return Response(s.AccountSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetailApi(AccountView):
    serializer_class = s.AccountSerializer

    @ledger_schema(operation_id="ledger_account_retrieve")
    def get(self, request: Request, account_number: str) -> Response:
        return Response(s.AccountSerializer(self.get_object()).data)


class AccountBalanceApi(AccountView):
    serializer_class = s.BalanceSerializer

    @ledger_schema(operation_id="ledger_account_balance", parameters=[s.BalanceQuerySerializer])
    def get(self, request: Request, account_number: str) -> Response:
        query = s.BalanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account = self.get_object()
        as_of = query.validated_data.get("as_of")
        body: dict[str, Any] = {"account_number": account.account_number, "currency_code": account.currency_code}
        if as_of is None:
            now = s.BalanceView(account)
            body.update(as_of=None, posted=now.posted_balance, pending=now.pending_balance)
            body.update(available=now.available_balance, version=account.version)
        else:
            posted = selectors.account_balance_at(account=account, at=as_of)
            body.update(as_of=as_of, posted=posted, pending=None, available=None, version=None)
        for name in ("posted", "pending", "available"):
            if body[name] is not None:
                body[name] = s.decimal(body[name], account.currency_code)
        return Response(s.BalanceSerializer(body).data)


class AccountStatementApi(generics.ListAPIView):
    """Lines of the account in version order, each with the running posted balance (cursor-paginated)."""

    required_scopes = SCOPES
    serializer_class = s.StatementLineSerializer
    ordering = ("account_version",)
    ordering_fields = ["account_version"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return JournalLine.objects.none()
        query = s.StatementQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        account = scoped_account(self.request, self.kwargs["account_number"])
        return selectors.account_statement(account=account, **query.validated_data)

    @ledger_schema(operation_id="ledger_account_statement", parameters=[s.StatementQuerySerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class _OneSidedApi(AccountView):
    permission_classes = [HasRequiredScope, IsPlatformClient]
    service = staticmethod(services.account_credit)

    def post_one_sided(self, request: Request) -> Response:
        data = s.OneSidedSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = self.get_object()
        with presented():
            entry = type(self).service(
                account=account, amount=s.minor_units(data.validated_data["amount"], account.currency_code, "amount"),
                description=data.validated_data["description"], metadata=data.validated_data["metadata"],
                actor=request.auth.actor, occurred_at=timezone.now(),
                idempotency_source=_source(request), idempotency_key=_key(request),
            )  # fmt: skip
        return _entry_out(entry)


class AccountCreditApi(_OneSidedApi):
    serializer_class = s.OneSidedSerializer
    service = staticmethod(services.account_credit)

    @ledger_schema(
        operation_id="ledger_account_credit",
        description="Credit the account; the platform suspense account of its currency is debited. Platform only.",
        request=s.OneSidedSerializer,
        responses={201: s.EntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, account_number: str) -> Response:
        return self.post_one_sided(request)


class AccountDebitApi(_OneSidedApi):
    serializer_class = s.OneSidedSerializer
    service = staticmethod(services.account_debit)

    @ledger_schema(
        operation_id="ledger_account_debit",
        description="Debit the account; the platform suspense account of its currency is credited. Platform only.",
        request=s.OneSidedSerializer,
        responses={201: s.EntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, account_number: str) -> Response:
        return self.post_one_sided(request)


# --- Entries -------------------------------------------------------------------------------------


class EntryCreateApi(LedgerView):
    @ledger_schema(
        operation_id="ledger_entry_create",
        request=s.EntryCreateSerializer,
        responses={201: s.EntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        data = self.parse(s.EntryCreateSerializer, request.data).validated_data
        with presented():
            entry = services.entry_post(
                lines=data["lines"], conditions=data["conditions"], description=data["description"],
                metadata=data["metadata"], actor=request.auth.actor,
                occurred_at=data.get("effective_at") or timezone.now(),
                idempotency_source=_source(request), idempotency_key=_key(request),
            )  # fmt: skip
        return _entry_out(entry)


class EntryBatchApi(LedgerView):
    @ledger_schema(
        operation_id="ledger_entry_batch",
        description="Post every entry or none.",
        request=s.BatchCreateSerializer,
        responses={201: s.EntrySerializer(many=True)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        data = self.parse(s.BatchCreateSerializer, request.data).validated_data
        with presented():
            entries = services.entries_post_batch(
                entries=data["entries"], description=data["description"], actor=request.auth.actor,
                occurred_at=data.get("effective_at") or timezone.now(), idempotency_source=_source(request),
            )  # fmt: skip
        return _entries_out(entries)


class EntryReverseApi(LedgerView):
    @ledger_schema(
        operation_id="ledger_entry_reverse",
        request=s.ReverseSerializer,
        responses={201: s.EntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, entry_id: Any) -> Response:
        data = self.parse(s.ReverseSerializer, request.data).validated_data
        scoped_entry(request, entry_id)
        with presented():
            reversal = services.entry_reverse(
                entry=entry_id, reason=data["reason"], actor=request.auth.actor, occurred_at=timezone.now()
            )
        return _entry_out(reversal)


# --- Transfers -----------------------------------------------------------------------------------


class TransferCreateApi(LedgerView):
    @ledger_schema(
        operation_id="ledger_transfer_create",
        description="Debit from_account, credit to_account; with pending=true, a hold to post or void later.",
        request=s.TransferCreateSerializer,
        responses={201: s.EntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        parsed = self.parse(s.TransferCreateSerializer, request.data)
        data, now = parsed.validated_data, timezone.now()
        common = {
            "debit_account": data["from_account"], "credit_account": data["to_account"], "amount": data["amount"],
            "description": data["description"], "metadata": data["metadata"], "actor": request.auth.actor,
            "occurred_at": now, "idempotency_source": _source(request), "idempotency_key": _key(request),
        }  # fmt: skip
        with presented():
            if data["pending"]:
                entry = services.transfer_pend(timeout_at=parsed.timeout_at(now), **common)
            else:
                entry = services.transfer_create(**common)
        return _entry_out(entry)


class TransferPostApi(LedgerView):
    @ledger_schema(
        operation_id="ledger_transfer_post",
        description="Post a pending transfer, fully or partly; returns the posting entry.",
        request=s.TransferPostSerializer,
        responses={201: s.EntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, entry_id: Any) -> Response:
        data = self.parse(s.TransferPostSerializer, request.data).validated_data
        currency = scoped_entry(request, entry_id)
        amount = data.get("amount")
        with presented():
            posting = services.transfer_post(
                transfer=entry_id, amount=None if amount is None else s.minor_units(amount, currency, "amount"),
                actor=request.auth.actor, occurred_at=timezone.now(),
            )  # fmt: skip
        return _entry_out(posting)


class TransferVoidApi(LedgerView):
    @ledger_schema(
        operation_id="ledger_transfer_void",
        description="Release a pending transfer; returns the hold, now voided.",
        request=None,
        responses={200: s.EntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, entry_id: Any) -> Response:
        scoped_entry(request, entry_id)
        hold = services.transfer_void(transfer=entry_id, actor=request.auth.actor, occurred_at=timezone.now())
        return _entry_out(hold, status.HTTP_200_OK)


# --- Templates and the trial balance ---------------------------------------------------------------


class TemplatePostApi(LedgerView):
    permission_classes = [HasRequiredScope, IsPlatformClient]

    @ledger_schema(
        operation_id="ledger_template_post",
        description="Post the entry a transaction template renders for these parameters. Platform only.",
        request=s.TemplatePostSerializer,
        responses={201: s.EntrySerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, name: str) -> Response:
        data = self.parse(s.TemplatePostSerializer, request.data).validated_data
        template = services.template_get(name=name, version=data.get("version"))
        with presented():
            entry = services.template_post(
                name=name, version=template.version, params=s.template_params(template, data["params"]),
                description=data["description"], metadata=data["metadata"], actor=request.auth.actor,
                occurred_at=timezone.now(), idempotency_source=_source(request), idempotency_key=_key(request),
            )  # fmt: skip
        return _entry_out(entry)


class TrialBalanceApi(LedgerView):
    permission_classes = [HasRequiredScope, IsPlatformClient]

    @ledger_schema(
        operation_id="ledger_trial_balance",
        description="Posted debits and credits per currency and account type. Platform only.",
        parameters=[s.TrialBalanceQuerySerializer],
        responses={200: s.TrialBalanceSerializer},
    )
    def get(self, request: Request) -> Response:
        query = s.TrialBalanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data.get("currency")
        currencies = []
        for currency, rows in sorted(selectors.trial_balance().items()):
            if wanted and currency != wanted:
                continue
            debits, credits = sum(r.debits for r in rows), sum(r.credits for r in rows)
            currencies.append(
                SimpleNamespace(currency_code=currency, rows=rows, debits=debits, credits=credits, net=debits - credits)
            )
        return Response(s.TrialBalanceSerializer({"currencies": currencies}).data)

"""`/api/v1/credits/`: thin views over `credits.services` and `credits.selectors`.

Scopes `credits:read` (GET) and `credits:write` (POST); every POST takes an `Idempotency-Key`
(`common.idempotency`, whose transaction the services join). A merchant's client sees and acts on its
own wallets only (merchant wallets and its customers' wallets); any other wallet or reservation is
`wallet_not_found` / `reservation_not_found` (404) like an unknown one. Partner clients have no wallets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.schema import IDEMPOTENCY_KEY, api_schema
from common.api_auth import tenant_of
from common.idempotency import idempotent
from credits import selectors, services
from credits.api import serializers as s
from credits.errors import InsufficientCredits, WalletNotFound
from credits.models import CreditUnit, Wallet
from ledger.models import JournalLine
from tenants.models import Merchant
from tenants.scoping import Tenant, TenantKind

SCOPES = {"GET": "credits:read", "POST": "credits:write"}


def credits_schema(**kwargs: Any) -> Any:
    return api_schema("credits", **kwargs)


def post_schema(**kwargs: Any) -> Any:
    return credits_schema(parameters=[IDEMPOTENCY_KEY], **kwargs)


def _tenant(request: Request) -> Tenant:
    tenant = tenant_of(request)
    if tenant.kind == TenantKind.PARTNER:
        raise PermissionDenied("Credit wallets belong to merchants, their customers, or the platform.")
    return tenant


@contextlib.contextmanager
def presented(unit: CreditUnit) -> Iterator[None]:
    """Restate a refusal's minor units as decimal strings in the wallet's unit."""
    try:
        yield
    except InsufficientCredits as error:
        fields = {
            "wallet": error.fields.get("wallet"),
            "available": s.render(error.fields.get("available", 0), unit),
            "requested": s.render(error.fields.get("requested", 0), unit),
            "unit": unit.code,
        }
        raise InsufficientCredits(
            f"The wallet has {fields['available']} {unit.code} available; {fields['requested']} requested.",
            fields=fields,
        ) from None


class CreditsView(APIView):
    required_scopes = SCOPES

    def parse(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def wallet(self, pk: int) -> Wallet:
        return selectors.wallet_get(pk=pk, tenant=_tenant(self.request))


def _wallet_response(wallet: Wallet, code: int = status.HTTP_200_OK) -> Response:
    balance = selectors.wallet_balance(wallet=wallet)
    lots = list(selectors.wallet_lots(wallet=wallet))
    return Response(s.wallet_data(wallet, balance, lots), status=code)


# --- Wallets ---------------------------------------------------------------------------------------


class WalletCreateApi(CreditsView):
    serializer_class = s.WalletCreateSerializer

    @post_schema(
        operation_id="credits_wallet_create", request=s.WalletCreateSerializer, responses={201: s.WalletSerializer}
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        data = self.parse(s.WalletCreateSerializer)
        tenant = _tenant(request)
        kind, _, ref = data["owner_ref"].partition(":")
        merchant = None
        if kind == "merchant":
            merchant_id = int(ref)
            if not tenant.is_platform and merchant_id != tenant.merchant_id:
                raise PermissionDenied("A merchant's client opens wallets for itself and its customers only.")
            merchant = Merchant.objects.filter(pk=merchant_id).first()
            if merchant is None:
                raise WalletNotFound("No such merchant.", fields={"owner_ref": data["owner_ref"]})
            ref = ""
        else:
            merchant_id = tenant.merchant_id if not tenant.is_platform else data.get("merchant")
            if not tenant.is_platform and data.get("merchant") not in (None, tenant.merchant_id):
                raise PermissionDenied("A merchant's client opens wallets for its own customers only.")
            if merchant_id is not None:
                merchant = Merchant.objects.filter(pk=merchant_id).first()
                if merchant is None:
                    raise WalletNotFound("No such merchant.", fields={"merchant": merchant_id})
        wallet = services.wallet_create(
            unit=data["unit"], owner_kind=kind, merchant=merchant, customer_reference=ref,
            customer_email=data.get("customer_email", ""), actor=request.auth.actor, occurred_at=timezone.now(),
        )  # fmt: skip
        return _wallet_response(selectors.wallet_get(pk=wallet.pk), status.HTTP_201_CREATED)


class WalletDetailApi(CreditsView):
    @credits_schema(operation_id="credits_wallet_get", responses={200: s.WalletSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return _wallet_response(self.wallet(pk))


class WalletTransactionsApi(generics.ListAPIView):
    """The wallet's ledger statement (grants, consumptions, breakage), each line with the running total."""

    required_scopes = SCOPES
    serializer_class = s.TransactionSerializer
    ordering = ("account_version",)
    ordering_fields = ["account_version"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return JournalLine.objects.none()
        wallet = selectors.wallet_get(pk=self.kwargs["pk"], tenant=_tenant(self.request))
        self._unit = wallet.unit
        include_pending = self.request.query_params.get("include_pending") in ("1", "true")
        return selectors.wallet_transactions(wallet=wallet, include_pending=include_pending)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "unit": getattr(self, "_unit", None)}

    @credits_schema(
        operation_id="credits_wallet_transactions",
        parameters=[OpenApiParameter("include_pending", OpenApiTypes.BOOL, OpenApiParameter.QUERY)],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- Grants ---------------------------------------------------------------------------------------


class GrantCreateApi(CreditsView):
    serializer_class = s.GrantSerializer

    @post_schema(operation_id="credits_grant", request=s.GrantSerializer, responses={201: s.GrantOutSerializer})
    @idempotent()
    def post(self, request: Request) -> Response:
        data = self.parse(s.GrantSerializer)
        wallet = self.wallet(data["wallet"])
        lot = services.credit_grant(
            wallet=wallet, amount=s.to_minor(data["amount"], wallet.unit, "amount"), reason=data["reason"],
            expires_at=data.get("expires_at"), source="api", actor=request.auth.actor, occurred_at=timezone.now(),
        )  # fmt: skip
        return Response(s.lot_data(lot, wallet.unit), status=status.HTTP_201_CREATED)


class GrantBatchApi(CreditsView):
    serializer_class = s.GrantBatchSerializer

    @post_schema(
        operation_id="credits_grant_batch",
        description="All or nothing: a refusal names the grant (`fields.row`, 1-based) and grants none.",
        request=s.GrantBatchSerializer,
        responses={201: s.GrantBatchOutSerializer},
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        grants = self.parse(s.GrantBatchSerializer)["grants"]
        tenant = _tenant(request)
        wallets = {w.pk: w for w in selectors.wallets_list(tenant=tenant).filter(pk__in={g["wallet"] for g in grants})}
        specs = []
        for row, grant in enumerate(grants, 1):
            wallet = wallets.get(grant["wallet"])
            if wallet is None:
                raise WalletNotFound(f"Row {row}: no wallet {grant['wallet']}.", fields={"row": row})
            specs.append(
                services.GrantSpec(
                    wallet_id=wallet.pk, amount=s.to_minor(grant["amount"], wallet.unit, f"grants[{row - 1}].amount"),
                    reason=grant["reason"], expires_at=grant.get("expires_at"),
                )
            )  # fmt: skip
        lots = services.credit_grants_batch(
            grants=specs, source="api", actor=request.auth.actor, occurred_at=timezone.now()
        )
        return Response(
            {"lots": [s.lot_data(lot, wallets[lot.wallet_id].unit) for lot in lots]}, status=status.HTTP_201_CREATED
        )


# --- Consumption ------------------------------------------------------------------------------------


class ConsumeApi(CreditsView):
    serializer_class = s.ConsumeSerializer

    @post_schema(
        operation_id="credits_consume",
        description="Takes from the lots expiring first, then the oldest. 422 `insufficient_credits` when short.",
        request=s.ConsumeSerializer,
        responses={201: s.ConsumptionSerializer},
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        data = self.parse(s.ConsumeSerializer)
        wallet = self.wallet(data["wallet"])
        with presented(wallet.unit):
            consumption = services.credit_consume(
                wallet=wallet, amount=s.to_minor(data["amount"], wallet.unit, "amount"), reference=data["reference"],
                actor=request.auth.actor, occurred_at=timezone.now(),
            )  # fmt: skip
        return Response(s.consumption_data(consumption, wallet.unit), status=status.HTTP_201_CREATED)


# --- Reservations -------------------------------------------------------------------------------------


class ReservationCreateApi(CreditsView):
    serializer_class = s.ReservationCreateSerializer

    @post_schema(
        operation_id="credits_reservation_create",
        request=s.ReservationCreateSerializer,
        responses={201: s.ReservationSerializer},
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        data = self.parse(s.ReservationCreateSerializer)
        wallet = self.wallet(data["wallet"])
        with presented(wallet.unit):
            reservation = services.reservation_create(
                wallet=wallet, amount=s.to_minor(data["amount"], wallet.unit, "amount"),
                ttl_seconds=data["ttl_seconds"], reference=data["reference"], actor=request.auth.actor,
                occurred_at=timezone.now(),
            )  # fmt: skip
        return Response(s.reservation_data(reservation, wallet.unit), status=status.HTTP_201_CREATED)


class ReservationDetailApi(CreditsView):
    @credits_schema(operation_id="credits_reservation_get", responses={200: s.ReservationSerializer})
    def get(self, request: Request, pk: Any) -> Response:
        reservation = selectors.reservation_get(pk=pk, tenant=_tenant(request))
        return Response(s.reservation_data(reservation, reservation.wallet.unit))


class ReservationCommitApi(CreditsView):
    serializer_class = s.ReservationCommitSerializer

    @post_schema(
        operation_id="credits_reservation_commit",
        description="Commit all, or `amount` of, a pending reservation; once. 409 `reservation_not_pending`.",
        request=s.ReservationCommitSerializer,
        responses={200: s.ReservationSerializer},
    )
    @idempotent()
    def post(self, request: Request, pk: Any) -> Response:
        data = self.parse(s.ReservationCommitSerializer)
        reservation = selectors.reservation_get(pk=pk, tenant=_tenant(request))
        unit = reservation.wallet.unit
        amount = s.to_minor(data["amount"], unit, "amount") if data.get("amount") else None
        resolved = services.reservation_commit(
            reservation=reservation, amount=amount, actor=request.auth.actor, occurred_at=timezone.now()
        )
        return Response(s.reservation_data(resolved, unit))


class ReservationReleaseApi(CreditsView):
    @post_schema(
        operation_id="credits_reservation_release",
        description="Release a pending reservation; once. 409 `reservation_not_pending`.",
        request=None,
        responses={200: s.ReservationSerializer},
    )
    @idempotent()
    def post(self, request: Request, pk: Any) -> Response:
        reservation = selectors.reservation_get(pk=pk, tenant=_tenant(request))
        resolved = services.reservation_release(
            reservation=reservation, actor=request.auth.actor, occurred_at=timezone.now(), reason="api"
        )
        return Response(s.reservation_data(resolved, reservation.wallet.unit))

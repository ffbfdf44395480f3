"""`/api/v1/reserves/`: approvals (create, list, detail, sign, revoke) and a merchant's reserve figures.

The signing partner comes from the token only (a partner client's tenant); on PostgreSQL partner
reads and writes run with `strongroom.partner_id` set, so row-level security applies under the
queryset filters.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import generics, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.schema import IDEMPOTENCY_KEY, api_schema
from common.api_auth import HasRequiredScope, tenant_of
from common.idempotency import idempotent
from common.money import to_decimal_string
from reserves import selectors, services
from reserves.api import serializers as s
from reserves.models import ApprovalRequest
from reserves.principals import principal_for_client
from reserves.rls import partner_context
from reserves.services.errors import ApprovalNotFound, MerchantNotFound
from tenants.models import Merchant


def reserves_schema(**kwargs: Any) -> Any:
    return api_schema("reserves", **kwargs)


class IsPartnerClient(BasePermission):
    message = "Only partner clients sign; the partner comes from the token."

    def has_permission(self, request: Request, view: Any) -> bool:
        return tenant_of(request).kind == "partner"


def _partner_id(request: Request) -> int | None:
    tenant = tenant_of(request)
    return tenant.partner_id if tenant.kind == "partner" else None


def _approval_out(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    with partner_context(_partner_id(request)):
        approval = selectors.approvals_for_tenant(tenant=tenant_of(request)).filter(pk=pk).first()
        if approval is None:
            raise ApprovalNotFound(fields={"approval": pk})
        return Response(s.ApprovalSerializer(approval).data, status=code)


class ApprovalListCreateApi(generics.ListAPIView):
    required_scopes = {"GET": "reserves:read", "POST": "reserves:write"}
    serializer_class = s.ApprovalSerializer
    ordering = ("-pk",)
    ordering_fields = ["pk"]
    filterset_fields = ["status", "action", "merchant"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ApprovalRequest.objects.none()
        return selectors.approvals_for_tenant(tenant=tenant_of(self.request))

    @reserves_schema(operation_id="reserves_approval_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with partner_context(_partner_id(request)):
            return super().get(request, *args, **kwargs)

    @reserves_schema(
        operation_id="reserves_approval_create",
        description="Platform clients only. 429 approval_rate_limited when an identical request is open or the "
        "client made its hourly quota.",
        request=s.ApprovalCreateSerializer, responses={201: s.ApprovalSerializer}, parameters=[IDEMPOTENCY_KEY],
    )  # fmt: skip
    @idempotent()
    def post(self, request: Request) -> Response:
        data = s.ApprovalCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approval = services.approval_request_create(
            action=data.validated_data["action"], merchant=data.validated_data.get("merchant_id"),
            payload=data.validated_data["payload"], principal=principal_for_client(request.auth.client),
            actor=request.auth.actor, now=timezone.now(),
        )  # fmt: skip
        return _approval_out(request, approval.pk, status.HTTP_201_CREATED)


class ApprovalDetailApi(generics.GenericAPIView):
    required_scopes = {"GET": "reserves:read"}
    serializer_class = s.ApprovalSerializer

    @reserves_schema(operation_id="reserves_approval_retrieve")
    def get(self, request: Request, approval_id: int) -> Response:
        return _approval_out(request, approval_id)


class ApprovalSignApi(generics.GenericAPIView):
    required_scopes = {"POST": "reserves:approve"}
    permission_classes = [HasRequiredScope, IsPartnerClient]
    serializer_class = s.ApprovalSignSerializer

    @reserves_schema(
        operation_id="reserves_approval_sign",
        description="Approve or reject for the token's partner. 409 payload_hash_mismatch, 410 approval_expired, "
        "403 self_approval_refused / not_eligible_to_sign, 409 already_signed.",
        request=s.ApprovalSignSerializer, responses={200: s.ApprovalSerializer}, parameters=[IDEMPOTENCY_KEY],
    )  # fmt: skip
    @idempotent()
    def post(self, request: Request, approval_id: int) -> Response:
        data = s.ApprovalSignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.approval_sign(
            approval_id=approval_id, principal=principal_for_client(request.auth.client),
            payload_hash=data.validated_data["payload_hash"], decision=data.validated_data["decision"],
            comment=data.validated_data["comment"], actor=request.auth.actor, now=timezone.now(),
        )  # fmt: skip
        return _approval_out(request, approval_id)


class ApprovalRevokeApi(generics.GenericAPIView):
    required_scopes = {"POST": "reserves:approve"}
    permission_classes = [HasRequiredScope, IsPartnerClient]
    serializer_class = s.ApprovalSerializer

    @reserves_schema(operation_id="reserves_approval_revoke", request=None, responses={200: s.ApprovalSerializer},
                     parameters=[IDEMPOTENCY_KEY])  # fmt: skip
    @idempotent()
    def post(self, request: Request, approval_id: int) -> Response:
        services.approval_revoke(approval_id=approval_id, principal=principal_for_client(request.auth.client),
                                 actor=request.auth.actor, now=timezone.now())  # fmt: skip
        return _approval_out(request, approval_id)


class MerchantReserveApi(generics.GenericAPIView):
    required_scopes = {"GET": "reserves:read"}
    serializer_class = s.MerchantReserveSerializer

    @reserves_schema(operation_id="reserves_merchant_retrieve")
    def get(self, request: Request, merchant_id: int) -> Response:
        tenant = tenant_of(request)
        merchants = Merchant.objects.filter(pk=merchant_id)
        if tenant.kind == "partner":
            merchants = merchants.filter(partners__pk=tenant.partner_id)
        elif tenant.kind == "merchant":
            merchants = merchants.filter(pk=tenant.merchant_id)
        if not merchants.exists():
            raise MerchantNotFound(fields={"merchant_id": merchant_id})
        figures = selectors.reserve_figures(merchant_id=merchant_id, on=timezone.now().date())
        currency = figures.currency_code

        def money(value: int) -> str:
            return to_decimal_string(value, currency) if currency else "0"

        body = {"merchant_id": merchant_id, "currency_code": currency, "policy": figures.policy,
                "required": money(figures.required), "held": money(figures.held),
                "releasable": money(figures.releasable)}  # fmt: skip
        return Response(s.MerchantReserveSerializer(body).data)

"""`/api/v1/disputes`: thin views over `disputes.services` and `disputes.selectors`.

Who may do what:
- platform clients (the acquirer integration) open disputes, submit, accept, resolve and escalate;
- a merchant's client reads its own disputes and adds evidence to them (a partner's client reads the
  disputes of the merchants it serves);
- submit and accept are maker-checker: a call records a request for a compliance lead (202,
  `result: pending_approval`) unless the platform client holds `disputes:submit` (automation), which
  acts directly and is audited as such.
Another tenant's dispute answers 404 like an unknown one. Every POST takes an `Idempotency-Key`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from common.api.schema import IDEMPOTENCY_KEY, api_schema
from common.api_auth import HasRequiredScope, IsPlatformClient, TenantScopedMixin, tenant_of
from common.idempotency import idempotent
from common.parsers import StrictJSONParser
from disputes import services
from disputes.api import serializers as s
from disputes.choices import ActionKind
from disputes.evidence import EvidenceTooLarge
from disputes.models import Dispute

READ, WRITE, AUTOMATION = "disputes:read", "disputes:write", "disputes:submit"
SCOPES = {"GET": READ, "POST": WRITE}
# Multipart framing around an evidence file; a body larger than the file limit plus this is refused unread.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def disputes_schema(**kwargs: Any) -> Any:
    return api_schema("disputes", **kwargs)


class IsPlatformOrMerchantClient(BasePermission):
    message = "Only the platform or the dispute's merchant may add evidence."

    def has_permission(self, request: Request, view: Any) -> bool:
        tenant = tenant_of(request)
        return tenant.is_platform or tenant.merchant_id is not None


def _queryset() -> QuerySet[Dispute]:
    return Dispute.objects.select_related("reason_code", "assignee")


class DisputeView(TenantScopedMixin, generics.GenericAPIView):
    """A dispute in the token tenant's scope, by id (404 otherwise)."""

    required_scopes = SCOPES
    serializer_class = s.DisputeDetailSerializer

    def get_queryset(self) -> QuerySet[Dispute]:
        self.queryset = _queryset()
        return super().get_queryset()

    def get_object(self) -> Dispute:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def answer(self, dispute: Dispute, code: int = status.HTTP_200_OK) -> Response:
        return _answer(dispute, code)


def _answer(dispute: Dispute, code: int = status.HTTP_200_OK) -> Response:
    """The dispute as it is now (re-read: services return the row they locked, not its joins)."""
    return Response(s.DisputeDetailSerializer(_queryset().get(pk=dispute.pk)).data, status=code)


class DisputeListCreateApi(TenantScopedMixin, generics.ListAPIView):
    required_scopes = SCOPES
    serializer_class = s.DisputeSerializer
    ordering = ("due_by",)
    ordering_fields = ["due_by", "opened_at", "amount", "id"]

    def get_queryset(self) -> QuerySet[Dispute]:
        self.queryset = _queryset()
        disputes = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return disputes
        query = s.DisputeListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        if "status" in filters:
            disputes = disputes.filter(status=filters["status"])
        if "network" in filters:
            disputes = disputes.filter(network=filters["network"])
        if "merchant" in filters:
            disputes = disputes.filter(merchant_id=filters["merchant"])
        if "due_before" in filters:
            disputes = disputes.filter(due_by__lt=filters["due_before"])
        return disputes

    @disputes_schema(operation_id="disputes_list", parameters=[s.DisputeListQuerySerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @disputes_schema(
        operation_id="disputes_open",
        description="Record a dispute the network sent (platform clients). From the chargeback stage on, the "
        "disputed amount is held from the merchant's balance and the network's fee charged.",
        request=s.DisputeOpenSerializer,
        responses={201: s.DisputeDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        if not tenant_of(request).is_platform:
            self.permission_denied(request, message=IsPlatformClient.message)
        data = s.DisputeOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_open(**data.validated_data, actor=request.auth.actor)
        return _answer(dispute, status.HTTP_201_CREATED)


class DisputeDetailApi(DisputeView):
    @disputes_schema(operation_id="disputes_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return self.answer(self.get_object())


class DisputeEvidenceApi(DisputeView):
    permission_classes = [HasRequiredScope, IsPlatformOrMerchantClient]
    parser_classes = [MultiPartParser, FormParser, StrictJSONParser]

    @disputes_schema(
        operation_id="disputes_evidence_add",
        description="Add one piece of evidence: a file (PDF, PNG, JPEG by content; size limit in settings) or "
        "text, of a typed kind. Refused once the response is submitted.",
        request={"multipart/form-data": s.EvidenceUploadSerializer, "application/json": s.EvidenceUploadSerializer},
        responses={201: s.EvidenceSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request, pk: int) -> Response:
        # Refuse an oversized body before the parser spools it (the service re-checks the file itself).
        limit = settings.DISPUTES_EVIDENCE_MAX_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + MULTIPART_OVERHEAD_BYTES:
            raise EvidenceTooLarge(fields={"max_bytes": limit})
        return self._add(request, pk)

    @idempotent()
    def _add(self, request: Request, pk: int) -> Response:
        dispute = self.get_object()
        data = s.EvidenceUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.dispute_evidence_add(
            dispute=dispute, kind=data.validated_data["kind"], upload=data.validated_data.get("file"),
            text=data.validated_data["text"], actor=request.auth.actor, occurred_at=timezone.now(),
        )  # fmt: skip
        return Response(s.EvidenceSerializer(item).data, status=status.HTTP_201_CREATED)


class _MakerCheckerApi(DisputeView):
    """submit / accept: a request for a compliance lead, or (with `disputes:submit`) the action itself."""

    permission_classes = [HasRequiredScope, IsPlatformClient]
    action_kind = ActionKind.SUBMIT
    done = "submitted"

    def act(self, request: Request, pk: int) -> Response:
        data = s.NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = self.get_object()
        actor, now = request.auth.actor, timezone.now()
        if AUTOMATION in request.auth.scopes:
            direct = services.dispute_submit if self.action_kind == ActionKind.SUBMIT else services.dispute_accept
            dispute = direct(dispute=dispute, actor=actor, occurred_at=now, acting_directly=True)
            result, code = self.done, status.HTTP_200_OK
        else:
            services.dispute_action_request_create(
                dispute=dispute, action=self.action_kind, requested_by_client=request.auth.client,
                actor=actor, occurred_at=now, note=data.validated_data["note"],
            )  # fmt: skip
            result, code = "pending_approval", status.HTTP_202_ACCEPTED
        fresh = _queryset().get(pk=dispute.pk)
        return Response(s.ActionResultSerializer(fresh, context={"result": result}).data, status=code)


_ACTION_DOC = (
    "Maker-checker: records a request that a compliance lead approves in the admin (202, `result: "
    "pending_approval`, the status stays). A platform client holding `disputes:submit` (automation) acts "
    "directly (200)."
)


class DisputeSubmitApi(_MakerCheckerApi):
    action_kind, done = ActionKind.SUBMIT, "submitted"

    @disputes_schema(
        operation_id="disputes_submit",
        description="Submit the response: freezes the evidence, moves to under_review and renders the PDF "
        "rebuttal letter. " + _ACTION_DOC,
        request=s.NoteSerializer,
        responses={200: s.ActionResultSerializer, 202: s.ActionResultSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk)


class DisputeAcceptApi(_MakerCheckerApi):
    action_kind, done = ActionKind.ACCEPT, "accepted"

    @disputes_schema(
        operation_id="disputes_accept",
        description="Accept the loss: held funds go to issuer settlement. " + _ACTION_DOC,
        request=s.NoteSerializer,
        responses={200: s.ActionResultSerializer, 202: s.ActionResultSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk)


class DisputeResolveApi(DisputeView):
    permission_classes = [HasRequiredScope, IsPlatformClient]

    @disputes_schema(
        operation_id="disputes_resolve",
        description="Record the network's decision: won releases the hold, lost moves it to issuer settlement.",
        request=s.ResolveSerializer,
        responses={200: s.DisputeDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, pk: int) -> Response:
        data = s.ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_resolve(
            dispute=self.get_object(), outcome=data.validated_data["outcome"], reason=data.validated_data["reason"],
            actor=request.auth.actor, occurred_at=timezone.now(),
        )  # fmt: skip
        return self.answer(dispute)


class DisputeEscalateApi(DisputeView):
    permission_classes = [HasRequiredScope, IsPlatformClient]

    @disputes_schema(
        operation_id="disputes_escalate",
        description="The issuer escalates: the next stage the reason code has, with new deadlines.",
        request=s.ReasonSerializer,
        responses={200: s.DisputeDetailSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent()
    def post(self, request: Request, pk: int) -> Response:
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = services.dispute_escalate(
            dispute=self.get_object(), reason=data.validated_data["reason"],
            actor=request.auth.actor, occurred_at=timezone.now(),
        )  # fmt: skip
        return self.answer(dispute)

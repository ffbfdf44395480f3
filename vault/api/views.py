"""`/api/v1/vault/`: tokenize (single, batch), detokenize, card metadata and crypto-shredding.

Thin views: a request serializer, one service (or selector) call, a response serializer. Tenant and actor
come only from the verified token (`request.auth`). Nothing here logs a request body.

Every vault response carries `Cache-Control: no-store`. Detokenize has its own, stricter rate limit that
fails closed (503) when the limiter's store is unreachable, and takes no Idempotency-Key (it is a read, and
a stored response would keep a PAN in the database).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.schema import IDEMPOTENCY_KEY
from common.api_auth import ApiAuth
from common.idempotency import idempotent
from vault.api.serializers import (
    CardMetadataSerializer,
    DetokenizedCardSerializer,
    DetokenizeRequestSerializer,
    ShredRequestSerializer,
    TokenizeBatchRequestSerializer,
    TokenizeBatchResponseSerializer,
    TokenizedCardSerializer,
    TokenizeRequestSerializer,
    api_error,
    batch_response,
    batch_service_inputs,
)
from vault.errors import InvalidCard
from vault.selectors import card_metadata_get
from vault.services import card_detokenize, card_shred, card_tokenize, card_tokenize_batch

TAG = "vault"

_ERROR = inline_serializer(
    "VaultError",
    {
        "error": inline_serializer(
            "VaultErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(),
                "request_id": serializers.CharField(),
            },
        )
    },
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(_ERROR, description=description)


_COMMON_ERRORS = {
    401: _error("`not_authenticated` / `authentication_failed`: no valid bearer token."),
    403: _error("`permission_denied`: the token lacks the scope."),
    429: _error("`rate_limited`, with Retry-After and RateLimit-* headers."),
}
_TOKEN = OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH, description="A card token (`tok_…`).")


def _auth(request: Request) -> ApiAuth:
    return request.auth  # HasRequiredScope has refused anything else


class VaultApiView(APIView):
    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class TokenizeApi(VaultApiView):
    required_scopes = {"POST": "vault:tokenize"}

    @extend_schema(
        tags=[TAG],
        operation_id="vault_tokenize",
        summary="Tokenize a card",
        description="201 with a new token; 200 with the existing token when this tenant already holds the "
        "same card number (its expiry and cardholder are refreshed). The response holds token metadata only.",
        parameters=[IDEMPOTENCY_KEY],
        request=TokenizeRequestSerializer,
        responses={
            201: TokenizedCardSerializer,
            200: TokenizedCardSerializer,
            400: _error(
                "`validation_error` (shape), `invalid_card` / `card_expired` (fields: pan, expiry, cardholder, cvv), "
                "`idempotency_key_required` / `idempotency_key_invalid`."
            ),
            409: _error("`idempotency_key_in_use`."),
            422: _error("`idempotency_key_reused`: the key was used with another body."),
            503: _error("`vault_unavailable`: the key provider cannot be reached."),
            **_COMMON_ERRORS,
        },
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        serializer = TokenizeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        card = serializer.to_card_input()
        auth = _auth(request)
        try:
            result = card_tokenize(tenant=auth.tenant, actor=auth.actor, number=card.number, expiry=card.expiry,
                                   cardholder=card.cardholder, cvv=card.cvv)  # fmt: skip
        except InvalidCard as error:
            raise api_error(error) from None
        return Response(TokenizedCardSerializer(result.card).data, status=201 if result.created else 200)


class TokenizeBatchApi(VaultApiView):
    required_scopes = {"POST": "vault:tokenize"}

    @extend_schema(
        tags=[TAG],
        operation_id="vault_tokenize_batch",
        summary="Tokenize up to 1000 cards",
        description="200 with one result per card, in input order: `created`, `matched` (the tenant already "
        "held that card) or `failed` with an error object (code, message, fields). One bad card fails only "
        "its own item.",
        parameters=[IDEMPOTENCY_KEY],
        request=TokenizeBatchRequestSerializer,
        responses={
            200: TokenizeBatchResponseSerializer,
            400: _error(
                "`validation_error` (`cards` missing, empty or not a list), `batch_too_large`, "
                "`idempotency_key_required` / `idempotency_key_invalid`."
            ),
            409: _error("`idempotency_key_in_use`."),
            422: _error("`idempotency_key_reused`."),
            503: _error("`vault_unavailable`."),
            **_COMMON_ERRORS,
        },
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        serializer = TokenizeBatchRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data["cards"]
        auth = _auth(request)
        results = card_tokenize_batch(tenant=auth.tenant, actor=auth.actor, cards=batch_service_inputs(items))
        return Response(batch_response(items, results))


class DetokenizeApi(VaultApiView):
    required_scopes = {"POST": "vault:detokenize"}
    rate_limit_class = "detokenize"  # its own bucket; fails closed (RATE_LIMIT_FAIL_CLOSED_CLASSES)

    @property
    def rate_limit(self) -> tuple[float, int]:
        return settings.VAULT_DETOKENIZE_RATE, settings.VAULT_DETOKENIZE_BURST

    @extend_schema(
        tags=[TAG],
        operation_id="vault_detokenize",
        summary="Reveal a card for a stated reason (audited)",
        description="Every request that reaches the vault is audited, refusals included. Another tenant's "
        "token answers exactly like an unknown one (404). No Idempotency-Key: a detokenization is a read, "
        "and its response is never stored. `Cache-Control: no-store`.",
        request=DetokenizeRequestSerializer,
        responses={
            200: DetokenizedCardSerializer,
            400: _error("`validation_error` (shape), `invalid_reason` (fields: reason, reason_text)."),
            404: _error("`not_found`: unknown token, or another tenant's."),
            410: _error("`card_shredded`."),
            500: _error("`card_undecryptable`: the stored envelope failed its integrity check."),
            503: _error("`rate_limiter_unavailable` (the limit fails closed), `vault_unavailable`."),
            **_COMMON_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = DetokenizeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        auth = _auth(request)
        card = card_detokenize(tenant=auth.tenant, actor=auth.actor, **serializer.validated_data)
        context = {"include_cvv": serializer.validated_data["include_cvv"]}
        return Response(DetokenizedCardSerializer(card, context=context).data)


class CardApi(VaultApiView):
    # Metadata and shredding belong to the party that tokenizes; neither can reveal a PAN.
    required_scopes = {"GET": "vault:tokenize", "DELETE": "vault:tokenize"}

    @extend_schema(
        tags=[TAG],
        operation_id="vault_card_retrieve",
        summary="Masked metadata of a card",
        parameters=[_TOKEN],
        responses={200: CardMetadataSerializer, 404: _error("`not_found`."), **_COMMON_ERRORS},
    )
    def get(self, request: Request, token: str) -> Response:
        metadata = card_metadata_get(tenant=_auth(request).tenant, token=token)
        return Response(CardMetadataSerializer(metadata).data)

    @extend_schema(
        tags=[TAG],
        operation_id="vault_card_shred",
        summary="Crypto-shred a card",
        description="Destroys the card's data key and ciphertext: the PAN is unrecoverable and detokenize "
        "answers 410. The masked metadata stays. Shredding a shredded card changes nothing (200 again).",
        parameters=[_TOKEN],
        request=ShredRequestSerializer,
        responses={200: CardMetadataSerializer, 404: _error("`not_found`."), **_COMMON_ERRORS},
    )
    def delete(self, request: Request, token: str) -> Response:
        serializer = ShredRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        auth = _auth(request)
        card = card_shred(tenant=auth.tenant, actor=auth.actor, token=token, **serializer.validated_data)
        return Response(CardMetadataSerializer(card).data)

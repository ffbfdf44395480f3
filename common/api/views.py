"""`POST /api/v1/auth/token`: OAuth2 client-credentials grant (form or JSON) → a signed access token."""

from django.conf import settings
from django.http import HttpRequest
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.context import Actor
from audit.services import audit_record
from common.api_auth import InvalidClientCredentials, client_authenticate, token_issue
from common.client_ip import client_ip
from common.ratelimit import ClientIpRateThrottle, failures_exceeded


class TokenRequestSerializer(serializers.Serializer):
    grant_type = serializers.ChoiceField(choices=["client_credentials"])
    client_id = serializers.CharField(max_length=40)
    client_secret = serializers.CharField(max_length=200, trim_whitespace=False)
    scope = serializers.CharField(required=False, allow_blank=True, max_length=500)


def _ip(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def _too_many_failures(request: Request, *, increment: bool) -> bool:
    return failures_exceeded(request._request, group="token-failures", key=_ip, rate=settings.TOKEN_ENDPOINT_IP_RATE,
                             increment=increment)  # fmt: skip


class TokenApi(APIView):
    public = True
    authentication_classes: list = []
    # Every request (rate per IP, with RateLimit-* headers); failures also count against a stricter per-IP limit.
    throttle_classes = [ClientIpRateThrottle]
    rate_limit_class = "token"

    @property
    def rate_limit(self) -> tuple[float, int]:
        return settings.TOKEN_ENDPOINT_RATE_LIMIT

    def get_authenticate_header(self, request: Request) -> str:
        return 'Basic realm="strongroom"'  # bad client credentials are a 401 (RFC 6749 §5.2), not a 403

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer(
            "TokenResponse",
            {
                "access_token": serializers.CharField(),
                "token_type": serializers.CharField(),
                "expires_in": serializers.IntegerField(),
                "scope": serializers.CharField(),
            },  # fmt: skip
        ),
        auth=[],
    )
    def post(self, request: Request) -> Response:
        if _too_many_failures(request, increment=False):
            raise Throttled(detail="Too many failed token requests from this address.")
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            client = client_authenticate(client_id=data["client_id"], client_secret=data["client_secret"])
        except InvalidClientCredentials:
            _too_many_failures(request, increment=True)
            audit_record(action="auth.token.refused", actor=Actor.anonymous(data["client_id"]),
                         data={"client_id": data["client_id"]})  # fmt: skip
            raise
        requested = set(data.get("scope", "").split()) or None
        token = token_issue(client=client, requested_scopes=requested)
        audit_record(action="auth.token.issued", actor=Actor(kind="api_client", id=client.client_id, label=client.name),
                     tenant=client.tenant.key, data={"scope": token["scope"]})  # fmt: skip
        response = Response(token)
        response["Cache-Control"] = "no-store"
        return response

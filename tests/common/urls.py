"""Test-only API views, mounted beside the project's URLs, to exercise the shared API plumbing."""

import time

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api_auth import TenantScopedMixin
from common.errors import DomainError
from common.idempotency import idempotent
from common.models import ApiClient
from config.urls import urlpatterns as project_urlpatterns
from tenants.models import Merchant


class AmountSerializer(serializers.Serializer):
    amount = serializers.CharField()
    card_number = serializers.CharField(required=False)

    def validate_amount(self, value: str) -> str:
        if not value.isdigit():
            raise serializers.ValidationError("Must be digits.")
        return value


class EchoView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):  # noqa: ANN001, ANN201
        return Response({"ok": True})

    def post(self, request):  # noqa: ANN001, ANN201
        serializer = AmountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class Refused(DomainError):
    code = "test_refused"
    status_code = 409


class BoomView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):  # noqa: ANN001, ANN201
        raise RuntimeError("database password is hunter2 and card 4111111111111111")

    def post(self, request):  # noqa: ANN001, ANN201
        raise Refused("Refused for a reason.", fields={"amount": ["too big"]})


def plain_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("plain Django view failure")


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "date_joined"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = UserSerializer
    queryset = get_user_model().objects.all()
    ordering_fields = ["username", "date_joined", "id"]


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiClient
        fields = ["id", "name", "client_id"]


class ScopedClientViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """A tenant-scoped endpoint: each tenant sees only its own API clients."""

    serializer_class = ClientSerializer
    queryset = ApiClient.objects.all()
    ordering_fields = ["id"]
    required_scopes = {"GET": "audit:read"}


class IdempotentCreateView(APIView):
    required_scopes = {"POST": "ledger:write"}
    calls = 0

    @idempotent()
    def post(self, request):  # noqa: ANN001, ANN201
        type(self).calls += 1
        time.sleep(float(request.data.get("sleep", 0)))
        merchant = Merchant.objects.create(reference=request.data["reference"], name="made once")
        return Response({"merchant": merchant.pk, "reference": merchant.reference}, status=201)


class DetokenizeLikeView(APIView):
    required_scopes = {"POST": "vault:detokenize"}
    rate_limit_class = "detokenize"
    rate_limit = (0.001, 2)

    def post(self, request):  # noqa: ANN001, ANN201
        return Response({"ok": True})


test_patterns = [
    path("clients/", ScopedClientViewSet.as_view({"get": "list"})),
    path("clients/<int:pk>/", ScopedClientViewSet.as_view({"get": "retrieve"})),
    path("idempotent", IdempotentCreateView.as_view()),
    path("strict", DetokenizeLikeView.as_view()),
    path("echo", EchoView.as_view()),
    path("boom", BoomView.as_view()),
    path("plain-boom", plain_boom),
    path("users/", UserViewSet.as_view({"get": "list"})),
]

urlpatterns = [path("api/test/", include(test_patterns)), *project_urlpatterns]
handler404 = "common.errors.handler404"
handler500 = "common.errors.handler500"

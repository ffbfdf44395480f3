"""Test-only API views, mounted beside the project's URLs, to exercise the shared API plumbing."""

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from config.urls import urlpatterns as project_urlpatterns


class AmountSerializer(serializers.Serializer):
    amount = serializers.CharField()
    card_number = serializers.CharField(required=False)

    def validate_amount(self, value: str) -> str:
        if not value.isdigit():
            raise serializers.ValidationError("Must be digits.")
        return value


class EchoView(APIView):
    permission_classes = [AllowAny]

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
    serializer_class = UserSerializer
    queryset = get_user_model().objects.all()
    ordering_fields = ["username", "date_joined", "id"]


test_patterns = [
    path("echo", EchoView.as_view()),
    path("boom", BoomView.as_view()),
    path("plain-boom", plain_boom),
    path("users/", UserViewSet.as_view({"get": "list"})),
]

urlpatterns = [path("api/test/", include(test_patterns)), *project_urlpatterns]
handler404 = "common.errors.handler404"
handler500 = "common.errors.handler500"

"""OpenAPI pieces every API shares: the bearer scheme, the Idempotency-Key header, the per-view decorator."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from common.idempotency import HEADER as IDEMPOTENCY_HEADER


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "common.api_auth.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # noqa: ANN001, ANN201
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from POST /api/v1/auth/token (OAuth2 client credentials).",
        }


# Shared by every app's views: the bearer requirement (named so drf-spectacular need not resolve the
# authentication class per view) and the Idempotency-Key header of POSTs.
BEARER = [{"bearerAuth": []}]
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="1-255 printable ASCII characters. A retry with the same key and body replays the first response "
    "(24 h, `Idempotent-Replayed: true`); the same key with another body is a 422.",
)


def api_schema(tag: str, **kwargs: Any) -> Any:
    """`extend_schema` for an API view: its tag and the bearer requirement."""
    return extend_schema(tags=[tag], auth=BEARER, **kwargs)

"""Cursor pagination with a strict `limit` (1..1000): a bad limit is a 400, never clamped."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

MAX_LIMIT = 1000


class LimitCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT
    ordering = "-pk"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise ValidationError({"limit": [f"Must be a whole number from 1 to {MAX_LIMIT}."]})
        return int(raw)

    def decode_cursor(self, request: Request) -> object:
        """A malformed `cursor` is the caller's mistake (400), not a missing resource (DRF says 404)."""
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor; use the next/previous links."]}) from None

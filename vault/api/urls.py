"""`/api/v1/vault/` routes."""

urlpatterns: list = []

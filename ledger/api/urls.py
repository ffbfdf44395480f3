"""`/api/v1/ledger/` routes."""

urlpatterns: list = []

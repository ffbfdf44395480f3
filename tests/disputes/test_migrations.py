import pytest
from django.db.models import Count

from disputes.models import ReasonCode

pytestmark = pytest.mark.django_db


class TestCatalogMigration:
    def test_the_catalog_holds_every_network(self, catalog) -> None:
        counts = dict(ReasonCode.objects.values_list("network").annotate(n=Count("pk")).order_by("network"))

        assert counts == {"amex": 10, "discover": 14, "mastercard": 11, "visa": 25}

    def test_a_code_carries_category_windows_and_evidence(self, catalog) -> None:
        code = ReasonCode.objects.get(network="visa", code="10.4")

        assert (code.category, code.response_days, code.effective_from.isoformat(), code.effective_to) == (
            "fraud",
            {"inquiry": 30, "chargeback": 30, "pre_arbitration": 30, "arbitration": 10},
            "2025-04-01",
            None,
        )
        assert "three_ds_result" in code.required_evidence

    def test_rerunning_the_seed_adds_nothing(self, catalog) -> None:
        import importlib

        from django.apps import apps

        before = ReasonCode.objects.count()
        importlib.import_module("disputes.migrations.0002_seed_reason_code_catalog").seed(apps, None)

        assert ReasonCode.objects.count() == before

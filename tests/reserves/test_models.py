from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from reserves.choices import PolicyKind
from reserves.models import ApprovalSignature, ReserveEngineRun, ReservePolicy, ReserveTranche
from tests.reserves.conftest import DAY, NOW, sign

pytestmark = pytest.mark.django_db


def refused(make) -> None:  # noqa: ANN001
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


class TestConstraints:
    def test_one_live_signature_per_partner(self, release_request, people, partners) -> None:
        approval = release_request()
        sign(approval, people.bank1)

        refused(lambda: ApprovalSignature.objects.bulk_create([ApprovalSignature(
            approval=approval, partner=partners.bank, decision="approve", payload_hash=approval.payload_hash,
            signed_by_user=people.bank2, signer_label="bank-bob", signed_at=NOW)]))  # fmt: skip

    def test_one_engine_run_per_merchant_and_day(self, funded_reserve, merchant, rolling_policy) -> None:
        refused(lambda: ReserveEngineRun.objects.bulk_create(
            [ReserveEngineRun(merchant=merchant, run_date=DAY, policy=rolling_policy, ran_at=NOW)]))  # fmt: skip

    def test_policy_parameters_must_match_the_kind(self, rolling_policy) -> None:
        refused(lambda: ReservePolicy.objects.filter(pk=rolling_policy.pk).update(kind=PolicyKind.FIXED))

    def test_a_tranche_never_releases_more_than_it_held(self, funded_reserve, merchant) -> None:
        refused(lambda: ReserveTranche.objects.filter(merchant=merchant).update(released_amount=10_001))

    def test_a_decided_request_has_a_decision_time(self, release_request) -> None:
        approval = release_request()

        refused(lambda: type(approval).objects.filter(pk=approval.pk).update(status="executed"))
        refused(lambda: type(approval).objects.filter(pk=approval.pk).update(expires_at=NOW - timedelta(hours=1)))

"""PostgreSQL: concurrent signatures (threads, each with its own connection), the engine under
concurrency, and row-level security proved with raw SQL in a partner context."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from audit.context import Actor
from ledger.models import JournalEntry
from reserves import selectors, services
from reserves.choices import ApprovalStatus
from reserves.locks import reserve_lock
from reserves.metrics import fund_lock_conflicts
from reserves.models import ApprovalSignature, ReserveEngineRun
from reserves.principals import principal_for_user
from reserves.rls import partner_context
from tenants.models import Merchant, Partner
from tests.reserves.conftest import DAY, NOW, SYSTEM, make_user, sign

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(count: int, work) -> list:  # noqa: ANN001
    outcomes: list = [None] * count
    barrier = threading.Barrier(count)

    def target(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = work(i)
        except Exception as error:
            outcomes[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def held(merchant) -> int:  # noqa: ANN001
    return selectors.reserve_held(merchant_id=merchant.pk, currency_code="USD")


class TestConcurrentSignatures:
    def test_two_signers_of_one_partner_at_once_leave_exactly_one_signature(self, release_request, people) -> None:
        approval = release_request()

        outcomes = run_threads(2, lambda i: sign(approval, (people.bank1, people.bank2)[i]))

        errors = [o for o in outcomes if isinstance(o, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], services.AlreadySigned), outcomes
        assert ApprovalSignature.objects.filter(approval=approval, revoked_at__isnull=True).count() == 1

    def test_three_partners_signing_the_last_slot_at_once_run_the_action_once(
        self, release_request, people, partners, merchant
    ) -> None:
        extra = []
        for reference in ("scheme", "auditor"):
            partner = Partner.objects.create(reference=reference, name=reference.title())
            partner.merchants.add(merchant)
            extra.append(make_user(f"{reference}-approver", partner))
        approval = release_request(amount="40.00")
        sign(approval, people.bank1)  # 1 of 2: the next approval is the last slot
        signers = [people.acquirer, *extra]

        outcomes = run_threads(3, lambda i: sign(approval, signers[i]))

        done = [o for o in outcomes if not isinstance(o, Exception)]
        errors = [o for o in outcomes if isinstance(o, Exception)]
        assert len(done) == 1 and done[0].status == ApprovalStatus.EXECUTED, outcomes
        assert all(isinstance(e, services.ApprovalNotPending) for e in errors), errors
        assert JournalEntry.objects.filter(idempotency_key=f"approval:{approval.pk}:release").count() == 1
        assert held(merchant) == 10_000 - 4_000
        assert ApprovalSignature.objects.filter(approval=approval).count() == 2


class TestConcurrentEngine:
    def test_two_engines_on_one_day_hold_once(self, rolling_policy, capture, merchant) -> None:
        capture(merchant)

        outcomes = run_threads(2, lambda i: services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW))

        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert sorted(len(o.runs) for o in outcomes) == [0, 1]
        assert ReserveEngineRun.objects.filter(merchant=merchant, run_date=DAY).count() == 1
        assert held(merchant) == 10_000

    def test_a_held_fund_lock_is_counted_then_waited_for(self, rolling_policy, capture, merchant) -> None:
        capture(merchant)
        locked, release = threading.Event(), threading.Event()

        def holder() -> None:
            try:
                with transaction.atomic():
                    reserve_lock(merchant_id=merchant.pk, operation="test")
                    locked.set()
                    release.wait(timeout=30)
            finally:
                connections.close_all()

        thread = threading.Thread(target=holder)
        thread.start()
        locked.wait(timeout=30)
        before = fund_lock_conflicts.labels("engine")._value.get()
        threading.Timer(0.5, release.set).start()

        started = time.monotonic()
        result = services.reserve_engine_run(run_date=DAY, actor=SYSTEM, now=NOW)
        thread.join(timeout=30)

        assert fund_lock_conflicts.labels("engine")._value.get() == before + 1
        assert time.monotonic() - started >= 0.4  # it waited for the holder
        assert result.held == 10_000


class TestRowLevelSecurity:
    def test_the_test_role_is_subject_to_row_level_security(self, db) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            assert cursor.fetchone() == (False, False)
            cursor.execute(
                "SELECT relname FROM pg_class"
                " WHERE relrowsecurity AND relforcerowsecurity AND relname LIKE 'reserves_%%'"
            )
            assert {row[0] for row in cursor.fetchall()} == {
                "reserves_approvalrequest", "reserves_approvalsignature", "reserves_approvaleligibility"
            }  # fmt: skip

    def test_a_raw_query_in_a_partner_context_returns_no_foreign_row(self, release_request, people, partners) -> None:
        ours = release_request()
        sign(ours, people.bank1)
        # Another merchant, served by the acquirer and another bank only: the sponsor bank is not eligible.
        foreign_merchant = Merchant.objects.create(reference="globex", name="Globex")
        for partner in (partners.acquirer, partners.other, partners.platform):
            partner.merchants.add(foreign_merchant)
        services.reserve_policy_create_initial(merchant=foreign_merchant, kind="fixed", currency_code="USD",
                                               amount=100, actor=SYSTEM, occurred_at=NOW)  # fmt: skip
        services.reserve_engine_run(run_date=NOW.date(), actor=SYSTEM, now=NOW, merchant_ids=[foreign_merchant.pk])
        foreign = services.approval_request_create(
            action="release_reserve", merchant=foreign_merchant,
            payload={"amount": "1.00", "currency": "USD", "reason": "x"},
            principal=principal_for_user(people.requester), actor=Actor.system("t"), now=NOW,
        )  # fmt: skip
        sign(foreign, people.acquirer)

        def raw(sql: str) -> set:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return {row[0] for row in cursor.fetchall()}

        with partner_context(partners.bank.pk):
            assert raw("SELECT current_setting('strongroom.partner_id')") == {str(partners.bank.pk)}
            assert raw("SELECT id FROM reserves_approvalrequest") == {ours.pk}
            assert raw("SELECT approval_id FROM reserves_approvalsignature") == {ours.pk}
            assert raw("SELECT partner_id FROM reserves_approvaleligibility") == {partners.bank.pk}
            assert raw(f"SELECT count(*) FROM reserves_approvalrequest WHERE id = {foreign.pk}") == {0}
        # Outside the transaction the setting is gone; the platform sees both.
        assert raw("SELECT id FROM reserves_approvalrequest") == {ours.pk, foreign.pk}

    def test_a_partner_cannot_insert_a_signature_in_another_partners_name(
        self, release_request, people, partners
    ) -> None:
        from django.db import ProgrammingError

        approval = release_request()
        with pytest.raises(ProgrammingError, match="row-level security"), partner_context(partners.bank.pk):
            ApprovalSignature.objects.create(
                approval=approval, partner=partners.acquirer, decision="approve", payload_hash=approval.payload_hash,
                signed_by_user=people.bank1, signer_label="forged", signed_at=NOW,
            )  # fmt: skip
        assert not ApprovalSignature.objects.exists()

    def test_the_partner_setting_does_not_outlive_its_block(self, partners) -> None:
        def setting() -> str:
            with connection.cursor() as cursor:
                cursor.execute("SELECT coalesce(current_setting('strongroom.partner_id', true), '')")
                return cursor.fetchone()[0]

        with transaction.atomic():
            with partner_context(partners.bank.pk):
                assert setting() == str(partners.bank.pk)
            assert setting() == ""
            seen = []

            def fail_inside() -> None:
                with partner_context(partners.bank.pk):
                    seen.append(setting())
                    raise ZeroDivisionError

            with pytest.raises(ZeroDivisionError):
                fail_inside()
            assert seen == [str(partners.bank.pk)]
            assert setting() == ""

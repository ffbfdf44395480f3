import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from reserves import selectors
from reserves.choices import ApprovalStatus
from reserves.models import ApprovalSignature
from tests.conftest import verify_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_request(release_request):  # noqa: ANN201
    """Requests made now (the screens compare with the real clock)."""
    return lambda **kwargs: release_request(now=timezone.now(), **kwargs)


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def logged_in(client, user) -> TOTPDevice:  # noqa: ANN001
    return verify_second_factor(client, user)


class TestApprovalScreens:
    def test_pending_shows_the_request_with_progress_and_time_left(self, client, live_request, people) -> None:
        approval = live_request()
        logged_in(client, people.bank1)

        page = client.get("/admin/reserves/approvalrequest/pending/")

        assert page.status_code == 200
        html = page.content.decode()
        assert f'data-approval="{approval.pk}"' in html
        assert "0 of 2" in html
        assert " h " in html  # time left

    def test_review_shows_a_readable_change_against_today(self, client, live_request, people) -> None:
        approval = live_request(amount="40.00")
        logged_in(client, people.bank1)

        html = client.get(f"/admin/reserves/approvalrequest/{approval.pk}/review/").content.decode()

        assert "100.00 USD" in html and "60.00 USD" in html  # held today → after
        assert approval.payload_hash in html
        assert 'value="approve"' in html

    def test_approving_needs_a_fresh_otp_code(self, client, live_request, people) -> None:
        approval = live_request()
        device = logged_in(client, people.bank1)
        url = f"/admin/reserves/approvalrequest/{approval.pk}/review/"
        form = {"payload_hash": approval.payload_hash, "decision": "approve"}

        client.post(url, {**form, "otp_token": "000000"})
        assert not ApprovalSignature.objects.exists()
        device.refresh_from_db()
        assert device.throttling_failure_count == 1  # django-otp throttles guessing
        device.throttle_reset()

        valid = code(device)
        client.post(url, {**form, "otp_token": valid})
        assert ApprovalSignature.objects.filter(approval=approval, signed_by_user=people.bank1).count() == 1

        # The same code cannot be replayed for another decision (e.g. revoking).
        client.post(url, {**form, "decision": "revoke", "otp_token": valid})
        assert ApprovalSignature.objects.get(approval=approval).revoked_at is None

    def test_two_approvers_of_two_partners_execute_the_release(self, client, live_request, people, merchant) -> None:
        approval = live_request(amount="40.00")
        url = f"/admin/reserves/approvalrequest/{approval.pk}/review/"
        for user in (people.bank1, people.acquirer):
            device = logged_in(client, user)
            client.post(url, {"payload_hash": approval.payload_hash, "decision": "approve", "otp_token": code(device)})

        approval.refresh_from_db()
        assert approval.status == ApprovalStatus.EXECUTED
        assert selectors.reserve_held(merchant_id=merchant.pk, currency_code="USD") == 6_000
        history = client.get("/admin/reserves/approvalrequest/history/").content.decode()
        assert f'data-approval="{approval.pk}"' in history and "2 of 2" in history

    def test_the_requesters_partner_gets_no_sign_buttons(self, client, live_request, people) -> None:
        approval = live_request()
        logged_in(client, people.platform_approver)

        html = client.get(f"/admin/reserves/approvalrequest/{approval.pk}/review/").content.decode()

        assert 'value="approve"' not in html

    def test_an_outsider_cannot_see_the_request(self, client, live_request, people) -> None:
        approval = live_request()
        logged_in(client, people.outsider)

        assert client.get(f"/admin/reserves/approvalrequest/{approval.pk}/review/").status_code == 403
        listing = client.get("/admin/reserves/approvalrequest/").content.decode()
        assert f"/admin/reserves/approvalrequest/{approval.pk}/" not in listing

    def test_the_requester_sees_their_own_open_request(self, client, live_request, people) -> None:
        from django.contrib.auth.models import Permission

        people.requester.user_permissions.add(Permission.objects.get(codename="view_approvalrequest"))
        approval = live_request()
        logged_in(client, people.requester)

        html = client.get("/admin/reserves/approvalrequest/pending/").content.decode()

        assert f'data-approval="{approval.pk}"' in html


@pytest.mark.parametrize("model", ["reservepolicy", "reservetranche", "reserveenginerun", "approvalrule",
                                   "partnermember", "approvalrequest"])  # fmt: skip
def test_changelists_render(admin_client, funded_reserve, model) -> None:
    assert admin_client.get(f"/admin/reserves/{model}/").status_code == 200


class TestNewRequestScreen:
    def test_a_finance_operator_requests_a_policy_change(self, client, funded_reserve, people, merchant) -> None:
        from django.contrib.auth.models import Group

        from common.roles import FINANCE_OPERATOR
        from reserves.models import ApprovalRequest

        people.requester.groups.add(Group.objects.get(name=FINANCE_OPERATOR))
        logged_in(client, people.requester)

        response = client.post("/admin/reserves/approvalrequest/new/", {
            "action": "change_policy", "merchant": merchant.pk,
            "payload": '{"kind": "rolling", "currency": "USD", "percent_bp": 500, "hold_days": 60}',
        })  # fmt: skip

        approval = ApprovalRequest.objects.get(action="change_policy")
        assert response.status_code == 302 and response.url.endswith(f"/{approval.pk}/review/")
        assert approval.requested_by_user == people.requester and approval.status == ApprovalStatus.PENDING

    def test_an_approver_cannot_make_requests(self, client, funded_reserve, people) -> None:
        logged_in(client, people.bank1)

        assert client.get("/admin/reserves/approvalrequest/new/").status_code == 403

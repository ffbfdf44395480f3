"""Two approvers of two partners, each in their own browser context, approve a reserve release with a
fresh authenticator code; a finance user then sees the funds moved in the ledger admin."""

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp

from ledger.models import Account
from reserves import selectors
from reserves.choices import ApprovalStatus
from tests.browser.conftest import browser_type_launch_args  # noqa: F401  (Debian's chromium)
from tests.conftest import verify_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def session_cookie(user, live_server) -> dict:  # noqa: ANN001
    """A session past password and OTP (the login page itself is covered by tests/browser)."""
    client = Client()
    device = verify_second_factor(client, user)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    return {"cookie": cookie, "device": device}


def code(device) -> str:  # noqa: ANN001
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def approve_in(context, live_server, approval, device) -> str:  # noqa: ANN001
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/reserves/approvalrequest/pending/")
    page.click(f"tr[data-approval='{approval.pk}'] a.sr-review")
    page.wait_for_selector("#sr-sign-form")
    assert "Released to payable" in page.inner_text("table.sr-diff")
    assert approval.payload_hash in page.inner_text("code.sr-hash")
    page.fill("#id_otp_token", code(device))
    page.click("button[value=approve]")
    page.wait_for_selector("ul.messagelist")
    return page.inner_text("#sr-approval")


def test_two_approvers_in_two_browsers_release_the_reserve(
    browser, live_server, release_request, people, merchant, django_user_model
) -> None:
    approval = release_request(amount="40.00", now=timezone.now())
    bank, acquirer = session_cookie(people.bank1, live_server), session_cookie(people.acquirer, live_server)
    bank_context, acquirer_context = browser.new_context(), browser.new_context()
    bank_context.add_cookies([bank["cookie"]])
    acquirer_context.add_cookies([acquirer["cookie"]])

    after_bank = approve_in(bank_context, live_server, approval, bank["device"])
    assert "1 of 2" in after_bank and "Sponsor Bank: approve by bank-alice" in after_bank
    assert selectors.reserve_held(merchant_id=merchant.pk, currency_code="USD") == 10_000

    after_acquirer = approve_in(acquirer_context, live_server, approval, acquirer["device"])
    assert "executed" in after_acquirer and "2 of 2" in after_acquirer

    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.EXECUTED
    # The ledger shows the funds moved: a finance user opens the merchant's reserve account.
    finance = django_user_model.objects.create_user("finance", password="x-unused-passw0rd", is_staff=True,
                                                    is_superuser=True)  # fmt: skip
    finance_context = browser.new_context()
    finance_context.add_cookies([session_cookie(finance, live_server)["cookie"]])
    reserve = Account.objects.get(address=f"merchant:{merchant.pk}:reserve:USD")
    page = finance_context.new_page()
    page.goto(f"{live_server.url}/admin/ledger/account/{reserve.pk}/change/")
    content = page.inner_text("#content")
    assert "60.00 USD" in content
    assert "Approved out-of-schedule reserve release" in content
    page.screenshot(path="var/browser-reserve-release.png", full_page=True)
    for context in (bank_context, acquirer_context, finance_context):
        context.close()

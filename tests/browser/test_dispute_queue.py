"""The compliance queue in a real browser: an analyst sees the most urgent dispute first, uploads evidence,
requests submission; a compliance lead (another person, another browser) approves; the analyst sees the
dispute under review."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.roles import COMPLIANCE_ANALYST, COMPLIANCE_LEAD, sync_role_permissions
from disputes.models import Dispute
from tests.browser.test_staff_login import current_code
from tests.disputes.conftest import SYSTEM, capture, catalog, merchant, seeded_templates  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-queue-passw0rd"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def staff(django_user_model, username: str, role: str) -> TOTPDevice:  # noqa: ANN001
    user = django_user_model.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def log_in(page, live_server, device: TOTPDevice) -> None:  # noqa: ANN001
    page.goto(f"{live_server.url}/admin/login/?next=/admin/disputes/dispute/")
    page.fill("#id_username", device.user.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", current_code(device))
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")


@pytest.fixture
def queue(request) -> tuple[Dispute, Dispute]:  # noqa: ANN001
    """Two open disputes; the one opened earlier is due first (fixtures of tests/disputes/conftest.py)."""
    from disputes import services

    request.getfixturevalue("catalog")
    make_capture, shop = request.getfixturevalue("capture"), request.getfixturevalue("merchant")

    now = timezone.now()
    later = services.dispute_open(
        network="visa", network_dispute_id="VD-LATER", merchant=shop, original_entry=make_capture(shop),
        amount=1000, currency_code="USD", reason_code="13.1", actor=SYSTEM, occurred_at=now - timedelta(days=1),
    )  # fmt: skip
    urgent = services.dispute_open(
        network="visa", network_dispute_id="VD-URGENT", merchant=shop, original_entry=make_capture(shop),
        amount=2500, currency_code="USD", reason_code="13.1", actor=SYSTEM, occurred_at=now - timedelta(days=20),
    )  # fmt: skip
    return urgent, later


def test_an_analyst_works_the_most_urgent_dispute_to_submission(
    browser, live_server, django_user_model, queue, tmp_path
) -> None:
    sync_role_permissions()
    analyst = staff(django_user_model, "ana", COMPLIANCE_ANALYST)
    lead = staff(django_user_model, "lea", COMPLIANCE_LEAD)
    urgent, _ = queue
    analyst_page = browser.new_context().new_page()

    log_in(analyst_page, live_server, analyst)
    rows = analyst_page.locator("#result_list tbody tr")
    assert "VD-URGENT" in rows.nth(0).inner_text() and "VD-LATER" in rows.nth(1).inner_text()
    assert rows.nth(0).locator("span[class^=sr-urgent]").count() == 1  # the time-left column is coloured

    rows.nth(0).locator("a").first.click()
    analyst_page.wait_for_selector("#dispute-evidence")
    for kind in urgent.reason_code.required_evidence:
        analyst_page.select_option("#dispute-evidence select[name=kind]", kind)
        receipt = tmp_path / f"{kind}.pdf"
        receipt.write_bytes(PDF)
        analyst_page.set_input_files("#dispute-evidence input[type=file]", str(receipt))
        analyst_page.click("#dispute-evidence input[type=submit]")
        analyst_page.wait_for_selector("#dispute-evidence")
    assert "missing" not in analyst_page.inner_text(".sr-checklist")
    assert analyst_page.locator("#dispute-evidence tbody tr").count() == len(urgent.reason_code.required_evidence)

    analyst_page.click("button[value=request_submit]")
    analyst_page.wait_for_selector("text=Waiting for approval")
    assert analyst_page.locator("button[value=approve]").count() == 0  # analysts cannot approve

    lead_page = browser.new_context().new_page()
    log_in(lead_page, live_server, lead)
    lead_page.goto(f"{live_server.url}/admin/disputes/dispute/{urgent.pk}/change/")
    lead_page.click("button[value=approve]")
    lead_page.wait_for_selector("#dispute-evidence")

    analyst_page.reload()
    assert "Under review" in analyst_page.inner_text("fieldset")
    assert "Evidence is frozen" in analyst_page.inner_text("#dispute-evidence")
    assert Dispute.objects.get(pk=urgent.pk).status == "under_review"
    analyst_page.screenshot(path="var/browser-dispute-submitted.png", full_page=True)

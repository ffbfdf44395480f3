"""A staff user logs in with password and a TOTP code in a real browser (Debian's chromium)."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-login-passw0rd"


@pytest.fixture
def staff_with_device(django_user_model) -> TOTPDevice:  # noqa: ANN001
    user = django_user_model.objects.create_user("analyst", password=PASSWORD, is_staff=True, is_superuser=True)
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def fill_login(page, live_server, code: str) -> None:  # noqa: ANN001
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", code)
    page.click("input[type=submit]")


class TestStaffLogin:
    def test_password_and_a_totp_code_reach_the_admin_index(self, page, live_server, staff_with_device) -> None:
        fill_login(page, live_server, current_code(staff_with_device))

        page.wait_for_selector(".sr-dashboard")
        assert page.url == f"{live_server.url}/admin/"
        assert "System status" in page.inner_text("#content")
        page.screenshot(path="var/browser-admin-index.png", full_page=True)

    def test_a_wrong_code_is_refused(self, page, live_server, staff_with_device) -> None:
        fill_login(page, live_server, "000000")

        assert "Enter a valid authenticator code." in page.inner_text("#content")
        assert page.url.startswith(f"{live_server.url}/admin/login/")

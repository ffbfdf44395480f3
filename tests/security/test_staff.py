import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from common import roles
from tests.conftest import verify_second_factor

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def staff(django_user_model):  # noqa: ANN001, ANN201
    return django_user_model.objects.create_user("clerk", email="clerk@example.com", password=PASSWORD, is_staff=True)


@pytest.fixture
def device(staff) -> TOTPDevice:  # noqa: ANN001
    return TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def login(client, password: str = PASSWORD, otp: str = "", ip: str = "198.51.100.10"):  # noqa: ANN001, ANN201
    return client.post("/admin/login/", {"username": "clerk", "password": password, "otp_token": otp,
                                         "next": "/admin/"}, REMOTE_ADDR=ip)  # fmt: skip


class TestSecondFactor:
    def test_password_and_a_valid_code_reach_the_admin(self, client, staff, device) -> None:
        response = login(client, otp=code(device))

        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200

    def test_a_password_without_the_code_is_refused(self, client, staff, device) -> None:
        response = login(client, otp="")

        assert response.status_code == 200
        assert "Enter a valid authenticator code." in response.content.decode()
        assert client.get("/admin/").status_code == 302

    def test_a_user_past_the_password_but_not_the_otp_reaches_no_admin_page(self, client, staff, device) -> None:
        client.force_login(staff)  # password step done, second factor not

        for url in ("/admin/", "/admin/auth/user/", "/admin/audit/auditevent/", "/admin/common/apiclient/"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/")

    def test_staff_without_a_device_must_enrol_before_any_page(self, client, staff) -> None:
        login(client)

        response = client.get("/admin/audit/auditevent/")

        assert response.status_code == 302
        assert response["Location"].startswith("/admin/otp/enroll/")

    def test_enrolment_shows_a_local_qr_code_confirms_and_issues_backup_codes_once(self, client, staff) -> None:
        login(client)
        page = client.get("/admin/otp/enroll/")
        html = page.content.decode()
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
        device = TOTPDevice.objects.get(user=staff, confirmed=False)

        wrong = client.post("/admin/otp/enroll/", {"otp_token": "000000"})
        # django-otp throttles a device for a moment after a wrong code; let that moment pass.
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
        device.refresh_from_db()
        right = client.post("/admin/otp/enroll/", {"otp_token": code(device)})
        codes_page = client.get(right["Location"])
        again = client.get("/admin/otp/backup-codes/")

        assert "<svg" in html and "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
            "http://www.w3.org", ""
        )
        assert len(secret) >= 16
        assert "did not match" in wrong.content.decode()
        assert right["Location"] == "/admin/otp/backup-codes/"
        assert len(re.findall(r"<li><code>", codes_page.content.decode())) == 10
        assert again.status_code == 302  # shown once
        assert client.get("/admin/").status_code == 200
        assert AuditEvent.objects.filter(action="auth.otp.enrolled", object_id=str(staff.pk)).exists()
        assert AuditEvent.objects.filter(action="auth.otp.failed", object_id=str(staff.pk)).exists()

    def test_a_backup_code_works_once(self, client, staff, device) -> None:
        from django_otp.plugins.otp_static.models import StaticDevice

        backup = StaticDevice.objects.create(user=staff, name="Backup codes", confirmed=True)
        backup.token_set.create(token="backup12")

        assert login(client, otp="backup12").status_code == 302
        client.logout()
        assert login(client, otp="backup12").status_code == 200


class TestLockout:
    def test_five_failures_lock_the_user_and_ip_and_email_the_user(self, client, staff, device, settings) -> None:
        for _ in range(5):
            login(client, password="wrong-password-1")

        locked = login(client, otp=code(device))

        assert locked.status_code == 429
        assert "Too many failed login attempts" in locked.content.decode()
        assert mail.outbox[-1].to == ["clerk@example.com"]
        assert "locked" in mail.outbox[-1].subject
        assert AuditEvent.objects.filter(action="auth.lockout").exists()

    def test_wrong_otp_codes_count_as_failures(self, client, staff, device) -> None:
        for _ in range(5):
            login(client, otp="123456")

        assert login(client, otp=code(device)).status_code == 429

    def test_a_colleague_with_the_permission_can_unlock_from_the_admin(
        self, client, admin_client, staff, device
    ) -> None:
        for _ in range(5):
            login(client, password="wrong-password-1")
        attempt = AccessAttempt.objects.get(username="clerk")

        admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

        assert login(client, otp=code(device)).status_code == 302

    def test_the_lock_is_per_username_and_address(self, client, staff, device) -> None:
        for _ in range(5):
            login(client, password="wrong-password-1", ip="198.51.100.10")

        assert login(client, otp=code(device), ip="198.51.100.99").status_code == 302


class TestSessions:
    def test_a_session_idle_for_15_minutes_is_over(self, client, staff, device, settings) -> None:
        login(client, otp=code(device))
        assert client.get("/admin/").status_code == 200
        session = Session.objects.get()
        assert settings.SESSION_COOKIE_AGE == 900

        Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))

        assert client.get("/admin/")["Location"].startswith("/admin/login/")

    def test_activity_pushes_the_expiry_forward(self, client, staff, device) -> None:
        login(client, otp=code(device))
        Session.objects.update(expire_date=timezone.now() + timedelta(minutes=1))

        client.get("/admin/")

        remaining = Session.objects.get().expire_date - timezone.now()
        assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)


class TestPasswords:
    @pytest.mark.parametrize(
        ("password", "message"),
        [("short1abc", "at least 12"), ("onlylettersxxyy", "letters and digits"), ("123456789012345", "letters")],
    )
    def test_weak_passwords_are_refused(self, staff, password: str, message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            validate_password(password, staff)

    def test_the_last_four_passwords_cannot_be_reused(self, staff) -> None:
        history = ["first-passw0rd-a", "second-passw0rd-b", "third-passw0rd-c", "fourth-passw0rd-d"]
        for password in history:
            staff.set_password(password)
            staff.save()

        with pytest.raises(ValidationError, match="last 4"):
            validate_password("second-passw0rd-b", staff)
        validate_password(PASSWORD, staff)  # the fifth-oldest is allowed again

    def test_argon2_hashes_passwords_in_production_settings(self) -> None:
        from config.settings import base

        assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


class TestHeaders:
    def test_frames_are_denied_and_the_csp_allows_no_inline_script(self, client) -> None:
        response = client.get("/admin/login/")

        assert response["X-Frame-Options"] == "DENY"
        policy = response["Content-Security-Policy"]
        script_src = next(part for part in policy.split("; ") if part.startswith("script-src"))
        assert script_src == "script-src 'self'"
        assert "frame-ancestors 'none'" in policy

    def test_login_page_and_swagger_have_no_inline_scripts(self, client) -> None:
        for url in ("/admin/login/", "/api/docs/"):
            html = client.get(url).content.decode()
            inline = [s for s in re.findall(r"<script([^>]*)>", html) if "src=" not in s and "json" not in s]
            assert inline == [], url

    def test_cookies_are_secure_httponly_and_samesite_in_production(self) -> None:
        from config.settings import base

        assert base.SESSION_COOKIE_SECURE and base.CSRF_COOKIE_SECURE
        assert base.SESSION_COOKIE_HTTPONLY and base.SESSION_COOKIE_SAMESITE == "Lax"


class TestRoles:
    def test_the_six_roles_exist(self) -> None:
        names = set(Group.objects.values_list("name", flat=True))

        assert {"compliance analyst", "compliance lead", "finance operator", "vault custodian", "auditor",
                "partner approver"} <= names  # fmt: skip

    def test_the_auditor_can_only_view(self) -> None:
        codenames = set(Group.objects.get(name=roles.AUDITOR).permissions.values_list("codename", flat=True))

        assert codenames
        assert all(c.startswith("view_") for c in codenames)

    def test_no_role_but_none_can_delete_audit_events(self) -> None:
        for group in Group.objects.all():
            assert not group.permissions.filter(codename__in=["delete_auditevent", "change_auditevent"]).exists()


class TestVerifiedAdminFixture:
    def test_the_shared_fixture_really_passes_the_second_factor(self, client, staff) -> None:
        staff.is_superuser = True
        staff.save()
        verify_second_factor(client, staff)

        assert client.get("/admin/").status_code == 200


class TestMakerChecker:
    def test_analysts_cannot_approve_their_own_kind_of_request_but_leads_can(self) -> None:
        def codenames(role: str) -> set[str]:
            return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

        assert "approve_disputeactionrequest" not in codenames(roles.COMPLIANCE_ANALYST)
        assert "approve_disputeactionrequest" in codenames(roles.COMPLIANCE_LEAD)

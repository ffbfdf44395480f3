"""What this issue wires into the trail: authentication, admin changes, state-changing API requests."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def staff(django_user_model):  # noqa: ANN001, ANN201
    return django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)


def latest(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("pk")


class TestAuthenticationEvents:
    def test_login_success_and_logout_are_recorded_with_the_user(self, client, staff) -> None:
        client.post("/admin/login/", {"username": "clerk", "password": PASSWORD}, REMOTE_ADDR="198.51.100.4")
        client.post("/admin/logout/")

        login = latest("auth.login.succeeded")
        assert (login.actor_kind, login.actor_label, login.ip) == ("staff", "clerk", "198.51.100.4")
        assert latest("auth.logout").actor_label == "clerk"

    def test_a_failed_login_is_recorded_without_the_password(self, client, staff) -> None:
        client.post("/admin/login/", {"username": "clerk", "password": "wrong-password-123"})

        failed = latest("auth.login.failed")
        assert (failed.actor_kind, failed.actor_label) == ("anonymous", "clerk")
        assert "wrong-password" not in failed.data

    def test_password_and_privilege_changes_are_recorded(self, staff) -> None:
        staff.set_password("another-long-passw0rd")
        staff.is_superuser = True
        staff.save()

        assert latest("auth.password.changed").object_id == str(staff.pk)
        changes = json.loads(latest("auth.user.privileges_changed").data)["changes"]
        assert changes == {"is_superuser": {"before": False, "after": True}}

    def test_group_and_permission_changes_are_recorded(self, staff) -> None:
        group = Group.objects.create(name="night shift")
        permission = Permission.objects.get(codename="view_auditevent")

        staff.groups.add(group)
        group.permissions.add(permission)

        assert json.loads(latest("auth.user.groups_changed").data) == {
            "change": "added", "related_ids": [group.pk], "related_model": "auth.group"
        }  # fmt: skip
        assert json.loads(latest("auth.group.permissions_changed").data)["related_ids"] == [permission.pk]


class TestAdminChanges:
    def test_a_change_through_the_admin_records_field_diffs(self, admin_client, staff) -> None:
        url = f"/admin/auth/user/{staff.pk}/change/"
        form = admin_client.get(url).context["adminform"].form
        data = {k: v for k, v in form.initial.items() if v is not None and k not in {"groups", "user_permissions"}}
        data.update({"first_name": "Clara", "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-01",
                     "date_joined_1": "10:00:00", "password": form.initial["password"]})  # fmt: skip

        response = admin_client.post(url, data)

        assert response.status_code == 302
        event = latest("admin.object.changed")
        assert (event.actor_label, event.object_type, event.object_id) == ("admin", "auth.user", str(staff.pk))
        assert json.loads(event.data)["changes"]["first_name"] == {"before": "", "after": "Clara"}

    def test_an_addition_and_a_deletion_through_the_admin_are_recorded(self, admin_client) -> None:
        admin_client.post("/admin/auth/group/add/", {"name": "auditors", "permissions": []})
        group = Group.objects.get(name="auditors")
        admin_client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})

        added = latest("admin.object.added")
        assert json.loads(added.data)["changes"]["name"] == {"before": None, "after": "auditors"}
        deleted = latest("admin.object.deleted")
        assert (deleted.object_type, deleted.object_id) == ("auth.group", str(group.pk))


@pytest.mark.urls("tests.common.urls")
class TestApiRequests:
    def test_a_state_changing_api_request_is_recorded_with_status_and_request_id(self, api_client) -> None:
        api_client.post("/api/test/echo", {"amount": "12"}, format="json", HTTP_X_REQUEST_ID="req-audit-000001")

        event = latest("api.request.completed")
        assert json.loads(event.data) == {"method": "POST", "path": "/api/test/echo", "status": 200}
        assert event.request_id == "req-audit-000001"

    def test_reads_are_not_recorded(self, api_client) -> None:
        before = AuditEvent.objects.filter(action="api.request.completed").count()

        api_client.get("/api/test/echo")

        assert AuditEvent.objects.filter(action="api.request.completed").count() == before


class TestAuditAdmin:
    def test_the_trail_is_read_only_in_the_admin(self, admin_client) -> None:
        event = AuditEvent.objects.first()

        assert admin_client.get("/admin/audit/auditevent/").status_code == 200
        assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
        detail = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
        assert detail.status_code == 200
        assert b'name="_save"' not in detail.content
        assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403

    def test_filters_and_search_work(self, admin_client) -> None:
        response = admin_client.get("/admin/audit/auditevent/", {"action_prefix": "audit", "q": "audit.chain.genesis"})

        assert response.status_code == 200
        assert b"audit.chain.genesis" in response.content

    def test_the_dashboard_shows_the_chain_state(self, admin_client) -> None:
        response = admin_client.get("/admin/")

        tile = next(t for t in response.context["dashboard_tiles"] if t.title == "Audit trail")
        assert dict(tile.rows)["Last verification"] == "never"


class TestMetrics:
    def test_chain_gauges_are_exported(self, client) -> None:
        body = client.get("/metrics").content.decode()

        assert "strongroom_audit_chain_head_sequence" in body
        assert "strongroom_audit_unchained_events" in body


def test_user_model_is_django_default() -> None:
    assert get_user_model()._meta.label == "auth.User"

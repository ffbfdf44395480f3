import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from audit.models import AuditEvent
from tests.vault.factories import PAN, tokenize
from vault.models import KeyVersion

pytestmark = pytest.mark.django_db


def _log_in(client, user):  # noqa: ANN001, ANN202
    """Log in past the admin's second factor when django-otp is installed (as an enrolled, verified user)."""
    from django.apps import apps

    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if apps.is_installed("django_otp.plugins.otp_static"):
        from django_otp.plugins.otp_static.models import StaticDevice

        device = StaticDevice.objects.create(user=user, name="tests", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def superuser_client(client):  # noqa: ANN001, ANN201
    return _log_in(client, User.objects.create_superuser("root", "root@example.com", "x-very-long-password"))


@pytest.fixture
def custodian(client):  # noqa: ANN001, ANN201
    user = User.objects.create_user("custodian", "keys@example.com", "x-very-long-password", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="vault", codename__in=["view_card", "view_keyversion", "manage_keys"]
        )
    )
    return _log_in(client, user)


@pytest.fixture
def viewer(client):  # noqa: ANN001, ANN201
    user = User.objects.create_user("viewer", "v@example.com", "x-very-long-password", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vault", codename__startswith="view_"))
    return _log_in(client, user)


class TestCardAdmin:
    def test_the_list_and_detail_show_token_and_metadata_never_the_pan(self, superuser_client, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor, cardholder="Grace Hopper").card

        listing = superuser_client.get(reverse("admin:vault_card_changelist")).content.decode()
        detail = superuser_client.get(reverse("admin:vault_card_change", args=[card.pk])).content.decode()

        for page in (listing, detail):
            assert card.token in page and "42424242" in page and "4242" in page
            assert PAN not in page and "Grace" not in page
        assert "12/30" in detail and "42424242••••4242" in detail

    def test_search_by_token_finds_the_card(self, superuser_client, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor).card

        page = superuser_client.get(reverse("admin:vault_card_changelist"), {"q": card.token}).content.decode()

        assert card.token in page

    def test_cards_cannot_be_added_changed_or_deleted(self, superuser_client, tenant, actor) -> None:
        card = tokenize(tenant=tenant, actor=actor).card

        assert superuser_client.get(reverse("admin:vault_card_add")).status_code == 403
        assert (
            superuser_client.post(reverse("admin:vault_card_delete", args=[card.pk]), {"post": "yes"}).status_code
            == 403
        )


class TestKeyAdmin:
    def test_the_inventory_counts_live_cards_per_key_version(self, custodian, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)

        page = custodian.get(reverse("admin:vault_keyversion_changelist")).content.decode()

        assert 'class="field-live_cards">1<' in page
        assert "Rotate a key" in page

    def test_rotation_asks_for_confirmation_then_rotates(self, custodian, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)
        url = reverse("admin:vault_keyversion_rotate")

        confirm = custodian.get(url)
        done = custodian.post(url, {"purpose": "kek", "confirm": "yes"})

        assert confirm.status_code == 200 and "Yes, I" in confirm.content.decode()
        assert done.status_code == 302
        assert KeyVersion.objects.get(purpose="kek", state="active").version == 2
        event = AuditEvent.objects.get(action="vault.key.rotated")
        assert event.actor_label == "custodian"

    def test_rewrap_runs_the_job_after_confirmation(
        self, custodian, tenant, actor, django_capture_on_commit_callbacks
    ) -> None:
        card = tokenize(tenant=tenant, actor=actor).card
        custodian.post(reverse("admin:vault_keyversion_rotate"), {"purpose": "kek"})

        with django_capture_on_commit_callbacks(execute=True):
            response = custodian.post(reverse("admin:vault_keyversion_rewrap"), {"confirm": "yes"})

        assert response.status_code == 302
        card.refresh_from_db()
        assert card.kek_version == 2

    def test_retiring_in_use_versions_is_refused_with_a_message(self, custodian, tenant, actor) -> None:
        tokenize(tenant=tenant, actor=actor)
        custodian.post(reverse("admin:vault_keyversion_rotate"), {"purpose": "kek"})

        response = custodian.post(
            reverse("admin:vault_keyversion_retire"), {"purpose": "kek", "min_version": 2}, follow=True
        )

        assert "still needed by 1 cards" in response.content.decode()
        assert KeyVersion.objects.get(purpose="kek", version=1).state == "decrypt_only"

    @pytest.mark.parametrize("name", ["rotate", "rewrap", "retire"])
    def test_key_operations_need_the_manage_keys_permission(self, viewer, name: str) -> None:
        url = reverse(f"admin:vault_keyversion_{name}")

        assert viewer.get(url).status_code == 403
        assert viewer.post(url, {"purpose": "kek", "min_version": 1}).status_code == 403
        assert "Rotate a key" not in viewer.get(reverse("admin:vault_keyversion_changelist")).content.decode()

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


class TestAdminSite:
    def test_login_page_is_branded(self, client) -> None:
        response = client.get("/admin/login/")

        assert response.status_code == 200
        assert b"Strongroom" in response.content

    def test_home_shows_live_system_status(self, admin_client) -> None:
        response = admin_client.get("/admin/")

        assert response.status_code == 200
        html = response.content.decode()
        for check in ("database", "migrations", "redis", "celery_broker"):
            assert f'data-check="{check}"' in html
        assert response.context["system_status"]["database"]["status"] == "ok"


class TestApiDocs:
    def test_schema_is_openapi(self, client) -> None:
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

        assert response.status_code == 200
        assert response.json()["openapi"].startswith("3.")

    def test_swagger_ui_is_served_locally(self, client) -> None:
        response = client.get("/api/docs/")

        assert response.status_code == 200
        html = response.content.decode()
        assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
        assert "cdn." not in html


class TestSeedDemo:
    def test_creates_the_staff_user_once_and_prints_the_same_login(self, settings, tmp_path, capsys) -> None:
        settings.DEV_MODE = True
        settings.VAR_DIR = tmp_path

        call_command("seed_demo")
        first = capsys.readouterr().out
        call_command("seed_demo")
        second = capsys.readouterr().out

        login = json.loads((tmp_path / "demo_login.json").read_text())
        assert f"{login['username']} / {login['password']}" in first
        assert first == second
        user = get_user_model().objects.get(username="demo")
        assert user.is_staff and user.check_password(login["password"])

    def test_refuses_outside_dev_mode(self, settings) -> None:
        settings.DEV_MODE = False

        with pytest.raises(CommandError, match="dev mode"):
            call_command("seed_demo")


class TestOpenApiSchema:
    def test_the_whole_schema_generates_without_warnings(self) -> None:
        from django.core.management import call_command

        call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")

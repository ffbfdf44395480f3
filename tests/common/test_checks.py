import pytest
from django.core.exceptions import ImproperlyConfigured

from common import checks

pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES:UserWarning")

STRONG_KEY = "kJ3n9sX2-vQ8wLm4Rt7yZp1aB6cD0eF5gH_iJkLmNoPqRsTuVwXyZ0123456789ab"


@pytest.fixture
def production(settings):  # noqa: ANN001, ANN201
    settings.DEV_MODE = False
    settings.DEBUG = False
    settings.SECRET_KEY = STRONG_KEY
    settings.ALLOWED_HOSTS = ["strongroom.example.com"]
    return settings


def ids(messages) -> list[str]:  # noqa: ANN001
    return [message.id for message in messages]


class TestSecretKey:
    def test_a_strong_key_passes(self, production) -> None:
        assert checks.check_secret_key() == []

    @pytest.mark.parametrize("key", ["short-key", "a" * 64, "django-insecure-" + STRONG_KEY, "ab" * 40])
    def test_a_weak_key_is_refused(self, production, key: str) -> None:
        production.SECRET_KEY = key

        assert ids(checks.check_secret_key()) == ["strongroom.E002"]

    def test_a_missing_key_is_refused_with_a_fix(self, production) -> None:
        production.SECRET_KEY = ""

        [message] = checks.check_secret_key()
        assert message.id == "strongroom.E001"
        assert "secrets.token_urlsafe" in message.hint


class TestDebugAndHosts:
    def test_debug_in_production_mode_is_refused(self, production) -> None:
        production.DEBUG = True

        assert ids(checks.check_debug()) == ["strongroom.E003"]

    def test_debug_in_dev_mode_is_allowed(self, production) -> None:
        production.DEV_MODE = True
        production.DEBUG = True

        assert checks.check_debug() == []

    @pytest.mark.parametrize("hosts", [[], ["*"], ["api.example.com", "*"]])
    def test_empty_or_wildcard_hosts_are_refused(self, production, hosts: list[str]) -> None:
        production.ALLOWED_HOSTS = hosts

        assert ids(checks.check_allowed_hosts()) == ["strongroom.E004"]


class TestDatabasePassword:
    @pytest.mark.parametrize("password", ["", "postgres", "Password", "changeme"])
    def test_a_default_password_is_refused(self, production, password: str) -> None:
        production.DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": password}}

        assert ids(checks.check_database()) == ["strongroom.E005"]

    def test_a_real_password_passes(self, production) -> None:
        production.DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": "x9!kq2Lm7#"}}

        assert checks.check_database() == []


class TestStartup:
    def test_the_server_refuses_to_start_on_a_weak_key(self, production) -> None:
        production.SECRET_KEY = "weak"

        with pytest.raises(ImproperlyConfigured, match="strongroom.E002"):
            checks.refuse_unsafe_startup()

    def test_the_server_refuses_to_start_with_debug_on(self, production) -> None:
        production.DEBUG = True

        with pytest.raises(ImproperlyConfigured, match="strongroom.E003"):
            checks.refuse_unsafe_startup()

    def test_a_safe_configuration_starts(self, production, monkeypatch) -> None:
        monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)  # set for Playwright; a deploy error
        production.DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": "x9!kq2Lm7#"}}

        checks.refuse_unsafe_startup()  # raises on any error


class TestApiKeys:
    def test_missing_token_signing_keys_are_refused(self, production) -> None:
        production.JWT_SIGNING_KEYS = ""

        assert ids(checks.check_jwt_keys()) == ["strongroom.E007"]

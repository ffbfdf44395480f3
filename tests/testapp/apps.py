from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """Test-only: a `flush` that can empty append-only tables between transactional tests."""

    name = "tests.testapp"
    label = "testapp"

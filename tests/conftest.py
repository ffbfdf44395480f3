import os

import pytest
from rest_framework.test import APIClient

# Playwright's sync API runs an event loop in the test thread; Django must still allow ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()

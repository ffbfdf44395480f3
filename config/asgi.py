"""ASGI entry point. Outside dev mode the deployment checks must pass before serving."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_asgi_application()

from common.checks import refuse_unsafe_startup  # noqa: E402

refuse_unsafe_startup()

"""WSGI entry point. Outside dev mode the deployment checks must pass before serving."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()

from common.checks import refuse_unsafe_startup  # noqa: E402

refuse_unsafe_startup()

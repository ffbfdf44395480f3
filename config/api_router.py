"""All `/api/v1/` routes, gathered from each app's `api/urls.py`."""

app_name = "api"

urlpatterns: list = []

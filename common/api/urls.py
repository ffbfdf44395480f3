from django.urls import path

from common.api.views import TokenApi

urlpatterns = [path("auth/token", TokenApi.as_view(), name="auth-token")]

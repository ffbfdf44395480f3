"""`/api/v1/vault/` routes."""

from django.urls import path

from vault.api.views import CardApi, DetokenizeApi, TokenizeApi, TokenizeBatchApi

urlpatterns = [
    path("tokenize", TokenizeApi.as_view(), name="vault-tokenize"),
    path("tokenize/batch", TokenizeBatchApi.as_view(), name="vault-tokenize-batch"),
    path("detokenize", DetokenizeApi.as_view(), name="vault-detokenize"),
    path("cards/<str:token>", CardApi.as_view(), name="vault-card"),
]

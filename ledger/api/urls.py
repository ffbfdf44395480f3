"""`/api/v1/ledger/` routes."""

from django.urls import path

from ledger.api import views

app_name = "ledger"

urlpatterns = [
    path("accounts", views.AccountCreateApi.as_view(), name="account-create"),
    path("accounts/<str:account_number>", views.AccountDetailApi.as_view(), name="account-detail"),
    path("accounts/<str:account_number>/balance", views.AccountBalanceApi.as_view(), name="account-balance"),
    path("accounts/<str:account_number>/entries", views.AccountStatementApi.as_view(), name="account-statement"),
    path("accounts/<str:account_number>/credit", views.AccountCreditApi.as_view(), name="account-credit"),
    path("accounts/<str:account_number>/debit", views.AccountDebitApi.as_view(), name="account-debit"),
    path("entries", views.EntryCreateApi.as_view(), name="entry-create"),
    path("entries/batch", views.EntryBatchApi.as_view(), name="entry-batch"),
    path("entries/<uuid:entry_id>/reverse", views.EntryReverseApi.as_view(), name="entry-reverse"),
    path("transfers", views.TransferCreateApi.as_view(), name="transfer-create"),
    path("transfers/<uuid:entry_id>/post", views.TransferPostApi.as_view(), name="transfer-post"),
    path("transfers/<uuid:entry_id>/void", views.TransferVoidApi.as_view(), name="transfer-void"),
    path("templates/<slug:name>/post", views.TemplatePostApi.as_view(), name="template-post"),
    path("trial-balance", views.TrialBalanceApi.as_view(), name="trial-balance"),
]

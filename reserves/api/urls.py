"""`/api/v1/reserves/` routes."""

from django.urls import path

from reserves.api import views

app_name = "reserves"

urlpatterns = [
    path("approvals", views.ApprovalListCreateApi.as_view(), name="approval-list"),
    path("approvals/<int:approval_id>", views.ApprovalDetailApi.as_view(), name="approval-detail"),
    path("approvals/<int:approval_id>/sign", views.ApprovalSignApi.as_view(), name="approval-sign"),
    path("approvals/<int:approval_id>/revoke", views.ApprovalRevokeApi.as_view(), name="approval-revoke"),
    path("merchants/<int:merchant_id>", views.MerchantReserveApi.as_view(), name="merchant-reserve"),
]

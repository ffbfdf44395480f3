"""`make run`'s reserves demo: two approver logins (one per partner) that can carry a release through."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from audit.context import Actor
from reserves.choices import ApprovalAction
from reserves.models import ApprovalRequest
from reserves.principals import principal_for_user
from reserves.services import approval_request_create, approval_sign
from tenants.models import Merchant

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_two_approvers_who_can_release_together(settings, tmp_path, capsys) -> None:
    settings.DEV_MODE, settings.VAR_DIR = True, tmp_path

    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    assert capsys.readouterr().out == first

    passwords = json.loads((tmp_path / "demo_approvers.json").read_text())
    users = get_user_model().objects.filter(username__in=["bank-approver", "acquirer-approver"])
    assert {u.username for u in users} == set(passwords)
    for user in users:
        assert f"approver {user.username} / {passwords[user.username]}" in first
        assert user.check_password(passwords[user.username]) and user.is_staff and not user.is_superuser
    demo_admin = get_user_model().objects.get(username="demo")
    merchant, now = Merchant.objects.get(reference="demo-merchant"), timezone.now()
    request = approval_request_create(
        action=ApprovalAction.RELEASE_RESERVE, merchant=merchant, payload={"amount": "1.00", "currency": "USD",
        "reason": "demo"}, principal=principal_for_user(demo_admin), actor=Actor.for_user(demo_admin), now=now,
    )  # fmt: skip

    for user in users:
        approval_sign(approval_id=request.pk, principal=principal_for_user(user), payload_hash=request.payload_hash,
                      decision="approve", actor=Actor.for_user(user), now=now)  # fmt: skip

    assert ApprovalRequest.objects.get(pk=request.pk).status == "executed"

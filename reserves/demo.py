"""Demo reserves for `make run`: a rolling policy on the demo merchant, yesterday's engine run, two
approver partners (the demo bank and a demo acquirer) serving it, and one approver login for each, so
a first run can walk a release through both signatures."""

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.context import Actor
from common.money import to_decimal_string
from common.roles import PARTNER_APPROVER
from common.staff_auth import totp_secret_base32
from reserves.choices import PolicyKind
from reserves.models import PartnerMember, ReservePolicy
from reserves.selectors import reserve_figures
from reserves.services import reserve_engine_run, reserve_policy_create_initial
from tenants.models import Merchant, Partner, PartnerKind


def seed_demo_reserves() -> list[str]:
    merchant = Merchant.objects.filter(reference="demo-merchant").first()
    if merchant is None:
        return []
    actor, now = Actor.system("seed_demo"), timezone.now()
    acquirer, _ = Partner.objects.get_or_create(
        reference="demo-acquirer", defaults={"name": "Demo Acquirer", "kind": PartnerKind.ACQUIRER}
    )
    acquirer.merchants.add(merchant)
    if not ReservePolicy.objects.filter(merchant=merchant).exists():
        reserve_policy_create_initial(merchant=merchant, kind=PolicyKind.ROLLING, currency_code="USD",
                                      percent_bp=1000, hold_days=90, actor=actor, occurred_at=now,
                                      effective_date=now.date() - timedelta(days=2))  # fmt: skip
    # The engine runs for the day that ended (as the nightly beat does), never for today's partial volume.
    yesterday = now.date() - timedelta(days=1)
    reserve_engine_run(run_date=yesterday, actor=actor, now=now, merchant_ids=[merchant.pk])
    figures = reserve_figures(merchant_id=merchant.pk, on=now.date())
    held = to_decimal_string(figures.held, figures.currency_code)
    bank = Partner.objects.get(reference="demo-bank")
    approvers = [_demo_approver("bank-approver", bank), _demo_approver("acquirer-approver", acquirer)]
    return [
        f"Reserves: demo merchant on a 10% / 90-day rolling reserve, {held} {figures.currency_code} held; "
        "approvals at /admin/reserves/approvalrequest/pending/",
        *(f"          approver {name} / {password} (partner {partner}), TOTP secret {secret}"
          for name, password, partner, secret in approvers),
    ]  # fmt: skip


def _demo_approver(username: str, partner: Partner) -> tuple[str, str, str, str]:
    """A partner approver with a password kept in var/ (printed on every start) and a TOTP device."""
    path = settings.VAR_DIR / "demo_approvers.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    User = get_user_model()  # noqa: N806
    user = User.objects.filter(username=username).first()
    if user is None or username not in stored:
        stored[username] = secrets.token_urlsafe(12) + "7a"  # letters and digits
        user = user or User(username=username, email=f"{username}@strongroom.invalid")
        user.is_staff = True
        user.set_password(stored[username])
        user.save()
        path.write_text(json.dumps(stored))
        path.chmod(0o600)
    user.groups.add(Group.objects.get_or_create(name=PARTNER_APPROVER)[0])
    PartnerMember.objects.get_or_create(user=user, defaults={"partner": partner})
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Demo authenticator", confirmed=True
    )
    return username, stored[username], partner.name, totp_secret_base32(device)

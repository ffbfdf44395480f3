"""Demo data for `make run`: idempotent, so every start can call it."""

import io
import json
import secrets

import qrcode
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.context import Actor
from common.api_clients import KNOWN_SCOPES, api_client_create
from common.demo import demo_steps
from common.models import ApiClient
from common.staff_auth import totp_secret_base32
from tenants.models import Merchant, Partner, PartnerKind

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create the demo staff user (once) and print its login. Dev mode only."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where the server will listen.")

    def handle(self, *args, url: str, **options) -> None:
        if not settings.DEV_MODE:
            raise CommandError("seed_demo only runs in dev mode (STRONGROOM_DEV=1): it prints a password.")
        login = self._demo_login()
        secret, uri = self._demo_totp()
        api = self._demo_api_client()
        extra = [line for step in demo_steps() for line in step()]
        self.stdout.write(
            self.style.SUCCESS("\nStrongroom is starting (dev mode, embedded defaults).\n")
            + f"  Admin:    {url}/admin/\n"
            + f"  API docs: {url}/api/docs/\n"
            + f"  Health:   {url}/health/ready\n"
            + f"  Login:    {login['username']} / {login['password']}\n"
            + f"  2FA:      add this TOTP secret to any authenticator app: {secret}\n"
            + "            (or scan the QR code below), then log in with the 6-digit code it shows.\n"
        )
        qr = qrcode.QRCode(border=1)
        qr.add_data(uri)
        drawing = io.StringIO()  # OutputWrapper would end every character with a newline
        qr.print_ascii(out=drawing, invert=True)
        self.stdout.write(drawing.getvalue())
        self.stdout.write(
            f"  API:      platform client {api['client_id']} / {api['client_secret']}\n"
            f"            curl -s -X POST {url}/api/v1/auth/token -d grant_type=client_credentials "
            f"-d client_id={api['client_id']} -d client_secret={api['client_secret']}\n"
        )
        for line in extra:
            self.stdout.write(f"  {line}\n")

    def _demo_api_client(self) -> dict[str, str]:
        """A platform API client with every scope; its secret is kept in var/ so it can be printed again."""
        path = settings.VAR_DIR / "demo_api_client.json"
        Merchant.objects.get_or_create(reference="demo-merchant", defaults={"name": "Demo Merchant GmbH"})
        partner, _ = Partner.objects.get_or_create(
            reference="demo-bank", defaults={"name": "Demo Sponsor Bank", "kind": PartnerKind.SPONSOR_BANK}
        )
        partner.merchants.add(*Merchant.objects.filter(reference="demo-merchant"))
        stored = json.loads(path.read_text()) if path.exists() else None
        if stored and ApiClient.objects.filter(client_id=stored["client_id"], is_active=True).exists():
            return stored
        issued = api_client_create(name="Demo platform", scopes=sorted(KNOWN_SCOPES), actor=Actor.system("seed_demo"),
                                   platform=True)  # fmt: skip
        path.write_text(json.dumps(issued.as_dict()))
        path.chmod(0o600)
        return issued.as_dict()

    def _demo_totp(self) -> tuple[str, str]:
        """The demo user's authenticator: one confirmed TOTP device, the same on every run."""
        user = get_user_model().objects.get(username=DEMO_USERNAME)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
        return totp_secret_base32(device), device.config_url

    def _demo_login(self) -> dict[str, str]:
        """The demo password lives in var/ (git-ignored) so it can be printed again on every start."""
        path = settings.VAR_DIR / "demo_login.json"
        User = get_user_model()  # noqa: N806
        login = json.loads(path.read_text()) if path.exists() else None
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None or login is None:
            login = {"username": DEMO_USERNAME, "password": secrets.token_urlsafe(12) + "7a"}  # letters and digits
            user = user or User(username=DEMO_USERNAME, email="demo@strongroom.invalid")
            user.is_staff = True
            user.is_superuser = True
            user.set_password(login["password"])
            user.save()
            path.write_text(json.dumps(login))
            path.chmod(0o600)
        return login

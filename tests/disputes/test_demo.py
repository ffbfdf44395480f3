"""`make run`'s demo disputes: opened once, against the demo captures, with the queue's urgency spread."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from disputes.models import Dispute

pytestmark = pytest.mark.django_db


def test_seed_demo_opens_three_chargebacks_once(settings, tmp_path, capsys) -> None:
    settings.DEV_MODE, settings.VAR_DIR = True, tmp_path

    call_command("seed_demo")
    call_command("seed_demo")

    assert "Disputes: 3 demo chargebacks in the queue" in capsys.readouterr().out
    disputes = list(Dispute.objects.order_by("due_by"))
    assert [d.network_dispute_id for d in disputes] == ["DEMO-VISA-1", "DEMO-VISA-2", "DEMO-VISA-3"]
    hours_left = [(d.due_by - timezone.now()).total_seconds() / 3600 for d in disputes]
    assert hours_left[0] < 24 < hours_left[1] < 72 < hours_left[2]
    assert all(d.hold_entry_id and d.status == "needs_response" for d in disputes)

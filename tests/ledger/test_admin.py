import pytest
from django.urls import reverse

from ledger import services
from ledger.choices import EntryStatus
from ledger.models import JournalEntry, TransactionTemplate
from tests.conftest import verify_second_factor
from tests.ledger.conftest import NOW, events, refreshed

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_ledger(make_account, fund, actor):
    accounts = [make_account() for _ in range(5)]
    for account in accounts:
        fund(account, 1000)
    entries = [
        services.transfer_create(
            debit_account=accounts[i], credit_account=accounts[i + 1], amount=10, actor=actor, occurred_at=NOW
        )
        for i in range(4)
    ]
    holds = [
        services.transfer_pend(
            debit_account=accounts[i], credit_account=accounts[0], amount=5, actor=actor, occurred_at=NOW
        )
        for i in range(1, 4)
    ]
    return accounts, entries, holds


class TestChangelists:
    @pytest.mark.parametrize(
        "model", ["account", "journalentry", "pendingtransfer", "transactiontemplate", "ledgerverification"]
    )
    def test_list_pages_render_with_a_constant_number_of_queries(
        self, model, busy_ledger, admin_client, django_assert_max_num_queries, seeded_templates
    ) -> None:
        url = reverse(f"admin:ledger_{model}_changelist")

        with django_assert_max_num_queries(12):
            response = admin_client.get(url)

        assert response.status_code == 200

    def test_account_list_filters_and_search(self, busy_ledger, admin_client) -> None:
        accounts, _, _ = busy_ledger
        url = reverse("admin:ledger_account_changelist")

        assert admin_client.get(url, {"type__exact": "asset", "currency_code__exact": "USD"}).status_code == 200
        response = admin_client.get(url, {"q": accounts[0].account_number})
        assert response.status_code == 200 and accounts[0].account_number in response.content.decode()


class TestAccountPage:
    def test_shows_balances_and_the_statement(self, busy_ledger, admin_client) -> None:
        accounts, entries, _ = busy_ledger

        response = admin_client.get(reverse("admin:ledger_account_change", args=[accounts[1].pk]))

        html = response.content.decode()
        assert response.status_code == 200
        assert "statement" in html and str(entries[0].pk)[:8] in html
        assert "-10.00 USD" in html  # an asset credited 1000 by funding, then +10 −10 by transfers

    def test_trial_balance_page_shows_each_currency_balanced(self, busy_ledger, admin_client) -> None:
        response = admin_client.get(reverse("admin:ledger_account_trial_balance"))

        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-currency="USD"' in html and 'data-net="0.00"' in html and "UNBALANCED" not in html


class TestEntryActions:
    def test_reverse_asks_for_a_reason_then_reverses_and_audits_it(self, busy_ledger, admin_client, admin_user) -> None:
        _, entries, _ = busy_ledger
        url = reverse("admin:ledger_journalentry_changelist")
        selection = {"action": "reverse_entries", "_selected_action": [str(entries[0].pk)]}

        confirm = admin_client.post(url, selection)
        assert confirm.status_code == 200 and b"reason" in confirm.content
        assert not JournalEntry.objects.filter(reversal_of=entries[0]).exists()

        done = admin_client.post(url, {**selection, "confirm": "yes", "reason": "posted to the wrong merchant"})

        assert done.status_code == 302
        reversal = JournalEntry.objects.get(reversal_of=entries[0])
        [event] = events("ledger.entry.reversed", object_id=str(reversal.pk))
        assert event.actor_label == admin_user.username and "posted to the wrong merchant" in event.data

    def test_a_refused_reversal_is_shown_as_a_message_not_a_500(self, busy_ledger, admin_client, actor) -> None:
        _, entries, _ = busy_ledger
        services.entry_reverse(entry=entries[0], actor=actor, occurred_at=NOW, reason="first")
        url = reverse("admin:ledger_journalentry_changelist")

        response = admin_client.post(
            url,
            {
                "action": "reverse_entries",
                "_selected_action": [str(entries[0].pk)],
                "confirm": "yes",
                "reason": "again",
            },
            follow=True,
        )

        assert response.status_code == 200
        assert "already_reversed" in response.content.decode()

    def test_entry_page_shows_read_only_lines(self, busy_ledger, admin_client) -> None:
        _, entries, _ = busy_ledger

        response = admin_client.get(reverse("admin:ledger_journalentry_change", args=[entries[0].pk]))

        html = response.content.decode()
        assert response.status_code == 200 and "0.10 USD" in html and "-9.90 USD" in html

    def test_operators_without_the_permission_do_not_get_the_reverse_action(
        self, busy_ledger, client, django_user_model
    ) -> None:
        from django.contrib.auth.models import Permission

        user = django_user_model.objects.create_user("viewer", password="x" * 12, is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="view_journalentry"))
        verify_second_factor(client, user)

        response = client.get(reverse("admin:ledger_journalentry_changelist"))

        assert response.status_code == 200 and "reverse_entries" not in response.content.decode()


class TestPendingTransferActions:
    def test_post_and_void_actions_go_through_the_services(self, busy_ledger, admin_client) -> None:
        accounts, _, holds = busy_ledger
        url = reverse("admin:ledger_pendingtransfer_changelist")

        admin_client.post(
            url,
            {
                "action": "post_transfers",
                "_selected_action": [str(holds[0].pk)],
                "confirm": "yes",
                "reason": "captured",
            },
        )
        admin_client.post(
            url,
            {
                "action": "void_transfers",
                "_selected_action": [str(holds[1].pk)],
                "confirm": "yes",
                "reason": "cancelled",
            },
        )

        assert JournalEntry.objects.get(pk=holds[0].pk).status == EntryStatus.POSTED
        assert JournalEntry.objects.get(pk=holds[1].pk).status == EntryStatus.VOIDED
        assert refreshed(accounts[1]).pending_debits == 0


class TestTemplateEditor:
    PARAMS = (
        '[{"name": "merchant", "type": "merchant"}, {"name": "currency", "type": "currency"},'
        ' {"name": "amount", "type": "amount"}]'
    )

    def test_adding_a_valid_template_stores_version_one(self, admin_client) -> None:
        lines = (
            '[{"side": "debit", "account": "merchant:{merchant}:payable:{currency}", "amount": "amount"},'
            ' {"side": "credit", "account": "merchant:{merchant}:reserve:{currency}", "amount": "amount"}]'
        )

        response = admin_client.post(
            reverse("admin:ledger_transactiontemplate_add"),
            {"name": "rolling_reserve", "description": "x", "params": self.PARAMS, "lines": lines, "is_active": "on"},
        )

        assert response.status_code == 302
        template = TransactionTemplate.objects.get(name="rolling_reserve")
        assert template.version == 1
        assert len(events("ledger.template.created", object_id=str(template.pk))) == 1

    def test_an_unbalanced_template_is_refused_with_the_reason(self, admin_client) -> None:
        lines = (
            '[{"side": "debit", "account": "merchant:{merchant}:payable:{currency}", "amount": "amount"},'
            ' {"side": "credit", "account": "merchant:{merchant}:reserve:{currency}", "amount": "amount + 1"}]'
        )

        response = admin_client.post(
            reverse("admin:ledger_transactiontemplate_add"),
            {"name": "broken", "params": self.PARAMS, "lines": lines, "is_active": "on"},
        )

        assert response.status_code == 200 and "differ" in response.content.decode()
        assert not TransactionTemplate.objects.filter(name="broken").exists()

    def test_editing_lines_saves_a_new_version(self, seeded_templates, admin_client) -> None:
        template = TransactionTemplate.objects.get(name="reserve_hold", version=1)
        import json

        lines = json.dumps([{**template.lines[0], "amount": "amount"}, {**template.lines[1], "amount": "amount"}])
        lines = lines.replace(":reserve:", ":dispute_hold:")

        response = admin_client.post(
            reverse("admin:ledger_transactiontemplate_change", args=[template.pk]),
            {
                "description": template.description,
                "params": json.dumps(template.params),
                "lines": lines,
                "is_active": "on",
            },
        )

        assert response.status_code == 302
        assert list(
            TransactionTemplate.objects.filter(name="reserve_hold")
            .order_by("version")
            .values_list("version", flat=True)
        ) == [1, 2]
        assert TransactionTemplate.objects.get(name="reserve_hold", version=1).lines == template.lines


class TestDashboard:
    def test_the_home_page_shows_the_ledger_tile(self, busy_ledger, admin_client) -> None:
        services.ledger_verify()

        response = admin_client.get("/admin/")

        assert response.status_code == 200 and "Ledger" in response.content.decode()

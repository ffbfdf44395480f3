import pytest

from ledger import services, template_engine
from ledger.errors import InvalidTemplate, InvalidTemplateParams, TemplateNotFound
from ledger.models import Account, JournalLine, TransactionTemplate
from tests.ledger.conftest import NOW, events

pytestmark = pytest.mark.django_db

SEEDED = {
    "card_capture", "card_refund", "merchant_payout", "dispute_open_hold", "dispute_fee", "dispute_won_release",
    "dispute_lost_to_issuer", "issuer_settlement_pay", "reserve_hold", "reserve_release", "fee_collect",
    "merchant_credit",
}  # fmt: skip


def balances(merchant_id: int) -> dict[str, int]:
    accounts = Account.objects.filter(address__startswith=f"merchant:{merchant_id}:") | Account.objects.filter(
        address__startswith="platform:"
    )
    return {a.address: a.posted_balance for a in accounts if a.posted_balance}


class TestSeededTemplates:
    def test_every_seeded_template_is_valid(self, seeded_templates) -> None:
        templates = TransactionTemplate.objects.filter(version=1, name__in=SEEDED)

        assert set(templates.values_list("name", flat=True)) == SEEDED
        for template in templates:
            template_engine.validate_template(params=template.params, lines=template.lines)

    def test_card_capture_then_dispute_lifecycle_posts_to_the_roles(self, seeded_templates, merchant, actor) -> None:
        m = merchant.pk
        post = lambda name, **params: services.template_post(  # noqa: E731
            name=name, params={"merchant": m, "currency": "USD", **params}, actor=actor, occurred_at=NOW
        )
        capture = post("card_capture", amount=10_000, fee=290)
        post("dispute_open_hold", amount=2_500)
        post("dispute_fee", fee=1_500)
        post("dispute_lost_to_issuer", amount=2_500)

        assert (capture.template_name, capture.template_version) == ("card_capture", 1)
        assert balances(m) == {
            "platform:settlement:USD": 10_000,
            "platform:fee_revenue:USD": 1_790,
            "platform:issuer_settlement:USD": 2_500,
            f"merchant:{m}:payable:USD": 7_210,
            f"merchant:{m}:fees_receivable:USD": 1_500,
        }
        assert len(events("ledger.entry.posted", object_id=str(capture.pk))) == 1

    def test_a_zero_amount_line_is_left_out(self, seeded_templates, merchant, actor) -> None:
        entry = services.template_post(
            name="card_capture", params={"merchant": merchant.pk, "currency": "USD", "amount": 500, "fee": 0},
            actor=actor, occurred_at=NOW,
        )  # fmt: skip

        assert JournalLine.objects.filter(entry=entry).count() == 2

    def test_reserve_release_cannot_release_more_than_was_held(self, seeded_templates, merchant, actor) -> None:
        from ledger.errors import InsufficientFunds

        params = {"merchant": merchant.pk, "currency": "USD"}
        services.template_post(name="reserve_hold", params={**params, "amount": 300}, actor=actor, occurred_at=NOW)

        with pytest.raises(InsufficientFunds) as refused:
            services.template_post(
                name="reserve_release", params={**params, "amount": 301}, actor=actor, occurred_at=NOW
            )

        assert refused.value.fields["available"] == 300

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"currency": "USD", "amount": 1, "fee": 0}, "merchant"),
            ({"merchant": 1, "currency": "USD", "amount": "1.00", "fee": 0}, "amount"),
            ({"merchant": 1, "currency": "XXX", "amount": 1, "fee": 0}, "currency"),
            ({"merchant": 1, "currency": "USD", "amount": 1, "fee": 0, "extra": 1}, "extra"),
        ],
    )
    def test_refuses_params_that_do_not_fit(self, seeded_templates, actor, params, field) -> None:
        with pytest.raises(InvalidTemplateParams) as refused:
            services.template_post(name="card_capture", params=params, actor=actor, occurred_at=NOW)

        assert field in refused.value.fields

    def test_a_fee_above_the_amount_is_refused(self, seeded_templates, merchant, actor) -> None:
        with pytest.raises(InvalidTemplateParams):
            services.template_post(
                name="card_capture", params={"merchant": merchant.pk, "currency": "USD", "amount": 1, "fee": 2},
                actor=actor, occurred_at=NOW,
            )  # fmt: skip

    def test_unknown_template_is_404(self, actor) -> None:
        with pytest.raises(TemplateNotFound) as refused:
            services.template_post(name="nope", params={}, actor=actor, occurred_at=NOW)

        assert refused.value.status_code == 404


GOOD_LINES = [
    {"side": "debit", "account": "merchant:{merchant}:payable:{currency}", "amount": "amount"},
    {"side": "credit", "account": "merchant:{merchant}:reserve:{currency}", "amount": "amount"},
]
GOOD_PARAMS = [
    {"name": "merchant", "type": "merchant"},
    {"name": "currency", "type": "currency"},
    {"name": "amount", "type": "amount"},
]


class TestTemplateCreate:
    def test_stores_the_next_version_and_posting_uses_the_newest_active(
        self, seeded_templates, merchant, actor
    ) -> None:
        lines = [dict(GOOD_LINES[0]), {**GOOD_LINES[1], "account": "merchant:{merchant}:dispute_hold:{currency}"}]

        v2 = services.template_create(
            name="reserve_hold", params=GOOD_PARAMS, lines=lines, actor=actor, occurred_at=NOW
        )
        entry = services.template_post(
            name="reserve_hold",
            params={"merchant": merchant.pk, "currency": "USD", "amount": 5},
            actor=actor,
            occurred_at=NOW,
        )

        assert v2.version == 2
        assert entry.template_version == 2
        assert Account.objects.get(address=f"merchant:{merchant.pk}:dispute_hold:USD").posted_balance == 5
        assert len(events("ledger.template.created", object_id=str(v2.pk))) == 1

    @pytest.mark.parametrize(
        ("lines", "message"),
        [
            ([GOOD_LINES[0], {**GOOD_LINES[1], "amount": "amount + 1"}], "differ"),
            ([GOOD_LINES[0], {**GOOD_LINES[1], "amount": "__import__('os')"}], "cannot read"),
            ([GOOD_LINES[0], {**GOOD_LINES[1], "amount": "fee"}], "not a param"),
            ([GOOD_LINES[0], {**GOOD_LINES[1], "account": "merchant:{merchant}:vault:{currency}"}], "no role"),
            (
                [GOOD_LINES[0], {**GOOD_LINES[1], "account": "merchant:{merchant.__class__}:reserve:{currency}"}],
                "merchant",
            ),
            ([GOOD_LINES[0]], "at least two"),
        ],
    )
    def test_refuses_invalid_templates(self, actor, lines, message) -> None:
        with pytest.raises(InvalidTemplate) as refused:
            services.template_create(name="bad", params=GOOD_PARAMS, lines=lines, actor=actor, occurred_at=NOW)

        assert message in refused.value.message
        assert not TransactionTemplate.objects.filter(name="bad").exists()

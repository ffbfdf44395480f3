from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.money import ISO_4217_EXPONENTS, InvalidAmount, UnknownCurrency, allocate, to_decimal_string, to_minor


class TestParsing:
    @pytest.mark.parametrize(
        ("amount", "currency", "minor"),
        [("100.00", "USD", 10000), ("0.01", "USD", 1), ("5", "JPY", 5), ("1.234", "KWD", 1234), ("-2.5", "EUR", -250)],
    )
    def test_decimal_strings_become_minor_units(self, amount: str, currency: str, minor: int) -> None:
        assert to_minor(amount, currency) == minor

    @pytest.mark.parametrize(("amount", "currency"), [("1.001", "USD"), ("1.5", "JPY"), ("0.0001", "KWD")])
    def test_excess_precision_is_refused_not_rounded(self, amount: str, currency: str) -> None:
        with pytest.raises(InvalidAmount, match="decimal place"):
            to_minor(amount, currency)

    @pytest.mark.parametrize("amount", [1.5, "1e3", "NaN", "Infinity", " ", "1,00", "0x10", True])
    def test_floats_and_non_decimals_are_refused(self, amount: object) -> None:
        with pytest.raises(InvalidAmount):
            to_minor(amount, "USD")  # type: ignore[arg-type]

    def test_long_amounts_are_never_rounded(self) -> None:
        """28 significant digits is the default decimal precision; a longer amount must not lose its tail."""
        assert to_minor("92233720368547758.07", "USD") == 2**63 - 1
        with pytest.raises(InvalidAmount, match="decimal place"):
            to_minor("1234567890123456789012345678.001", "USD")

    @pytest.mark.parametrize("amount", ["92233720368547758.08", "9" * 30 + ".00", "-92233720368547758.08"])
    def test_amounts_beyond_the_databases_bigint_are_refused(self, amount: str) -> None:
        with pytest.raises(InvalidAmount, match="larger than any amount"):
            to_minor(amount, "USD")

    def test_unknown_currency_is_refused(self) -> None:
        with pytest.raises(UnknownCurrency):
            to_minor("1.00", "XXX")

    @given(
        minor=st.integers(min_value=-(10**15), max_value=10**15), currency=st.sampled_from(sorted(ISO_4217_EXPONENTS))
    )
    def test_rendering_and_parsing_round_trip(self, minor: int, currency: str) -> None:
        text = to_decimal_string(minor, currency)

        assert to_minor(text, currency) == minor
        assert Decimal(text) == Decimal(minor).scaleb(-ISO_4217_EXPONENTS[currency])


class TestAllocate:
    def test_a_third_each_gives_the_cent_to_the_first(self) -> None:
        assert allocate(100, [1, 1, 1]) == [34, 33, 33]

    @given(
        total=st.integers(min_value=0, max_value=10**12),
        weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(lambda w: sum(w)),
    )
    def test_parts_always_sum_to_the_whole_and_stay_within_one_unit(self, total: int, weights: list[int]) -> None:
        parts = allocate(total, weights)

        assert sum(parts) == total
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - total * weight / sum(weights)) < 1

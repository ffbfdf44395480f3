from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.logging import luhn_valid
from tests.vault.factories import AMEX, PAN, VALID_PANS
from vault.choices import CardBrand
from vault.errors import CardExpired, InvalidCard
from vault.validation import card_bin, detect_brand, validate_card, validate_pan

TODAY = date(2026, 11, 22)
VALID_TABLE = [(brand, pan) for brand, pans in VALID_PANS.items() for pan in pans]


def _luhn_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


class TestPanValidation:
    @pytest.mark.parametrize(("brand", "pan"), VALID_TABLE)
    def test_every_published_test_pan_is_accepted_with_its_brand(self, brand: str, pan: str) -> None:
        assert validate_pan(pan) == (pan, brand)

    @pytest.mark.parametrize("raw", ["4242 4242 4242 4242", "4242-4242-4242-4242", " 4242424242424242 "])
    def test_spaces_and_dashes_are_stripped(self, raw: str) -> None:
        assert validate_pan(raw) == (PAN, CardBrand.VISA)

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("4242424242424241", "checksum"),  # bad Luhn
            ("378282246310006", "checksum"),
            ("42424242424242", "length"),  # 14-digit Visa
            ("55555555555544", "length"),  # 14-digit Mastercard
            ("3782822463100", "length"),  # 13-digit Amex
            ("12345678901", "length"),  # too short for any card
            ("42424242424242424242", "length"),  # 20 digits
            ("9999999999999995", "brand"),  # unknown prefix
            ("7000000000000005", "brand"),
            ("2200000000000004", "brand"),  # Mir is not supported
            ("4242x42424242424", "format"),
            ("４２４２４２４２４２４２４２４２", "format"),  # full-width digits
            ("", "required"),
        ],
    )
    def test_invalid_numbers_are_refused_naming_the_field(self, raw: str, reason: str) -> None:
        with pytest.raises(InvalidCard) as caught:
            validate_pan(raw)

        assert caught.value.code == "invalid_card"
        assert caught.value.status_code == 400
        assert caught.value.fields == {"number": [reason]}

    @pytest.mark.parametrize("pan", ["4242424242424241", "9999999999999995", "42424242424242"])
    def test_error_messages_never_echo_the_number(self, pan: str) -> None:
        with pytest.raises(InvalidCard) as caught:
            validate_pan(pan)

        text = f"{caught.value.message} {caught.value.fields} {caught.value!r}"
        assert pan not in text
        assert pan[-4:] not in text

    @pytest.mark.parametrize(
        ("prefix", "brand"),
        [
            ("2221", CardBrand.MASTERCARD),
            ("2720", CardBrand.MASTERCARD),
            ("6011", CardBrand.DISCOVER),
            ("6221", CardBrand.UNIONPAY),
            ("3095", CardBrand.DINERS),
            ("3528", CardBrand.JCB),
            ("3589", CardBrand.JCB),
            ("3590", None),
            ("2721", None),
        ],
    )
    def test_brand_is_taken_from_the_most_specific_prefix(self, prefix: str, brand: str | None) -> None:
        assert detect_brand(prefix + "000000000000") == brand

    @pytest.mark.parametrize(("pan", "expected"), [(PAN, "42424242"), (AMEX, "378282"), ("36227206271667", "362272")])
    def test_bin_is_eight_digits_for_16_plus_digit_pans_else_six(self, pan: str, expected: str) -> None:
        assert card_bin(pan) == expected

    @given(
        brand_prefix=st.sampled_from(
            [("4", 16), ("51", 16), ("2223", 16), ("34", 15), ("6011", 16), ("3530", 16), ("62", 19)]
        ),
        digits=st.text(alphabet="0123456789", min_size=18, max_size=18),
    )
    def test_any_luhn_valid_number_in_a_known_range_is_accepted(
        self, brand_prefix: tuple[str, int], digits: str
    ) -> None:
        prefix, length = brand_prefix
        pan = _luhn_complete((prefix + digits)[: length - 1])

        number, brand = validate_pan(pan)

        assert number == pan
        assert brand == detect_brand(pan)


class TestExpiryCardholderCvv:
    def _card(self, **overrides: object) -> object:
        fields = {"number": PAN, "expiry": "12/30", "cardholder": "Ada Lovelace", "cvv": "123", "today": TODAY}
        return validate_card(**{**fields, **overrides})

    @pytest.mark.parametrize(
        ("expiry", "month", "year"), [("11/26", 11, 2026), ("1/27", 1, 2027), ("12/2030", 12, 2030)]
    )
    def test_expiry_mm_yy_is_parsed_and_the_current_month_is_still_valid(
        self, expiry: str, month: int, year: int
    ) -> None:
        card = self._card(expiry=expiry)

        assert (card.exp_month, card.exp_year) == (month, year)

    def test_last_month_is_expired(self) -> None:
        with pytest.raises(CardExpired) as caught:
            self._card(expiry="10/26")

        assert caught.value.code == "card_expired"
        assert caught.value.fields == {"expiry": ["expired"]}

    def test_expiry_is_judged_against_the_injected_today(self) -> None:
        assert self._card(expiry="12/26", today=date(2026, 12, 31)).exp_month == 12
        with pytest.raises(CardExpired):
            self._card(expiry="12/26", today=date(2027, 1, 1))

    @pytest.mark.parametrize(
        ("expiry", "reason"),
        [
            ("13/30", "month"),
            ("00/30", "month"),
            ("1230", "format"),
            ("12/3", "format"),
            (None, "format"),
            ("12/99", "too_far"),
        ],
    )
    def test_malformed_expiry_is_refused(self, expiry: object, reason: str) -> None:
        with pytest.raises(InvalidCard) as caught:
            self._card(expiry=expiry)

        assert caught.value.fields == {"expiry": [reason]}

    @pytest.mark.parametrize("name", ["Ada Lovelace", "José Álvarez-O'Brien", "Dr. J. Smith, Jr", "  Ada   Lovelace "])
    def test_real_names_are_accepted_with_whitespace_collapsed(self, name: str) -> None:
        assert self._card(cardholder=name).cardholder == " ".join(name.split())

    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("A", "length"),
            ("x" * 65, "length"),
            ("Ada 4242", "characters"),
            ("<script>", "characters"),
            ("---", "characters"),
        ],
    )
    def test_bad_names_are_refused_without_echo(self, name: str, reason: str) -> None:
        with pytest.raises(InvalidCard) as caught:
            self._card(cardholder=name)

        assert caught.value.fields == {"cardholder": [reason]}
        assert name not in caught.value.message

    def test_cardholder_is_optional(self) -> None:
        assert self._card(cardholder="").cardholder == ""

    @pytest.mark.parametrize(
        ("number", "cvv", "ok"),
        [(PAN, "123", True), (PAN, "1234", False), (AMEX, "1234", True), (AMEX, "123", False), (PAN, "12a", False)],
    )
    def test_cvv_is_three_digits_or_four_for_amex(self, number: str, cvv: str, ok: bool) -> None:
        if ok:
            assert self._card(number=number, cvv=cvv).cvv == cvv
        else:
            with pytest.raises(InvalidCard) as caught:
                self._card(number=number, cvv=cvv)
            assert caught.value.fields == {"cvv": ["format"]}
            assert cvv not in caught.value.message

    def test_the_validated_card_keeps_secrets_out_of_its_repr(self) -> None:
        text = repr(self._card())

        assert PAN not in text
        assert "cvv" not in text
        assert "Lovelace" not in text

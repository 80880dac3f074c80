"""SNILS: the control number, and the keyed hash that is the only form in which it is kept."""

import pytest
from django.test import override_settings

from wagtail_iom.core.validators import (
    is_valid_snils,
    normalise_snils,
    snils_control_number,
    snils_digest,
)


@pytest.mark.parametrize(
    "snils",
    [
        "112-233-445 95",  # sum 95 < 100: the sum itself
        "123-456-789 64",  # sum 165 > 101: 165 mod 101 = 64
        "12345678964",
        "100-000-001 10",  # sum 10
        "111-111-111 45",
    ],
)
def test_valid(snils):
    assert is_valid_snils(snils)


@pytest.mark.parametrize(
    "snils",
    [
        "112-233-445 96",  # one off
        "123-456-789 65",
        "1234567896",  # ten digits
        "123456789640",  # twelve
        "123-456-789 6a",
        "",
        "SNILS 12345678964",
    ],
)
def test_invalid(snils):
    assert not is_valid_snils(snils)


def test_sums_of_100_and_101_give_00_and_a_remainder_of_100_gives_00():
    # 9*9 + 8*2 + 1*3 = 100; 9*9 + 8*2 + 2*2 = 101
    assert snils_control_number("920000003") == 0
    assert snils_control_number("920000020") == 0
    # A sum of 201 is 100 modulo 101: 00 as well (9*9 + 8*9 + 7*4 + 6*0 + 5*4 = 201).
    assert sum(int(d) * w for d, w in zip("994040000", range(9, 0, -1), strict=True)) == 201
    assert snils_control_number("994040000") == 0
    assert is_valid_snils("994-040-000 00")
    assert not is_valid_snils("994-040-000 01")
    # Above 101 otherwise: the remainder.
    assert snils_control_number("999999999") == 405 % 101


def test_normalise():
    assert normalise_snils(" 123-456-789 64 ") == "12345678964"
    assert normalise_snils("123.456.789 64") == ""


def test_digest_is_keyed_and_never_the_number():
    digest = snils_digest("123-456-789 64")
    assert digest == snils_digest("12345678964")
    assert len(digest) == 64
    assert "12345678964" not in digest
    assert snils_digest("12345678964", key="another") != digest
    with override_settings(SECRET_KEY="a different secret key for this test only"):
        assert snils_digest("12345678964") != digest

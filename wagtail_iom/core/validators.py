"""Validators for Russian identifiers used in the directories."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def inn_check_digit(first_nine: str) -> int:
    """The control digit of an organisation's ten-digit INN."""
    return sum(int(d) * w for d, w in zip(first_nine, _INN_WEIGHTS, strict=True)) % 11 % 10


def validate_organisation_inn(value: str) -> None:
    """An organisation's INN (ИНН юридического лица): ten digits with a valid control digit."""
    if not value.isdigit() or len(value) != 10:
        raise ValidationError(_("An organisation's INN has exactly 10 digits."), code="inn_length")
    if inn_check_digit(value[:9]) != int(value[9]):
        raise ValidationError(
            _("This INN has a wrong control digit: check it for a typo."), code="inn_checksum"
        )


def validate_oktmo(value: str) -> None:
    """An OKTMO code of a municipality: 8 or 11 digits."""
    if not value.isdigit() or len(value) not in (8, 11):
        raise ValidationError(_("An OKTMO code has 8 or 11 digits."), code="oktmo")


# SNILS (СНИЛС): a person's insurance number, 11 digits, "123-456-789 01". It is personal
# data: the package stores only a keyed hash of it (:func:`snils_digest`), to find the same
# person again, and never the number itself.

SNILS_HASH_SALT = "wagtail_iom.snils"


def normalise_snils(value: str) -> str:
    """The digits of a SNILS as typed ("123-456-789 01", "12345678901"), or "" when the text
    holds anything but digits, spaces and dashes."""
    text = (value or "").strip()
    if not text or any(not (ch.isdigit() or ch in " -\u00a0") for ch in text):
        return ""
    return "".join(ch for ch in text if ch.isdigit())


def snils_control_number(first_nine: str) -> int:
    """The control number (the last two digits) of a SNILS from its first nine digits.

    Weights 9..1 over the nine digits; a sum below 100 is the control number, 100 and 101
    give 00, a larger sum is taken modulo 101 (and 100 again gives 00).
    """
    total = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    total %= 101
    return 0 if total == 100 else total


def is_valid_snils(value: str) -> bool:
    """Eleven digits whose last two are the control number of the first nine."""
    digits = normalise_snils(value)
    return len(digits) == 11 and snils_control_number(digits[:9]) == int(digits[9:])


def snils_digest(value: str, key=None) -> str:
    """The keyed hash (HMAC-SHA256, hex) of a SNILS, the only form in which it is stored.

    ``key`` is the secret: the ``PERSONAL_ID_HASH_KEY`` of ``WAGTAIL_IOM`` when the project
    sets one (it must then never change), else one derived from ``SECRET_KEY``.
    """
    from django.utils.crypto import salted_hmac

    digits = normalise_snils(value)
    return salted_hmac(SNILS_HASH_SALT, digits, secret=key, algorithm="sha256").hexdigest()

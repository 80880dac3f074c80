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

"""The timezones of Russia's regions, named as people say them, for event pages."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wagtail_iom.conf import iom_settings

RUSSIAN_TIMEZONES = {
    "Europe/Kaliningrad": _("Kaliningrad time (MSK−1)"),
    "Europe/Moscow": _("Moscow time"),
    "Europe/Samara": _("Samara time (MSK+1)"),
    "Asia/Yekaterinburg": _("Yekaterinburg time (MSK+2)"),
    "Asia/Omsk": _("Omsk time (MSK+3)"),
    "Asia/Krasnoyarsk": _("Krasnoyarsk time (MSK+4)"),
    "Asia/Novosibirsk": _("Novosibirsk time (MSK+4)"),
    "Asia/Irkutsk": _("Irkutsk time (MSK+5)"),
    "Asia/Yakutsk": _("Yakutsk time (MSK+6)"),
    "Asia/Vladivostok": _("Vladivostok time (MSK+7)"),
    "Asia/Magadan": _("Magadan time (MSK+8)"),
    "Asia/Kamchatka": _("Kamchatka time (MSK+9)"),
}


def timezone_label(name):
    return RUSSIAN_TIMEZONES.get(name, name)


def timezone_choices():
    """Russia's zones, plus the project's own zones when they are elsewhere."""
    choices = list(RUSSIAN_TIMEZONES.items())
    for extra in (iom_settings.EVENT_DEFAULT_TIMEZONE, settings.TIME_ZONE):
        if extra and extra not in RUSSIAN_TIMEZONES:
            choices.append((extra, extra))
    return choices

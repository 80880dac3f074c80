"""Template tags for institutes' own templates."""

from django import template
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from ..models import Competency, CompetencyGroup

register = template.Library()


@register.inclusion_tag("wagtail_iom/includes/competency_framework.html")
def competency_framework():
    """The competency framework as a list of groups with their competencies (two queries)."""
    groups = CompetencyGroup.objects.prefetch_related(
        Prefetch("competencies", queryset=Competency.objects.order_by("sort_order", "name"))
    )
    return {"groups": groups}


# Russian regions' timezones by the names people use for them.
_TIMEZONE_LABELS = {
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


@register.filter
def timezone_label(name):
    """A timezone as people say it: «калининградское время (МСК−1)»."""
    return _TIMEZONE_LABELS.get(name, name)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (None or "" removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"

"""Template tags for institutes' own templates."""

import datetime

from django import template
from django.db.models import Prefetch

from wagtail_iom.core import timezones
from wagtail_iom.directory.models import Competency, CompetencyGroup

register = template.Library()


@register.inclusion_tag("wagtail_iom/includes/competency_framework.html")
def competency_framework():
    """The competency framework as a list of groups with their competencies (two queries)."""
    groups = CompetencyGroup.objects.prefetch_related(
        Prefetch("competencies", queryset=Competency.objects.order_by("sort_order", "name"))
    )
    return {"groups": groups}


@register.filter
def iso_date(value):
    """A date kept as ISO text (``2026-12-05``, as JSON keeps it) as a date, for the ``date``
    filter; the text itself when it is not one."""
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


@register.filter
def timezone_label(name):
    """A timezone as people say it: «калининградское время (МСК−1)»."""
    return timezones.timezone_label(name)


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


@register.simple_tag(takes_context=True)
def consent_withdrawal(context):
    """The signed-in person's open withdrawal of consent, or None (the cabinet's banner)."""
    from wagtail_iom.privacy.withdrawal import open_withdrawal

    request = context.get("request")
    return open_withdrawal(getattr(request, "user", None))

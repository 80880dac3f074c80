"""Template tags for institutes' own templates."""

from django import template
from django.db.models import Prefetch

from ..models import Competency, CompetencyGroup

register = template.Library()


@register.inclusion_tag("wagtail_iom/includes/competency_framework.html")
def competency_framework():
    """The competency framework as a list of groups with their competencies (two queries)."""
    groups = CompetencyGroup.objects.prefetch_related(
        Prefetch("competencies", queryset=Competency.objects.order_by("sort_order", "name"))
    )
    return {"groups": groups}

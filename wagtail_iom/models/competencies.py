"""The competency framework: groups of competencies that diagnostics score and events target."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.search import index

_code_help = _("A short stable code, e.g. METH-1. Reports and imports refer to it.")


class CompetencyGroup(index.Indexed, models.Model):
    """A group of the framework: subject, methodical, psychological-pedagogical…"""

    code = models.SlugField(_("code"), max_length=32, unique=True, help_text=_code_help)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0, editable=False)

    sort_order_field = "sort_order"
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("competency group")
        verbose_name_plural = _("competency groups")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class Competency(index.Indexed, models.Model):
    """One competency of a group, with its code and what it means."""

    group = models.ForeignKey(
        CompetencyGroup,
        verbose_name=_("group"),
        on_delete=models.PROTECT,
        related_name="competencies",
    )
    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_code_help)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0, editable=False)

    sort_order_field = "sort_order"
    search_fields = [
        index.SearchField("name"),
        index.SearchField("code"),
        index.AutocompleteField("name"),
        index.FilterField("group"),
    ]

    class Meta:
        verbose_name = _("competency")
        verbose_name_plural = _("competencies")
        ordering = ["group__sort_order", "sort_order", "name"]

    def __str__(self):
        return f"{self.code} {self.name}"

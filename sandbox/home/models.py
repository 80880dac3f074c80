"""The demo institute's home page."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from wagtail_iom.models import CompetencyGroup, Municipality, School


class HomePage(Page):
    lead = models.TextField("подзаголовок", blank=True)
    body = RichTextField("текст", blank=True)

    content_panels = [*Page.content_panels, FieldPanel("lead"), FieldPanel("body")]

    max_count = 1

    class Meta:
        verbose_name = "главная страница"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["municipality_count"] = Municipality.objects.count()
        context["school_count"] = School.objects.count()
        context["competency_group_count"] = CompetencyGroup.objects.count()
        return context

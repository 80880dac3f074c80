"""Load the default competency framework (the groups of competencies of a teacher's
professional standard), named in the site's language."""

from django.conf import settings
from django.db import migrations
from django.utils import translation


def load_framework(apps, schema_editor):
    from wagtail_iom.directory.framework import load_default_framework

    with translation.override(settings.LANGUAGE_CODE):
        load_default_framework(
            apps.get_model("wagtail_iom", "CompetencyGroup"),
            apps.get_model("wagtail_iom", "Competency"),
        )


class Migration(migrations.Migration):
    dependencies = [("wagtail_iom", "0001_initial")]

    operations = [migrations.RunPython(load_framework, migrations.RunPython.noop)]

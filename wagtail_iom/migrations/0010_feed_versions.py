"""The feed versions move from Django's cache into the database (FeedVersion)."""

import datetime

from django.db import migrations, models


def create_versions(apps, schema_editor):
    # Started from the time in microseconds, not 0: a shared cache may still hold feeds cached
    # under the small numbers of an earlier database (wagtail_iom.events.calendar).
    FeedVersion = apps.get_model("wagtail_iom", "FeedVersion")
    now = datetime.datetime.now(tz=datetime.UTC)
    start = int(now.timestamp() * 1_000_000)
    for name in ("feeds", "seats"):
        FeedVersion.objects.get_or_create(name=name, defaults={"value": start, "changed_at": now})


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_iom", "0009_route_labels"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedVersion",
            fields=[
                (
                    "name",
                    models.CharField(max_length=16, primary_key=True, serialize=False),
                ),
                ("value", models.BigIntegerField()),
                ("changed_at", models.DateTimeField()),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.RunPython(create_versions, migrations.RunPython.noop),
    ]

"""Routes leave the search index: nothing searched it (the admin finds routes by the teacher's
name in the database), and every save of a route rewrote its entry and, on PostgreSQL, the
norms of the whole index. The entries routes left there (their goals) are deleted."""

from django.db import migrations


def delete_route_index_entries(apps, schema_editor):
    connection = schema_editor.connection
    if "wagtailsearch_indexentry" not in connection.introspection.table_names():
        return
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type = ContentType.objects.filter(app_label="wagtail_iom", model="route").first()
    if content_type is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM wagtailsearch_indexentry WHERE content_type_id = %s", [content_type.pk]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtail_iom", "0026_import_chunk_rows"),
    ]

    operations = [
        migrations.RunPython(delete_route_index_entries, migrations.RunPython.noop),
    ]

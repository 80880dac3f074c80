"""Celery tasks: thin wrappers over services that take primary keys and are safe to repeat."""

from celery import shared_task

from .services.directory_import import delete_stale_import_previews


@shared_task(name="wagtail_iom.clear_import_previews")
def clear_import_previews():
    """Periodic (daily): drop unapplied import previews past their retention period."""
    return delete_stale_import_previews()

"""Delete import previews (directory and diagnostics) that were never applied, and the
diagnostics results kept for invited teachers whose invitation expired unused (run daily)."""

from django.core.management.base import BaseCommand

from wagtail_iom.diagnostics.importing import delete_expired_pending_results, delete_stale_previews
from wagtail_iom.directory.importing import delete_stale_import_previews


class Command(BaseCommand):
    help = (
        "Delete import previews older than WAGTAIL_IOM['IMPORT_PREVIEW_RETENTION_DAYS'], and the "
        "diagnostics results kept for invitations that expired unused."
    )

    def handle(self, *args, **options):
        deleted = delete_stale_import_previews() + delete_stale_previews()
        self.stdout.write(f"Deleted {deleted} stale import preview(s).")
        expired = delete_expired_pending_results()
        self.stdout.write(f"Deleted {expired} result(s) kept for expired invitations.")

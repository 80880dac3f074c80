"""Depersonalise the data of the teachers whose withdrawal of consent is due, then remove what
has outlived its retention period (the daily Celery task ``wagtail_iom.anonymise_due_withdrawals``
does the same); ``--dry-run`` only lists them."""

from django.core.management.base import BaseCommand

from wagtail_iom.privacy import anonymisation, retention, withdrawal


class Command(BaseCommand):
    help = (
        "Depersonalise the data of every teacher whose withdrawal of consent is due; "
        "--dry-run lists the due withdrawals without changing anything."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the due withdrawals (by their number and account id) and change nothing.",
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            due = list(withdrawal.due())
            for row in due:
                self.stdout.write(
                    f"Withdrawal {row.pk}: account {row.user_id}, due since "
                    f"{row.anonymise_after:%Y-%m-%d %H:%M}"
                )
            self.stdout.write(f"{len(due)} withdrawal(s) due.")
            self.stdout.write(
                f"Past retention: {retention.expired_signups().count()} sign-up(s), "
                f"{retention.expired_accounts().count()} unconfirmed account(s)."
            )
            return
        result = anonymisation.run_due()
        for record in result.records:
            self.stdout.write(f"Depersonalised account {record.user_id}: {record.changes}")
        self.stdout.write(f"Depersonalised {len(result.records)} person(s).")
        record = retention.run()
        self.stdout.write(f"Past retention, removed: {record.changes if record else 'nothing'}.")
        if result.failed:
            self.stderr.write(
                f"Failed for withdrawal(s) {', '.join(map(str, result.failed))}; "
                "they stay due (see the log)."
            )

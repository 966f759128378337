"""``manage.py prune_api_logs``: the retention job on demand (the same service the daily task runs)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ecbridge.apilog.models import ApiCall
from ecbridge.apilog.services import expired_calls, prune


class Command(BaseCommand):
    help = (
        "Delete expired platform API-log rows: successes after APILOG_SUCCESS_RETENTION_DAYS, "
        "failures after APILOG_FAILURE_RETENTION_DAYS, in batches."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000, help="Rows deleted per statement.")
        parser.add_argument("--dry-run", action="store_true", help="Count the expired rows, delete nothing.")

    def handle(self, *args, batch_size, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if dry_run:
            expired = expired_calls()
            successes = expired.filter(outcome=ApiCall.Outcome.SUCCESS).count()
            failures = expired.filter(outcome=ApiCall.Outcome.FAILURE).count()
            self.stdout.write(
                f"{successes + failures} expired rows would be deleted "
                f"({successes} successes older than {settings.APILOG_SUCCESS_RETENTION_DAYS} days, "
                f"{failures} failures older than {settings.APILOG_FAILURE_RETENTION_DAYS} days)."
            )
            return
        deleted = prune(batch_size=batch_size)
        self.stdout.write(self.style.SUCCESS(f"{deleted} expired API-log rows deleted."))

from django.core.management.base import BaseCommand, CommandError

from ecbridge.tenancy.models import ApiToken, User


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, username, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        _token, raw = ApiToken.issue(user, name)
        self.stdout.write(raw)

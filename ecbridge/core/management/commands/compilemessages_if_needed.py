"""Compile translation catalogues when a .po is newer than its .mo (no gettext needed: the .mo
files are committed; this only refreshes them when gettext is installed)."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile .po files whose .mo is missing or older, when gettext is available."

    def handle(self, *args, **options):
        if shutil.which("msgfmt") is None:
            return
        for locale_dir in settings.LOCALE_PATHS:
            for po in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                mo = po.with_suffix(".mo")
                if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                    call_command("compilemessages", locale=[po.parent.parent.name], verbosity=0)

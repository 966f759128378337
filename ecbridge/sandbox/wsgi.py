"""Standalone sandbox server (make run): gunicorn ecbridge.sandbox.wsgi:application"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecbridge.settings")
django.setup()  # only for settings (the storage path); the sandbox uses no Django models

from django.conf import settings  # noqa: E402

from ecbridge.sandbox.app import create_app  # noqa: E402
from ecbridge.sandbox.store import SandboxStore  # noqa: E402

application = create_app(SandboxStore(settings.SANDBOX_DB), standalone=True)
# Shopee pushes to one app-level callback URL; until one is saved through the API or the console, use
# ours (the URL our webhook endpoint verifies signatures against).
application.config["SANDBOXES"]["shopee"].set_default_push_url(
    settings.PLATFORMS.get("shopee", {}).get("push_url", "")
)

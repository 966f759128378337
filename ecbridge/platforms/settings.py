"""Per-platform settings (hosts, app credentials) from django settings.PLATFORMS."""

from django.conf import settings


def platform_settings(code: str) -> dict:
    return dict(settings.PLATFORMS.get(code, {}))

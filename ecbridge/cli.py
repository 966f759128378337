"""`make run`: prepare the embedded defaults (database, static files, demo data), print how to
sign in, then start web + worker + sandbox together under honcho (Ctrl-C stops them all)."""

import io
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecbridge.settings")
    import django

    django.setup()


def run() -> None:
    # The sandbox runs on ECBRIDGE_SANDBOX_PORT: point the platforms (and the worker) at it.
    sandbox_port = os.environ.get("ECBRIDGE_SANDBOX_PORT", "8001")
    os.environ.setdefault("ECBRIDGE_SANDBOX_URL", f"http://127.0.0.1:{sandbox_port}")
    _django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("compilemessages_if_needed", verbosity=0)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    credentials = out.getvalue().rstrip()
    port = os.environ.get("ECBRIDGE_PORT", "8000")
    print(
        "\n"
        "  ecbridge is starting (web, worker, platform sandbox)\n"
        f"  Open            http://127.0.0.1:{port}/\n"
        f"  Sandbox console http://127.0.0.1:{sandbox_port}/sandbox/\n"
        f"  API docs        http://127.0.0.1:{port}/api/v1/docs\n"
        f"  Database        {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}\n\n"
        "  Demo logins (username / password):\n"
        f"{credentials}\n"
        "  Press Ctrl-C to stop everything.\n",
        flush=True,
    )
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    os.chdir(BASE_DIR)
    os.execvp(os.path.join(bin_dir, "honcho"), ["honcho", "start", "-f", str(BASE_DIR / "Procfile")])  # noqa: S606


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command != "run":
        sys.exit(f"unknown command {command!r}")
    run()

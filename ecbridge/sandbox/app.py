"""The sandbox WSGI application and its in-process transport for tests."""

from __future__ import annotations

import httpx
from django.utils.module_loading import import_string
from flask import Flask, render_template

from ecbridge.sandbox.base import PlatformSandbox, SandboxTimeout
from ecbridge.sandbox.store import SandboxStore

PLATFORM_SANDBOXES = (
    "ecbridge.sandbox.shopee.ShopeeSandbox",
    "ecbridge.sandbox.shopify.ShopifySandbox",
    "ecbridge.sandbox.momo.MomoSandbox",
)


def create_app(store: SandboxStore | None = None, *, standalone: bool = False) -> Flask:
    app = Flask(__name__, template_folder="templates", static_folder=None)
    # In-process (tests) an injected timeout must escape Flask so SandboxTransport can turn it into
    # httpx.ReadTimeout (Flask would otherwise answer 500); standalone, Flask answers 500 as usual.
    app.config["PROPAGATE_EXCEPTIONS"] = not standalone
    store = store or SandboxStore()
    app.config["SANDBOX_STORE"] = store
    sandboxes: dict[str, PlatformSandbox] = {}
    for path in PLATFORM_SANDBOXES:
        sandbox = import_string(path)(store, standalone=standalone)
        sandboxes[sandbox.code] = sandbox
        app.register_blueprint(sandbox.bp)
    app.config["SANDBOXES"] = sandboxes

    @app.get("/sandbox/")
    def console_page():
        return render_template("sandbox/console.html", sandboxes=sandboxes)

    @app.get("/sandbox/_health")
    def health():
        return {"ok": True}

    return app


class SandboxTransport(httpx.WSGITransport):
    """Mounts the sandbox in-process; an injected timeout becomes a real httpx timeout."""

    def __init__(self, app: Flask):
        super().__init__(app=app, raise_app_exceptions=True)
        self.flask_app = app

    @property
    def store(self) -> SandboxStore:
        return self.flask_app.config["SANDBOX_STORE"]

    def sandbox(self, code: str) -> PlatformSandbox:
        return self.flask_app.config["SANDBOXES"][code]

    def set_deliver(self, deliver) -> None:
        """Route every sandbox's webhook/push deliveries to ``deliver(url, headers, body) -> status``."""
        for sandbox in self.flask_app.config["SANDBOXES"].values():
            sandbox.deliver = deliver

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except SandboxTimeout:
            raise httpx.ReadTimeout("sandbox: injected timeout", request=request) from None

"""The sandbox WSGI application and its in-process transport for tests."""

from __future__ import annotations

import json
import re

import httpx
from django.utils.module_loading import import_string
from flask import Flask, abort, flash, redirect, render_template, request, url_for

from ecbridge.sandbox.base import ConsoleError, PlatformSandbox, SandboxTimeout
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

    app.secret_key = "ecbridge-sandbox-console"  # only signs the console's flash messages

    @app.get("/sandbox/")
    def console_page():
        return render_template("sandbox/console.html", sandboxes=sandboxes, pretty=_pretty)

    @app.post("/sandbox/_ui/<code>/<action>")
    def console_action(code: str, action: str):
        """The console page's forms: the same hooks as the JSON console API, for a person."""
        sandbox = sandboxes.get(code) or abort(404)
        form = request.form
        try:
            if action == "shop":
                fields = {k: form[k].strip() for k in ("name", "domain") if form.get(k, "").strip()}
                result = sandbox.create_shop(fields)
            elif action == "order":
                result = sandbox.create_order(
                    {
                        "shop": form["shop"],
                        "lines": parse_lines(form.get("lines", "")),
                        "shipping_code": form.get("shipping_code", ""),
                        "buyer": form.get("buyer", ""),
                    }
                )
            elif action == "product":
                result = sandbox.create_product(
                    {
                        "shop": form["shop"],
                        "sku": form["sku"],
                        "name": form.get("name") or form["sku"],
                        "barcode": form.get("barcode", ""),
                        "stock": int(form.get("stock") or 0),
                    }
                )
            elif action == "stock":
                result = sandbox.set_stock_console(
                    {"shop": form["shop"], "sku": form["sku"].strip(), "stock": int(form.get("stock") or 0)}
                )
            elif action == "stock_lock":
                result = sandbox.lock_stock_console(
                    {"shop": form["shop"], "sku": form["sku"].strip(), "reason": form.get("reason", "")}
                )
            elif action == "cancel":
                result = sandbox.cancel_order(form["order_id"].strip(), {})
            elif action == "faults":
                result = sandbox.set_faults({k: v for k, v in form.items() if v not in ("", None)})
            elif action == "reset_faults":
                result = sandbox.set_faults({})
            else:
                abort(404)
            flash(f"{sandbox.name}: {action} done: {json.dumps(result, ensure_ascii=False)[:300]}", "ok")
        except (ConsoleError, KeyError, ValueError) as exc:
            flash(f"{sandbox.name}: {action} failed: {exc}", "error")
        return redirect(url_for("console_page") + f"#{code}")

    @app.get("/sandbox/_health")
    def health():
        return {"ok": True}

    return app


LINE = re.compile(r"^\s*(?P<sku>[^\s×*]+)\s*(?:[x×*]\s*(?P<qty>\d+))?\s*$")


def parse_lines(text: str) -> list[dict]:
    """ "SKU-1 x 2" per line (quantity defaults to 1) → [{"sku": "SKU-1", "quantity": 2}]."""
    lines = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        match = LINE.match(raw)
        if not match:
            raise ValueError(f"cannot read line {raw!r}: write 'SKU x quantity'")
        lines.append({"sku": match["sku"], "quantity": int(match["qty"] or 1)})
    if not lines:
        raise ValueError("an order needs at least one line")
    return lines


def _pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


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

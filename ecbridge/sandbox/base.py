"""What every fake platform shares: the console API, fault injection and the call record.

A platform module subclasses PlatformSandbox, adds its real API routes in ``register_routes``
and implements the console hooks. It must verify signatures with its own code (never importing
ecbridge.platforms)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import httpx
from flask import Blueprint, Response, g, jsonify, request

from ecbridge.sandbox.store import SandboxStore


class SandboxTimeout(Exception):
    """Raised to simulate a request that never answers (the in-process transport turns it into
    httpx.ReadTimeout; the standalone server sleeps instead)."""


class ConsoleError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


FAULT_KEYS = {
    "error_rate": float,  # share of API calls answered with a 5xx
    "throttle_rate": float,  # share of API calls throttled
    "timeout_rate": float,  # share of API calls that never answer
    "malformed_rate": float,  # share of API calls answered with a broken body
    "latency_ms": int,  # added to every API call
    "fail_next": int,  # the next N API calls fail with a 5xx (deterministic)
    "throttle_next": int,  # the next N API calls are throttled
    "timeout_next": int,  # the next N API calls time out
    "malformed_next": int,  # the next N API calls get a malformed body
    "seed": int,
}


# (url, headers, body) -> HTTP status. Standalone: a real POST; tests plug in the Django test client.
Deliverer = Callable[[str, dict[str, str], bytes], int]


def http_deliver(url: str, headers: dict[str, str], body: bytes) -> int:
    return httpx.post(url, content=body, headers=headers, timeout=5.0).status_code


class PlatformSandbox:
    code: str = ""
    name: str = ""
    # endpoints (view function names) that faults never touch: consent pages and the like
    fault_exempt_endpoints: frozenset[str] = frozenset()

    def __init__(self, store: SandboxStore, *, standalone: bool = False):
        self.store = store
        self.standalone = standalone
        self.bp = Blueprint(self.code, __name__, url_prefix=f"/sandbox/{self.code}")
        self._random = random.Random(0)
        # Where webhook/push deliveries go; None records them without sending (in-process default).
        self.deliver: Deliverer | None = http_deliver if standalone else None
        self._register_console()
        self.register_routes(self.bp)
        self.bp.before_request(self._before)
        self.bp.after_request(self._after)

    # --- to implement ------------------------------------------------------------------------------
    def register_routes(self, bp: Blueprint) -> None:
        raise NotImplementedError

    def create_shop(self, body: dict) -> dict:
        raise NotImplementedError

    def create_product(self, body: dict) -> dict:
        raise ConsoleError("Products arrive with a later issue.", 501)

    def create_order(self, body: dict) -> dict:
        raise ConsoleError("Orders arrive with a later issue.", 501)

    def cancel_order(self, order_id: str, body: dict) -> dict:
        raise ConsoleError("Orders arrive with a later issue.", 501)

    def edit_order(self, order_id: str, body: dict) -> dict:
        raise ConsoleError("Orders arrive with a later issue.", 501)

    def set_stock_console(self, body: dict) -> dict:
        """{shop, sku, stock}: a seller changing stock in the platform's own admin."""
        raise ConsoleError("Stock arrives with a later issue.", 501)

    def lock_stock_console(self, body: dict) -> dict:
        """{shop, sku, reason}: stock writes for that SKU are refused per SKU with ``reason``
        (empty reason unlocks), so partial success can be shown."""
        raise ConsoleError("Stock arrives with a later issue.", 501)

    def state(self, shop: str | None) -> dict:
        """Everything the tests and the console want to see for one shop (or all)."""
        return {"shops": self.store.find(self.code, "shop")}

    def expire_tokens(self) -> None:
        """Make every issued access token expired now (platforms with tokens)."""

    def fault_response(self, kind: str) -> Response:
        """The platform's own shape for an injected fault: server_error, throttle, malformed."""
        if kind == "throttle":
            resp = jsonify({"error": "throttled"})
            resp.status_code = 429
            resp.headers["Retry-After"] = "1"
            return resp
        if kind == "malformed":
            return Response("{not json", status=200, mimetype="application/json")
        return Response("Internal Server Error", status=503)

    # --- shared machinery --------------------------------------------------------------------------
    def shops(self) -> list[dict]:
        return self.store.find(self.code, "shop")

    def faults(self) -> dict[str, Any]:
        return self.store.get(self.code, "faults", "current") or {}

    def set_faults(self, values: dict) -> dict:
        unknown = set(values) - set(FAULT_KEYS) - {"expire_tokens"}
        if unknown:
            raise ConsoleError(f"Unknown fault keys: {', '.join(sorted(unknown))}")
        faults = {}
        for key, cast in FAULT_KEYS.items():
            if values.get(key) not in (None, "", 0):
                try:
                    faults[key] = cast(values[key])
                except (TypeError, ValueError):
                    raise ConsoleError(f"{key} must be a number") from None
        if "seed" in faults:
            self._random.seed(faults["seed"])
        self.store.put(self.code, "faults", "current", faults)
        if values.get("expire_tokens"):
            self.expire_tokens()
        return faults

    def _take_fault(self) -> str | None:
        with self.store.tx():
            faults = self.faults()
            if not faults:
                return None
            for kind, counter in (
                ("server_error", "fail_next"),
                ("throttle", "throttle_next"),
                ("timeout", "timeout_next"),
                ("malformed", "malformed_next"),
            ):
                if faults.get(counter, 0) > 0:
                    faults[counter] -= 1
                    self.store.put(self.code, "faults", "current", faults)
                    return kind
            for kind, rate in (
                ("server_error", "error_rate"),
                ("throttle", "throttle_rate"),
                ("timeout", "timeout_rate"),
                ("malformed", "malformed_rate"),
            ):
                if faults.get(rate) and self._random.random() < faults[rate]:
                    return kind
        return None

    def _is_console(self) -> bool:
        return request.path.startswith(f"/sandbox/{self.code}/_console")

    def _before(self):
        g.sandbox_started = time.monotonic()
        if self._is_console() or (request.endpoint or "").split(".")[-1] in self.fault_exempt_endpoints:
            return None
        latency = self.faults().get("latency_ms")
        if latency:
            time.sleep(latency / 1000)
        kind = self._take_fault()
        g.sandbox_fault = kind
        if kind == "timeout":
            if self.standalone:
                time.sleep(float(self.faults().get("timeout_seconds", 65)))
            raise SandboxTimeout()
        if kind == "malformed":
            return None  # the handler runs; _after breaks its body
        if kind:
            return self.fault_response(kind)
        return None

    def _after(self, response: Response) -> Response:
        if self._is_console():
            return response
        if getattr(g, "sandbox_fault", None) == "malformed" and response.status_code < 300:
            response = self.fault_response("malformed")
        self.store.log_call(
            self.code,
            shop=getattr(g, "sandbox_shop", "") or "",
            method=request.method,
            path=request.path,
            operation=getattr(g, "sandbox_operation", "") or request.path.rsplit("/", 1)[-1],
            status=response.status_code,
        )
        return response

    # --- stock ledger (issue 4) ------------------------------------------------------------------------
    def record_stock_change(
        self,
        *,
        shop,
        sku: str,
        item_id,
        variant_id,
        before: int,
        after: int,
        source: str,
        detail: str = "",
    ) -> dict:
        """One row of the shop's stock ledger: every stock change with the call that made it
        (``source``: the API operation, e.g. "update_stock", "inventoryAdjustQuantities",
        "changeGoodsQty", or "console"/"order"). Tests and the console read it from state()."""
        entry = {
            "id": self.store.next_id(f"{self.code}:ledger"),
            "at": time.time(),
            "shop": str(shop),
            "sku": sku,
            "item_id": str(item_id),
            "variant_id": str(variant_id or ""),
            "before": int(before),
            "after": int(after),
            "delta": int(after) - int(before),
            "source": source,
            "detail": detail,
        }
        self.store.put(self.code, "ledger", entry["id"], entry, shop=shop, sort=entry["id"])
        return entry

    def stock_ledger(self, shop=None) -> list[dict]:
        return self.store.find(self.code, "ledger", shop=shop)

    # --- webhook / push delivery ---------------------------------------------------------------------
    def send_webhook(self, url: str, headers: dict[str, str], body: bytes, *, shop: str, topic: str) -> dict:
        """Deliver one notification to our endpoint (synchronously) and record it with its outcome,
        so tests and the console can see and redeliver it (platforms deliver at least once)."""
        delivery = {
            "id": self.store.next_id(f"{self.code}-delivery"),
            "url": url,
            "topic": topic,
            "shop": str(shop),
            "headers": headers,
            "body": body.decode(),
            "attempts": [],
        }
        self._attempt_delivery(delivery)
        self.store.put(self.code, "delivery", delivery["id"], delivery, shop=shop, sort=delivery["id"])
        return delivery

    def _attempt_delivery(self, delivery: dict) -> None:
        outcome: dict[str, Any] = {"at": time.time(), "status": None, "error": ""}
        if self.deliver is None:
            outcome["error"] = "no receiver configured"
        else:
            try:
                body = delivery["body"].encode()
                outcome["status"] = self.deliver(delivery["url"], delivery["headers"], body)
            except Exception as exc:  # the receiver being down is a normal outcome to record
                outcome["error"] = f"{exc.__class__.__name__}: {exc}"
        delivery["attempts"].append(outcome)

    def redeliver(self, delivery_id: str) -> dict:
        """Send a recorded delivery again, byte for byte (same delivery id)."""
        delivery = self.store.get(self.code, "delivery", delivery_id)
        if delivery is None:
            raise ConsoleError("No such delivery.", 404)
        self._attempt_delivery(delivery)
        shop = delivery.get("shop", "")
        self.store.put(self.code, "delivery", delivery_id, delivery, shop=shop, sort=float(delivery_id))
        return delivery

    def deliveries(self, shop: str | None = None) -> list[dict]:
        return self.store.find(self.code, "delivery", shop=shop)

    # --- console API ---------------------------------------------------------------------------------
    def _register_console(self) -> None:
        bp = self.bp

        def wrap(fn):
            def view(*args, **kwargs):
                try:
                    return jsonify(fn(*args, **kwargs))
                except ConsoleError as exc:
                    return jsonify({"error": str(exc)}), exc.status

            view.__name__ = f"console_{fn.__name__}"
            return view

        def body() -> dict:
            return request.get_json(silent=True) or request.form.to_dict() or {}

        def shops():
            return self.create_shop(body())

        def products():
            return self.create_product(body())

        def orders():
            return self.create_order(body())

        def stock():
            return self.set_stock_console(body())

        def stock_lock():
            return self.lock_stock_console(body())

        def cancel(order_id):
            return self.cancel_order(order_id, body())

        def edit(order_id):
            return self.edit_order(order_id, body())

        def state():
            shop = request.args.get("shop")
            data = self.state(shop)
            data["calls"] = self.store.calls(self.code, shop)
            data["faults"] = self.faults()
            data["deliveries"] = self.deliveries(shop)
            data["stock_ledger"] = self.stock_ledger(shop)
            return data

        def faults():
            return {"faults": self.set_faults(body())}

        def redeliver(delivery_id):
            return self.redeliver(delivery_id)

        def reset():
            self.store.reset(self.code)
            self._random.seed(0)
            return {"reset": True}

        bp.add_url_rule("/_console/shops", view_func=wrap(shops), methods=["POST"])
        bp.add_url_rule("/_console/products", view_func=wrap(products), methods=["POST"])
        bp.add_url_rule("/_console/orders", view_func=wrap(orders), methods=["POST"])
        bp.add_url_rule("/_console/stock", view_func=wrap(stock), methods=["POST"])
        bp.add_url_rule("/_console/stock_lock", view_func=wrap(stock_lock), methods=["POST"])
        bp.add_url_rule("/_console/orders/<order_id>/cancel", view_func=wrap(cancel), methods=["POST"])
        bp.add_url_rule("/_console/orders/<order_id>/edit", view_func=wrap(edit), methods=["POST"])
        bp.add_url_rule("/_console/state", view_func=wrap(state), methods=["GET"])
        bp.add_url_rule("/_console/faults", view_func=wrap(faults), methods=["POST"])
        bp.add_url_rule(
            "/_console/deliveries/<delivery_id>/redeliver", view_func=wrap(redeliver), methods=["POST"]
        )
        bp.add_url_rule("/_console/reset", view_func=wrap(reset), methods=["POST"])

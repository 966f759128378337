"""The sandbox's own Shopify HMACs (written apart from ecbridge.platforms on purpose, so a bug in
the client's signing cannot hide behind the same bug here)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


def _pair(key: str, value) -> str:
    if key.endswith("[]"):
        key = key[: -len("[]")]
        value = json.dumps([str(v) for v in (value if isinstance(value, list | tuple) else [value])])
    key = str(key).replace("%", "%25").replace("=", "%3D")
    value = str(value).replace("%", "%25")
    return f"{key}={value}".replace("&", "%26")


def query_hmac(secret: str, params: dict) -> str:
    """Hex HMAC-SHA256 over the sorted ``key=value`` pairs, ``hmac`` and ``signature`` left out."""
    message = "&".join(sorted(_pair(k, v) for k, v in params.items() if k not in ("hmac", "signature")))
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def body_hmac(secret: str, body: bytes) -> str:
    """What Shopify puts in ``X-Shopify-Hmac-Sha256`` for a webhook delivery."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))

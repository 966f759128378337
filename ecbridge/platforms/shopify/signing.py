"""Shopify's HMAC rules (reference/platforms-global.md §2.2 and §2.8). Pure functions.

OAuth callback: drop ``hmac`` (and the legacy ``signature``), turn ``key[]`` arrays into
``key=["a", "b"]``, escape ``%``/``=`` in keys, ``%`` in values and ``&`` in both, sort the
``key=value`` pairs, join with ``&``, hex HMAC-SHA256 with the app's client secret.
Webhooks: base64 HMAC-SHA256 of the raw body with the client secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

EXCLUDED_PARAMS = frozenset({"hmac", "signature"})


def normalize_params(params: Any) -> dict[str, str | list[str]]:
    """A plain dict from a dict, a Django QueryDict (or anything with ``lists()``) or pairs.

    ``key[]`` parameters keep every value as a list; any other repeated key keeps its last value
    (what a query-string parser hands to Shopify's own libraries)."""
    if hasattr(params, "lists"):
        items: Iterable[tuple[str, Any]] = params.lists()
    elif isinstance(params, Mapping):
        items = params.items()
    else:
        items = params
    out: dict[str, str | list[str]] = {}
    for key, value in items:
        key = str(key)
        values = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        if key.endswith("[]"):
            existing = out.get(key)
            out[key] = (existing if isinstance(existing, list) else []) + values
        elif values:
            out[key] = values[-1]
    return out


def _escape_key(key: str) -> str:
    return key.replace("%", "%25").replace("=", "%3D").replace("&", "%26")


def _escape_value(value: str) -> str:
    return value.replace("%", "%25").replace("&", "%26")


def oauth_message(params: Any) -> str:
    """The message Shopify signs for an OAuth/app-proxy style query string."""
    pairs = []
    for key, value in normalize_params(params).items():
        if key in EXCLUDED_PARAMS:
            continue
        if key.endswith("[]"):
            key = key[:-2]
            items = value if isinstance(value, list) else [value]
            value = json.dumps([str(v) for v in items])  # '["2", "1"]': a space after each comma
        elif isinstance(value, list):
            value = value[-1] if value else ""
        pairs.append(f"{_escape_key(key)}={_escape_value(str(value))}")
    return "&".join(sorted(pairs))


def oauth_hmac(secret: str, params: Any) -> str:
    return hmac.new(secret.encode(), oauth_message(params).encode(), hashlib.sha256).hexdigest()


def verify_oauth_hmac(secret: str, params: Any) -> bool:
    """Constant-time check of the ``hmac`` parameter. False when it is missing."""
    normalized = normalize_params(params)
    given = normalized.get("hmac")
    if not secret or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(oauth_hmac(secret, normalized), given.lower())


def webhook_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_webhook_hmac(secret: str, body: bytes, given: str | None) -> bool:
    """Constant-time check of ``X-Shopify-Hmac-Sha256`` against the raw body."""
    if not secret or not given:
        return False
    return hmac.compare_digest(webhook_hmac(secret, body).encode(), given.strip().encode())

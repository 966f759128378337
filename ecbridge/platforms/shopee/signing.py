"""Shopee v2 signing (platforms-global.md §1.3, §1.10): pure functions, no I/O.

The partner key is used as UTF-8 text, never hex-decoded (the official demos do the same)."""

from __future__ import annotations

import hashlib
import hmac


def hmac_hex(partner_key: str, message: str | bytes) -> str:
    """lowercase_hex(HMAC_SHA256(partner_key, message))."""
    if isinstance(message, str):
        message = message.encode("utf-8")
    return hmac.new(partner_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def base_string(
    partner_id: int | str,
    api_path: str,
    timestamp: int | str,
    access_token: str = "",
    subject_id: int | str = "",
) -> str:
    """Public API: partner_id + path + timestamp. Shop (or Merchant) API: + access_token + shop_id
    (or merchant_id). No separators; the path has no host."""
    base = f"{partner_id}{api_path}{timestamp}"
    if access_token:
        base += f"{access_token}{subject_id}"
    return base


def sign_public(partner_key: str, partner_id: int | str, api_path: str, timestamp: int | str) -> str:
    return hmac_hex(partner_key, base_string(partner_id, api_path, timestamp))


def sign_shop(
    partner_key: str,
    partner_id: int | str,
    api_path: str,
    timestamp: int | str,
    access_token: str,
    shop_id: int | str,
) -> str:
    return hmac_hex(partner_key, base_string(partner_id, api_path, timestamp, access_token, shop_id))


def push_signature(partner_key: str, callback_url: str, raw_body: bytes) -> str:
    """The push ``Authorization`` header: hex HMAC over ``callback_url + "|" + raw body``."""
    return hmac_hex(partner_key, callback_url.encode("utf-8") + b"|" + raw_body)


def verify_push(partner_key: str, callback_url: str, raw_body: bytes, authorization: str | None) -> bool:
    """Constant-time check of a push's ``Authorization`` header against the raw body bytes."""
    if not partner_key or not authorization:
        return False
    expected = push_signature(partner_key, callback_url, raw_body).encode("ascii")
    try:
        received = authorization.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, received)

"""Redaction: secrets never reach an API-log body, a log line or a page.

Two nets: every known secret value of the account (credentials, tokens, app keys) is replaced
wherever it appears, and values under secret-looking keys are masked even when unknown."""

import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "********"
SECRET_KEY_PATTERN = re.compile(
    r"(pass(word)?|pwd|secret|token|sign(ature)?|hmac|authorization|api[-_]?key|"
    r"partner_key|otp|code|cookie|x-shopify-access-token)$",
    re.IGNORECASE,
)
# Keys that match the pattern above but carry no secret (shown as they are).
NOT_SECRET_KEYS = {"entpcode", "error_code", "status_code", "shipping_code", "zipcode", "goodscode",
                   "goodsdtcode", "code_challenge_method", "response_code", "errorcode", "currency_code",
                   "countrycode", "countrycodev2", "provincecode", "postal_code", "carrier_code"}


def is_secret_key(key: str) -> bool:
    k = str(key).lower()
    return k not in NOT_SECRET_KEYS and bool(SECRET_KEY_PATTERN.search(k))


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for value in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def redact_structure(obj):
    if isinstance(obj, dict):
        return {
            k: (MASK if is_secret_key(k) and isinstance(v, str) and v else redact_structure(v))
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [redact_structure(v) for v in obj]
    return obj


def redact_body(body: str | bytes | None, secrets: Iterable[str], max_chars: int = 20000) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    secrets = list(secrets)
    try:
        text = json.dumps(redact_structure(json.loads(body)), ensure_ascii=False)
    except (ValueError, TypeError):
        if "=" in body and "&" in body and "\n" not in body:  # form encoded
            text = urlencode([(k, MASK if is_secret_key(k) else v) for k, v in parse_qsl(body, True)])
        else:
            text = body
    text = redact_text(text, secrets)
    return text if len(text) <= max_chars else text[:max_chars] + f"… [{len(text) - max_chars} more characters]"


def redact_url(url: str, secrets: Iterable[str]) -> str:
    parts = urlsplit(url)
    query = urlencode(
        [(k, MASK if is_secret_key(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="/,:*",
    )
    return redact_text(urlunsplit(parts._replace(query=query)), secrets)


def redact_headers(headers, secrets: Iterable[str]) -> str:
    lines = [f"{k}: {MASK if is_secret_key(k) else v}" for k, v in dict(headers).items()]
    return redact_text("\n".join(lines), secrets)

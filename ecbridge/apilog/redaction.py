"""Redaction: secrets never reach an API-log body, a log line or a page.

Three nets, applied at write time (a row never holds a secret, so no page or API can leak one):

1. Values under secret-looking keys are masked wherever the key appears: JSON (at any depth),
   form-encoded bodies, query strings, headers, XML elements and ``key=value`` / ``key: value``
   pairs inside free text (error messages, HTML error pages, strings nested in JSON).
2. Every known secret value of the account (credentials, tokens, app keys) is replaced wherever it
   appears, also in its URL- and JSON-escaped spellings. Values shorter than ``MIN_KNOWN_SECRET_LENGTH``
   are left to net 1: replacing a 3-digit OTP suffix everywhere would also eat order numbers and
   status codes.
3. ``Bearer``/``Basic`` credentials in free text are masked whatever they follow.

The size cap is applied last, so a cut never re-exposes a masked value."""

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

MASK = "********"
MIN_KNOWN_SECRET_LENGTH = 6

# Compared against the key lower-cased with every non-alphanumeric character removed, so
# "X-Shopify-Access-Token", "access_token" and "accessToken" all read "...accesstoken".
_SECRET_SUFFIXES = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "signature",
    "authorization",
    "apikey",
    "partnerkey",
    "privatekey",
    "accesskey",
    "secretkey",
    "appkey",
    "cookie",
    "sessionid",
    "credential",
    "credentials",
    "authcode",
    "authorizationcode",
    "verificationcode",
    "otp",
)
_SECRET_PREFIXES = ("otp",)  # momo's otpBackNo, otp_code
_SECRET_CONTAINS = ("hmac", "password", "secret")  # X-Shopify-Hmac-Sha256, client_secret_v2
_SECRET_EXACT = {"sign", "sig", "pass"}
# Keys the rules above would catch but that carry no secret (kept readable for diagnosis).
_NOT_SECRET = {"tokentype", "signtype", "signmethod", "secretexpiresat", "passwordrequired"}
# "code" is an OAuth authorization code in a callback or token exchange, but an error or status
# code almost everywhere else: masked only when the value looks like a random grant.
_OAUTH_CODE_VALUE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9._~-]{16,}$")

# Kept for callers that imported the old names.
NOT_SECRET_KEYS = _NOT_SECRET


def _normalise(key) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def is_secret_key(key) -> bool:
    """Whether values under ``key`` are secrets (password, token, signature, API key, OTP...)."""
    raw = str(key).lower()
    k = _normalise(key)
    if not k or k in _NOT_SECRET:
        return False
    return (
        k in _SECRET_EXACT
        or raw.endswith(("_sign", "-sign", ".sign"))
        or k.endswith(_SECRET_SUFFIXES)
        or k.startswith(_SECRET_PREFIXES)
        or any(part in k for part in _SECRET_CONTAINS)
    )


def _is_secret_pair(key, value) -> bool:
    if is_secret_key(key):
        return True
    return _normalise(key) == "code" and isinstance(value, str) and bool(_OAUTH_CODE_VALUE.match(value))


# --- net 1 in free text ----------------------------------------------------------------------------
_XML_ELEMENT = re.compile(r"<(?P<tag>[A-Za-z_][\w.:-]*)(?P<attrs>[^<>]*)>(?P<value>[^<]*)</(?P=tag)>")
_KEY_VALUE = re.compile(
    r"(?P<key>[A-Za-z_][\w.\-\[\]]*)(?P<sep>\\?[\"']?\s*[:=]\s*\\?[\"']?)(?P<value>[^\s\"'&,;<>{}\[\]\\]+)"
)
_AUTH_SCHEMES = (
    re.compile(r"(?i)\b(?P<scheme>bearer\s+)[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"\b(?P<scheme>Basic\s+)(?P<basic>[A-Za-z0-9+/]{8,}={0,2})"),
    # Shopify access / custom-app / shared-secret tokens are recognisable by their prefix.
    re.compile(r"\b(?P<scheme>shp(?:at|ca|pa|ss)_)[A-Za-z0-9]{8,}"),
)


def _is_basic_credential(token: str) -> bool:
    """``Basic`` is followed by base64 of ``user:password``; "Basic Collection" in a product name is not."""
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _mask_credential(m: re.Match) -> str:
    if m.groupdict().get("basic") and not _is_basic_credential(m["basic"]):
        return m.group(0)
    return f"{m['scheme']}{MASK}"


def _redact_free_text(text: str) -> str:
    for pattern in _AUTH_SCHEMES:
        text = pattern.sub(_mask_credential, text)
    text = _XML_ELEMENT.sub(
        lambda m: (
            f"<{m['tag']}{m['attrs']}>{MASK}</{m['tag']}>"
            if m["value"].strip() and _is_secret_pair(m["tag"].rsplit(":", 1)[-1], m["value"].strip())
            else m.group(0)
        ),
        text,
    )
    return _KEY_VALUE.sub(
        lambda m: (
            f"{m['key']}{m['sep']}{MASK}"
            if m["value"] != MASK and _is_secret_pair(m["key"].rsplit(".", 1)[-1], unquote_plus(m["value"]))
            else m.group(0)
        ),
        text,
    )


# --- net 2: known values ---------------------------------------------------------------------------
def _spellings(value: str) -> set[str]:
    """The ways a value can appear on the wire: raw, URL-encoded, JSON-escaped."""
    return {
        value,
        quote(value, safe=""),
        quote_plus(value, safe=""),
        json.dumps(value, ensure_ascii=False)[1:-1],
    }


@functools.lru_cache(maxsize=256)
def _known_values_pattern(values: tuple[str, ...]) -> re.Pattern | None:
    """One compiled alternation of every spelling, longest first (built once per set of secrets:
    a 10,000-order fetch redacts hundreds of thousands of strings with the same secrets)."""
    spellings: set[str] = set()
    for value in values:
        spellings |= _spellings(value)
    if not spellings:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True)))


def _known_values(secrets: Iterable[str]):
    """A function replacing every known secret value (and its encoded spellings) in a string."""
    values = {str(s) for s in secrets if s is not None and len(str(s)) >= MIN_KNOWN_SECRET_LENGTH}
    pattern = _known_values_pattern(tuple(sorted(values)))
    return (lambda text: pattern.sub(MASK, text)) if pattern else (lambda text: text)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret value (and its encoded spellings) in ``text``."""
    return _known_values(secrets)(text)


# --- structures ------------------------------------------------------------------------------------
def redact_structure(obj):
    """Mask values under secret keys at any depth; free-text strings get the text net."""
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if _is_secret_pair(k, v) and v not in (None, "") and not isinstance(v, bool | Mapping | list):
                out[k] = MASK
            else:
                out[k] = redact_structure(v)
        return out
    if isinstance(obj, list | tuple):
        return [redact_structure(v) for v in obj]
    if isinstance(obj, str):
        return _redact_free_text(obj)
    return obj


_FORM_BODY = re.compile(r"^[^=&\s]+=[^&\s]*(?:&[^=&\s]+=?[^&\s]*)*$")


def _redact_pairs(query: str) -> str:
    """Mask values of secret keys in ``a=1&b=2`` while keeping the original encoding of the rest."""
    parts = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        if sep and value and _is_secret_pair(unquote_plus(key), unquote_plus(value)):
            parts.append(f"{key}={MASK}")
        else:
            parts.append(pair)
    return "&".join(parts)


def _cap(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max_chars] + f"… [{len(text) - max_chars} more characters]"


def redact_body(body: str | bytes | None, secrets: Iterable[str], max_chars: int = 20000) -> str:
    """A request/response body (JSON, form-encoded, XML or text) with secrets masked, size-capped."""
    if body is None:
        return ""
    if isinstance(body, bytes | bytearray | memoryview):
        body = bytes(body).decode("utf-8", errors="replace")
    body = str(body)
    if not body:
        return ""
    secrets = list(secrets)
    stripped = body.strip()
    if stripped[:1] in ("{", "["):
        try:
            document = json.loads(stripped)
        except ValueError:
            pass
        else:
            # Known secrets are replaced inside each decoded string, never in the serialized text,
            # where a replacement could cut through an escape sequence and break the JSON.
            masked = _map_strings(redact_structure(document), _known_values(secrets))
            return _cap(json.dumps(masked, ensure_ascii=False), max_chars)
    text = _redact_pairs(stripped) if _FORM_BODY.match(stripped) else _redact_free_text(body)
    return _cap(redact_text(text, secrets), max_chars)


def _map_strings(obj, fn):
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, dict):
        return {fn(k) if isinstance(k, str) else k: _map_strings(v, fn) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map_strings(v, fn) for v in obj]
    return obj


def redact_url(url: str, secrets: Iterable[str]) -> str:
    """Query values under secret keys and a password in the user-info part are masked."""
    parts = urlsplit(str(url))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}{colon}{MASK if colon else ''}@{host}"
    redacted = urlunsplit(
        parts._replace(
            netloc=netloc,
            query=_redact_pairs(parts.query) if parts.query else "",
            # implicit-grant redirects carry the token in the fragment
            fragment=_redact_pairs(parts.fragment) if "=" in parts.fragment else parts.fragment,
        )
    )
    return redact_text(redacted, secrets)


def _header_items(headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if hasattr(headers, "raw") and hasattr(headers, "multi_items"):  # httpx.Headers: as sent
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw]
    if isinstance(headers, Mapping) or hasattr(headers, "items"):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def redact_headers(headers, secrets: Iterable[str]) -> str:
    """Headers as ``Name: value`` lines; Authorization, tokens, cookies and signatures masked."""
    lines = []
    for k, v in _header_items(headers):
        lines.append(f"{k}: {MASK if (is_secret_key(k) and v) else _redact_free_text(v)}")
    return redact_text("\n".join(lines), secrets)

"""Secrets typed on the create/edit page survive a Test Connection, failed or not.

Secret inputs are never rendered back into the page, so after a test they would come back blank
and the user would have to type them again (after a failure: all of them, to fix one). The typed
values are kept server-side instead: encrypted, in the user's own session, under a random key
the page carries in a hidden field. A later POST of that page with a blank secret input uses the
kept value; Save clears it."""

from __future__ import annotations

import hashlib
import secrets

from django.utils.translation import gettext_lazy as _

from ecbridge.core.crypto import decrypt_json, encrypt_json
from ecbridge.integrations.models import MASK

SESSION_KEY = "ecbridge.kept_secrets"
FIELD = "kept_secrets"  # the hidden input naming the kept values
KEPT_HELP = _("Kept from your last Test Connection: leave it blank to use it again, or type a new value.")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def keep(request, spec, credentials: dict[str, str]) -> str | None:
    """Keep the secret values of ``credentials``; returns the key for the page, or None."""
    values = {
        f.name: credentials[f.name] for f in spec.credential_fields if f.secret and credentials.get(f.name)
    }
    if not values:
        return None
    key = secrets.token_urlsafe(24)
    request.session[SESSION_KEY] = {
        "key": _digest(key),
        "platform": spec.code,
        "values": encrypt_json(values),
    }
    return key


def _kept(request, spec, data) -> dict[str, str]:
    entry = request.session.get(SESSION_KEY)
    key = (data or {}).get(FIELD) or ""
    if spec is None or not entry or not key or entry.get("key") != _digest(key):
        return {}
    if entry.get("platform") != spec.code:
        return {}
    return decrypt_json(entry["values"])


def fill(request, spec, data):
    """``data`` with blank secret inputs filled from the kept values this page's key names."""
    kept = _kept(request, spec, data)
    if not kept:
        return data
    data = data.copy()
    for field in spec.credential_fields:
        name = f"cred_{field.name}"
        if field.secret and not (data.get(name) or "").strip() and kept.get(field.name):
            data[name] = kept[field.name]
    return data


def mark_kept(form, request, spec, data) -> None:
    """Show which secret inputs hold a kept value (a mask and a hint; never the value)."""
    for name in _kept(request, spec, data):
        field = form.fields.get(f"cred_{name}")
        if field is not None:
            field.required = False
            field.widget.attrs["placeholder"] = MASK
            field.help_text = KEPT_HELP
            form[f"cred_{name}"].help_text = KEPT_HELP  # a bound field copies the text when made


def forget(request) -> None:
    request.session.pop(SESSION_KEY, None)

"""Approving an OAuth consent page without a browser (demo seeding and tests): read the page's
form, fill the shop choice, submit it, and return the callback's query parameters."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
                "choices": {},
            }
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            if kind == "radio":
                self._current["choices"].setdefault(attrs["name"], []).append(attrs.get("value", ""))
                if "checked" in attrs:
                    self._current["fields"][attrs["name"]] = attrs.get("value", "")
            elif kind != "submit":
                self._current["fields"][attrs["name"]] = attrs.get("value", "")
        elif self._current is not None and tag == "option" and "selected" in attrs:
            self._current.setdefault("selected", []).append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def approve(
    client: httpx.Client, authorize_url: str, *, choose: dict[str, str] | None = None
) -> dict[str, str]:
    page = client.get(authorize_url)
    page.raise_for_status()
    parser = _FormParser()
    parser.feed(page.text)
    form = next(f for f in parser.forms if f["method"] == "post")
    data = {**form["fields"], **(choose or {})}
    response = client.post(urljoin(str(page.url), form["action"] or str(page.url)), data=data)
    if response.status_code not in (301, 302, 303):
        raise RuntimeError(f"consent was not granted: HTTP {response.status_code}")
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))

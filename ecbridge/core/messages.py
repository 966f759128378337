"""Messages kept to be shown later in the reader's language (notifications are written by jobs,
which run in the default language, and read by people in theirs).

A ``Msg`` is a msgid, marked for extraction with ``gettext_noop`` where it is written, plus its
parameters: plain values (names, numbers, a platform's own error text) or other ``Msg``s. It is
stored as JSON and translated only when rendered."""

from __future__ import annotations

from django.utils.translation import gettext


class Msg:
    def __init__(self, msgid: str, **params):
        self.msgid = msgid
        self.params = params

    @classmethod
    def join(cls, *parts) -> Msg:
        """Several messages shown as one, separated by spaces."""
        joined = cls("")
        joined.parts = [p for p in parts if p]
        return joined

    def to_json(self) -> dict:
        if hasattr(self, "parts"):
            return {"join": [_to_json(p) for p in self.parts]}
        return {"id": self.msgid, "params": {k: _to_json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data) -> Msg | str | int | float:
        if isinstance(data, int | float):
            return data  # a number stays a number: %(n)d needs one
        if not isinstance(data, dict):
            return "" if data is None else str(data)
        if "join" in data:
            return cls.join(*(cls.from_json(p) for p in data["join"]))
        if "id" in data:
            return cls(data["id"], **{k: cls.from_json(v) for k, v in (data.get("params") or {}).items()})
        return data.get("text", "")

    def render(self) -> str:
        """The text in the active language."""
        if hasattr(self, "parts"):
            return " ".join(_render(p) for p in self.parts)
        text = gettext(self.msgid)
        if not self.params:
            return text
        return text % {k: _render(v) for k, v in self.params.items()}

    __str__ = render

    def __repr__(self):
        return f"Msg({self.to_json()!r})"


def _to_json(value):
    if isinstance(value, Msg):
        return value.to_json()
    if isinstance(value, int | float):
        return value
    return {"text": str(value)}


def _render(value) -> str | int | float:
    if isinstance(value, Msg):
        return value.render()
    if isinstance(value, dict):
        return _render(Msg.from_json(value))
    return value

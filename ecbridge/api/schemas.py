"""Response shapes every router shares, defined once so the OpenAPI document has one of each."""

from collections.abc import Iterable

from ninja import Field, Schema


class Ref(Schema):
    """Another object, by id and name."""

    id: int
    name: str


class Detail(Schema):
    detail: str


class ErrorItem(Schema):
    loc: list[str | int] = Field(
        ..., description='Where: e.g. ["body", "payload", "name"] or ["query", "page"].'
    )
    msg: str
    type: str


class InvalidOut(Schema):
    detail: str = Field(..., description="All problems in one readable sentence.")
    errors: list[ErrorItem]


def invalid(problems: Iterable[tuple[str, str, str]], detail: str | None = None) -> tuple[int, dict]:
    """422 for body fields a service refused: ``problems`` are (field or "__all__", message, code)."""
    errors = [
        {
            "loc": ["body", "payload"] + ([] if field == "__all__" else [field]),
            "msg": str(message),
            "type": code or "invalid",
        }
        for field, message, code in problems
    ]
    return 422, {"detail": detail or " ".join(item["msg"] for item in errors), "errors": errors}

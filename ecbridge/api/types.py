"""Shared API input types. ``Id``: a database id (1 … 2^63−1); anything else is a 422 with the
field named, never a database error."""

from typing import Annotated

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

from ecbridge.core.ids import MAX_ID

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Pages(PageNumberPagination):
    """Page-number pagination whose page number is bounded (a huge one cannot reach the database)."""

    class PageInput(Schema):
        page: int = Field(1, ge=1, le=MAX_ID)
        page_size: int | None = Field(None, ge=1, le=MAX_ID)

    Input = PageInput

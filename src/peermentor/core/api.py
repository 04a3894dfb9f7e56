"""What every app's API router shares: the error body, references, and page-number pagination.

Lives in core, the lowest layer, so that every app's router can use it: `peermentor.api` sits on
top of the stack and mounts the routers, so no app may import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from django.core.paginator import EmptyPage, Paginator
from django.core.paginator import Page as DjangoPage
from ninja import Field, Schema
from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from peermentor.core.errors import ApplicationError

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50

ItemT = TypeVar("ItemT")

# An id a client sends in a query or body. Databases keep ids in 64 bits; SQLite raises rather
# than finding nothing for a larger number, so the bound is checked here (400 naming the field).
# Ids in the path need no bound: Django answers "no such row" for any integer there.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _without_null_characters(value: str) -> str:
    # PostgreSQL refuses NUL in text (a 500 if it reached a query); Django's form fields refuse
    # it the same way and with the same words.
    if "\x00" in value:
        raise ValueError("Null characters are not allowed.")
    return value


@dataclass(frozen=True)
class SchemaRule:
    """Says in the OpenAPI schema what the server checks anyway (in a validator or a service),
    so that a client generating input from the schema is not refused input the schema allows.
    Only the published schema changes: the server's own checks and messages stay."""

    rules: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(dict(self.rules))
        return schema


NO_NULL_CHARACTER = r"^[^\u0000]*$"
NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"

# Every string a client sends (query or body) is Text.
Text = Annotated[
    str, AfterValidator(_without_null_characters), SchemaRule((("pattern", NO_NULL_CHARACTER),))
]
# A string the service refuses when empty or only spaces (a name, a reason).
RequiredText = Annotated[
    str,
    AfterValidator(_without_null_characters),
    SchemaRule((("pattern", NOT_BLANK), ("minLength", 1))),
]


class ErrorOut(Schema):
    """Every 4xx answer: a sentence for people, and the input field it is about (or null)."""

    message: str
    field: str | None = None


# The statuses a write endpoint can answer with besides its success, for the OpenAPI schema.
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
}
READ_ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class Ref(Schema):
    """A named thing another object points at (a department, a site, a track, a program)."""

    id: int
    name: str


class PersonRef(Schema):
    id: int
    full_name: str


class PageQuery(Schema):
    page: int = Field(1, ge=1, description="1 is the first page.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"At most {MAX_PAGE_SIZE}."
    )


class FixedPageQuery(Schema):
    """For lists whose selector pages by itself (50 a page)."""

    page: int = Field(1, ge=1, description="1 is the first page; 50 items a page.")


class Page(Schema, Generic[ItemT]):
    count: int = Field(description="Items in all pages together.")
    page: int
    page_size: int
    page_count: int
    items: list[ItemT]


def _no_such_page(number: int, page_count: int) -> ApplicationError:
    return ApplicationError(
        f"There is no page {number}: the last one is {page_count}.", field="page", status=404
    )


def paginate(queryset: Any, query: PageQuery | FixedPageQuery, **extra: Any) -> dict[str, Any]:
    """One page of `queryset` (two queries: COUNT and the slice), or 404 past the last page.

    Unlike the site's pages, which show the last page for any number past it, an API client
    looping over pages must learn that it went too far.
    """
    page_size = getattr(query, "page_size", DEFAULT_PAGE_SIZE)
    paginator = Paginator(queryset, page_size)
    try:
        page = paginator.page(query.page)
    except EmptyPage:
        raise _no_such_page(query.page, paginator.num_pages) from None
    return page_body(page, list(page.object_list), **extra)


def page_body(page: DjangoPage, items: list[Any], **extra: Any) -> dict[str, Any]:
    paginator = page.paginator
    return {
        "count": paginator.count,
        "page": page.number,
        "page_size": paginator.per_page,
        "page_count": max(1, math.ceil(paginator.count / paginator.per_page)),
        "items": items,
        **extra,
    }


def require_page(page: DjangoPage, requested: int) -> None:
    """Selectors that page by themselves show the last page for a number past it; refuse."""
    if page.number != requested:
        raise _no_such_page(requested, page.paginator.num_pages)

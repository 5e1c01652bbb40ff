"""Keyset pagination shared by the list endpoints: ``?limit=&cursor=`` in, ``next_cursor`` out."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import marshmallow as ma

from backend.errors import InvalidInput

T = TypeVar("T")
K = TypeVar("K")

# Integer keys stay inside a 32-bit signed column on every database.
MAX_ID = 2**31 - 1
ID_RANGE = ma.validate.Range(min=1, max=MAX_ID)


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    cursor = ma.fields.String(metadata={"description": "next_cursor of the previous page"})


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A ``{"items": [...], "next_cursor": ...}`` schema around ``item_schema``."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(required=True, allow_none=True,
                                            metadata={"description": "null on the last page"}),
        },
        name=name,
    )


def encode_cursor(key: object) -> str:
    return base64.urlsafe_b64encode(str(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: Callable[[str], K] = int) -> K | None:  # type: ignore[assignment]
    """The key inside a cursor, parsed by ``kind`` (int by default, uuid.UUID for records)."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = kind(base64.urlsafe_b64decode(padded.encode()).decode())
        if isinstance(key, int) and not 0 <= key <= 2**63 - 1:
            raise ValueError(key)
        return key
    # OverflowError: a key no column or clock holds, such as a time that leaves the calendar in UTC.
    except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError):
        raise InvalidInput("The cursor is not one this server gave out; start again without it.",
                           errors={"query": {"cursor": ["Invalid cursor."]}}) from None


def paginate(rows: list[Any], limit: int, key: Any) -> Page[Any]:
    """Turn ``limit + 1`` fetched rows into a page; ``key(row)`` is the keyset value."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(key(rows[-1])))
    return Page(rows, None)

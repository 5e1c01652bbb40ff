"""A value as a JSON column or a JSON answer holds it: times in ISO 8601, UUIDs and decimals as strings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

_AS_IS = frozenset({str, int, float, bool})


def jsonable(value: object) -> object:
    """A value as it can be stored in a JSON column or sent in a JSON body."""
    if value is None or type(value) in _AS_IS:  # most values of a record: checked first
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value

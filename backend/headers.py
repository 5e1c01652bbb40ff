"""Whole numbers carried in request headers: If-Match versions, tus offsets and lengths."""

from __future__ import annotations


def header_number(value: str, *, max_digits: int) -> int | None:
    """The number ``value`` spells in ASCII digits 0-9, or None when it is anything else.

    ``str.isdigit()`` also accepts "²" and "①", which ``int()`` refuses, and "٣" or "３",
    which ``int()`` reads as 3: no client of ours sends those, so they name no number.
    ``max_digits`` keeps the value inside the integer column it is compared with.
    """
    if 0 < len(value) <= max_digits and value.isascii() and value.isdigit():
        return int(value)
    return None

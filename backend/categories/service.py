"""Reading the category lists."""

from __future__ import annotations

from flask import g, has_app_context
from sqlalchemy import select

from backend.categories.models import Category
from backend.errors import RecordError
from backend.extensions import db


def list_categories() -> dict[str, list[Category]]:
    """Active categories by kind, in their display order."""
    lists: dict[str, list[Category]] = {"dispute_type": [], "hotspot_type": [], "visit_kind": []}
    query = select(Category).where(Category.active.is_(True)).order_by(Category.kind, Category.position)
    for category in db.session.scalars(query):
        lists.setdefault(category.kind, []).append(category)
    return lists


def codes(kind: str) -> set[str]:
    """The active codes of one kind."""
    query = select(Category.code).where(Category.kind == kind, Category.active.is_(True))
    return set(db.session.scalars(query))


def check(kind: str, code: str, field: str) -> None:
    """RecordError unless ``code`` is an active category of ``kind``."""

    known = _cached_codes(kind)
    if code not in known:
        raise RecordError("validation", f"{field}: {code!r} is not a known {kind.replace('_', ' ')}.", field=field)


def _cached_codes(kind: str) -> set[str]:
    # A sync push checks a hundred mutations: read each list once per request.
    cache = g.setdefault("category_codes", {}) if has_app_context() else {}
    if kind not in cache:
        cache[kind] = codes(kind)
    return cache[kind]

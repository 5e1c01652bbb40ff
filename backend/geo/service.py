"""Map layers: visits, inspections, hotspots and photos as GeoJSON FeatureCollections (RFC 7946).

A layer may hold tens of thousands of points, so it reads only the columns it shows and
builds plain dicts; at most ``limit`` features, newest first, with ``truncated`` and
``total`` saying how many matched. Coordinates are WGS-84 ``[lon, lat]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select

from backend.areas import service as areas_service
from backend.evidence.models import Photo
from backend.extensions import db
from backend.geo.schemas import MAX_FEATURES
from backend.hotspots.models import Hotspot, Inspection
from backend.json_value import jsonable
from backend.records.writes import REVIEWER_ROLES
from backend.visits.models import Visit

if TYPE_CHECKING:
    from backend.accounts.models import User

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Layer:
    """A record layer: its model, what its photos call it, its time column and the columns it shows."""

    model: Any
    record_type: str
    time: Any
    shown: tuple[str, ...]


VISITS = Layer(Visit, "visit", Visit.visited_at, ("kind", "review_status"))
INSPECTIONS = Layer(Inspection, "inspection", Inspection.inspected_at, ("result", "review_status", "hotspot_id"))
HOTSPOTS = Layer(Hotspot, "hotspot", Hotspot.updated_at, ("name", "category", "status", "risk_level", "deadline"))


def visits(*, actor: User, review_status: str | None = None, **filters: Any) -> dict[str, Any]:
    """Live visits with a position in the actor's area."""
    extra = [Visit.review_status == review_status] if review_status else []
    return _records(VISITS, actor=actor, extra=extra, **filters)


def inspections(*, actor: User, review_status: str | None = None, **filters: Any) -> dict[str, Any]:
    """Live inspections with a position in the actor's area."""
    extra = [Inspection.review_status == review_status] if review_status else []
    return _records(INSPECTIONS, actor=actor, extra=extra, **filters)


def hotspots(*, actor: User, status: str | None = None, **filters: Any) -> dict[str, Any]:
    """Live hotspots with a position in the actor's area."""
    extra = [Hotspot.status == status] if status else []
    return _records(HOTSPOTS, actor=actor, extra=extra, **filters)


def _records(layer: Layer, *, actor: User, extra: list[ColumnElement[bool]], bbox: BBox | None = None,
             area: str | None = None, since: datetime | None = None, until: datetime | None = None,
             flag: str | None = None, limit: int = MAX_FEATURES) -> dict[str, Any]:
    model = layer.model
    own_photos = and_(Photo.record_type == layer.record_type, Photo.record_id == model.id, Photo.deleted.is_(False))
    conditions = [model.deleted.is_(False), model.lat.is_not(None), model.lon.is_not(None), *extra,
                  *_common(actor, model.area_code, model.lon, model.lat, layer.time, bbox=bbox, area=area,
                           since=since, until=until)]
    if flag:
        conditions.append(exists().where(own_photos, _has_flag(flag)))
    page = (select(model.id, model.lon, model.lat, *(getattr(model, name) for name in layer.shown),
                   layer.time.label("time"), model.area_code)
            .where(*conditions).order_by(layer.time.desc(), model.id.desc()).limit(limit + 1).subquery())
    # Summed for the page's records only: SQLite would sum every match's photos before sorting.
    flag_count = (select(func.coalesce(func.sum(Photo.flag_count), 0))
                  .where(Photo.record_type == layer.record_type, Photo.record_id == page.c.id,
                         Photo.deleted.is_(False)).scalar_subquery())
    query = (select(page.c.id, page.c.lon, page.c.lat, *(page.c[name] for name in layer.shown), page.c.time,
                    flag_count.label("flag_count"), page.c.area_code)
             .order_by(page.c.time.desc(), page.c.id.desc()))
    rows, total = _counted(db.session.execute(query).all(), model, conditions, limit=limit)
    names = (*layer.shown, "time", "flag_count", "area_code")
    return _collection(((row[0], row[1], row[2], dict(zip(names, row[3:], strict=True))) for row in rows),
                       total=total, limit=limit)


def photos(*, actor: User, record_type: str | None = None, status: str | None = None, bbox: BBox | None = None,
           area: str | None = None, since: datetime | None = None, until: datetime | None = None,
           flag: str | None = None, limit: int = MAX_FEATURES) -> dict[str, Any]:
    """Live photos with a position in the actor's area: the EXIF position, else the phone's fix at capture.

    The EXIF position is a capture detail (docs/evidence.md): reviewers see it for every photo,
    others for their own photos only; the rest are placed at the phone's fix.
    """
    from_exif = and_(Photo.exif_lat.is_not(None), Photo.exif_lon.is_not(None))
    if not actor.has_role(*REVIEWER_ROLES):
        from_exif = and_(from_exif, Photo.created_by_id == actor.id)
    lon = case((from_exif, Photo.exif_lon), else_=Photo.lon)
    lat = case((from_exif, Photo.exif_lat), else_=Photo.lat)
    time = func.coalesce(Photo.captured_at, Photo.created_at)
    conditions = [Photo.deleted.is_(False), lon.is_not(None), lat.is_not(None),
                  *_common(actor, Photo.area_code, lon, lat, time, bbox=bbox, area=area, since=since, until=until)]
    if record_type:
        conditions.append(Photo.record_type == record_type)
    if status:
        conditions.append(Photo.status == status)
    if flag:
        conditions.append(_has_flag(flag))
    query = select(Photo.id, lon, lat, Photo.record_type, Photo.record_id, Photo.status, Photo.flags,
                   Photo.flag_count, from_exif, Photo.captured_at, Photo.created_at, Photo.area_code)
    rows, total = _bounded(query, Photo, conditions, order=(time.desc(), Photo.id.desc()), limit=limit)
    features = ((photo_id, x, y, {
        "record_type": record_type_, "record_id": record_id, "status": status_, "flags": sorted(flags or {}),
        "flag_count": flag_count, "position": "exif" if exif else "device", "time": captured_at or created_at,
        "area_code": area_code})
        for (photo_id, x, y, record_type_, record_id, status_, flags, flag_count, exif, captured_at, created_at,
             area_code) in rows)
    return _collection(features, total=total, limit=limit)


def _common(actor: User, area_code: Any, lon: Any, lat: Any, time: Any, *, bbox: BBox | None, area: str | None,
            since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """Scope, area, bbox and time conditions, shared by every layer."""
    conditions = [areas_service.scope_clause(actor, area_code)]
    if area:
        conditions.append(areas_service.subtree_clause(areas_service.get_area(actor=actor, code=area), area_code))
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        conditions += [lon.between(min_lon, max_lon), lat.between(min_lat, max_lat)]
    if since:
        conditions.append(time >= since)
    if until:
        conditions.append(time < until)
    return conditions


def _has_flag(code: str) -> ColumnElement[bool]:
    # as_string(): on SQLite the plain JSON path quotes a missing key into the text 'null'.
    return Photo.flags[code].as_string().is_not(None)


def _bounded(query: Any, table: Any, conditions: list[ColumnElement[bool]], *, order: Sequence[Any],
             limit: int) -> tuple[Sequence[Any], int]:
    """At most ``limit`` rows of ``table`` in ``order``, and how many match in all (counted only when there
    are more)."""
    rows = db.session.execute(query.where(*conditions).order_by(*order).limit(limit + 1)).all()
    return _counted(rows, table, conditions, limit=limit)


def _counted(rows: Sequence[Any], table: Any, conditions: list[ColumnElement[bool]], *,
             limit: int) -> tuple[Sequence[Any], int]:
    """The first ``limit`` of up to ``limit`` + 1 rows, and how many match in all."""
    if len(rows) <= limit:
        return rows, len(rows)
    total = db.session.scalar(select(func.count()).select_from(table).where(*conditions))
    return rows[:limit], total or 0


def _collection(features: Any, *, total: int, limit: int) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "id": str(record_id), "geometry": {"type": "Point", "coordinates": [x, y]},
                      "properties": {name: jsonable(value) for name, value in properties.items()}}
                     for record_id, x, y, properties in features],
        "truncated": total > limit,
        "total": total,
    }



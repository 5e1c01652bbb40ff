"""The review queue: pending records of every reviewed kind, most-flagged first, and bulk approval.

Reviewing one record stays ``writes.review`` (POST /api/{visits|inspections}/{id}/review);
this room lists what awaits review and approves many unflagged records at once through it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, exists, func, literal, or_, select, union_all

from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.evidence.models import Photo
from backend.extensions import db
from backend.pagination import Page, decode_cursor, paginate
from backend.records import kinds, reads, writes
from backend.records.kinds import Kind


def _reviewed() -> dict[str, Kind[Any]]:
    """The reviewed kinds by name, in registration order (the order records are locked in)."""
    return {kind.name: kind for kind in kinds.reviewed_kinds()}


@dataclass(frozen=True)
class QueueCursor:
    """The last item of a page, by the queue's order: flag_count desc, record time, record type, id.

    A keyset, not an offset: approving the records of page one takes them out of the queue,
    and an offset would then skip as many records as were approved.
    """

    flag_count: int
    at: datetime
    record_type: str
    id: uuid.UUID

    def __str__(self) -> str:
        return f"{self.flag_count}|{self.at.isoformat()}|{self.record_type}|{self.id}"

    @classmethod
    def parse(cls, text: str) -> QueueCursor:
        """The cursor ``str()`` wrote; ValueError or OverflowError for anything else."""
        flag_count, at_text, record_type, record_id = text.split("|")
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None or record_type not in _reviewed():
            raise ValueError(text)
        # Record times are compared in UTC, where 0001-01-01T00:00+14:00 does not exist:
        # astimezone raises OverflowError for it here rather than in the query.
        cursor = cls(int(flag_count), at.astimezone(UTC), record_type, uuid.UUID(record_id))
        if not 0 <= cursor.flag_count <= 2**62:
            raise ValueError(text)
        return cursor


def _live_photos_of(record_type: Any, record_id: Any) -> ColumnElement[bool]:
    return and_(Photo.record_type == record_type, Photo.record_id == record_id, Photo.deleted.is_(False))


def _has_flag(code: str) -> ColumnElement[bool]:
    # ->> on PostgreSQL, JSON_EXTRACT on SQLite: NULL when the photo has no such flag.
    return Photo.flags[code].as_string().is_not(None)


def _pending(spec: Kind[Any], *, actor: User, area: str | None, author: int | None, since: datetime | None,
             until: datetime | None, flag: str | None) -> Select[Any]:
    """Pending live records of one kind in the actor's area, as queue rows without photo counts."""
    model = spec.model
    at = getattr(model, spec.time_field)
    query = (select(literal(spec.name, String).label("record_type"), model.id.label("id"), model.area_code,
                    model.created_by_id.label("author_id"), at.label("record_time"), model.version)
             .where(model.review_status == "pending", model.deleted.is_(False),
                    spec.scope(actor)))
    if area:
        root = areas_service.get_area(actor=actor, code=area)
        query = query.where(areas_service.subtree_clause(root, model.area_code))
    if author:
        query = query.where(model.created_by_id == author)
    if since:
        query = query.where(at >= since)
    if until:
        query = query.where(at < until)
    if flag:
        query = query.where(exists().where(_live_photos_of(spec.name, model.id), _has_flag(flag)))
    return query


def _after(queue: Any, cursor: QueueCursor) -> ColumnElement[bool]:
    """Rows after ``cursor`` in the order flag_count desc, record_time, record_type, id."""
    c = queue.c
    return or_(c.flag_count < cursor.flag_count, and_(c.flag_count == cursor.flag_count, or_(
        c.record_time > cursor.at, and_(c.record_time == cursor.at, or_(
            c.record_type > cursor.record_type, and_(c.record_type == cursor.record_type, c.id > cursor.id))))))


def queue(*, actor: User, area: str | None = None, author: int | None = None, since: datetime | None = None,
          until: datetime | None = None, flag: str | None = None, record_type: str | None = None,
          cursor: str | None = None, limit: int = 50) -> Page[dict[str, Any]]:
    """Pending visits and inspections in the actor's area with their photo counts, most-flagged first."""
    reviewed = _reviewed()
    names = [record_type] if record_type else list(reviewed)
    parts = [_pending(reviewed[name], actor=actor, area=area, author=author, since=since, until=until, flag=flag)
             for name in names]
    records = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("pending")
    # One query: each pending record joined to its live photos and grouped back to one row.
    stored = case((Photo.status == "stored", 1), else_=0)
    grouped = (select(*records.c, func.count(Photo.id).label("photo_count"),
                      func.coalesce(func.sum(stored), 0).label("photos_stored"),
                      func.coalesce(func.sum(Photo.flag_count), 0).label("flag_count"))
               .select_from(records.outerjoin(Photo, _live_photos_of(records.c.record_type, records.c.id)))
               .group_by(*records.c)
               .subquery("queue"))
    query = select(grouped)
    after = decode_cursor(cursor, QueueCursor.parse)
    if after is not None:
        query = query.where(_after(grouped, after))
    order = (grouped.c.flag_count.desc(), grouped.c.record_time, grouped.c.record_type, grouped.c.id)
    rows = [dict(row) for row in db.session.execute(query.order_by(*order).limit(limit + 1)).mappings()]
    page = paginate(rows, limit, key=lambda row: QueueCursor(row["flag_count"], row["record_time"],
                                                              row["record_type"], row["id"]))
    codes = _flag_codes(actor, page.items)
    authors, areas = _names(page.items)
    for item in page.items:
        item["flags"] = sorted(codes.get((item["record_type"], item["id"]), ()))
        item["author_name"] = authors.get(item["author_id"])
        item["area_name"] = areas.get(item["area_code"])
    return page


def _names(items: list[dict[str, Any]]) -> tuple[dict[int, str], dict[str, str]]:
    """Who wrote the page's records and where, by id and code: a supervisor reads names."""
    user_ids = {item["author_id"] for item in items}
    codes = {item["area_code"] for item in items}
    if not items:
        return {}, {}
    authors = {row.id: row.display_name or row.username for row in db.session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(user_ids)))}
    areas = {row.code: row.name for row in db.session.execute(select(Area.code, Area.name).where(Area.code.in_(codes)))}
    return authors, areas


def _flag_codes(actor: User, items: list[dict[str, Any]]) -> dict[tuple[str, uuid.UUID], set[str]]:
    """The distinct flag codes of each flagged item's live photos, in one query for the page.

    Read here rather than in the queue query: listing a JSON column's keys in SQL takes
    json_each on SQLite and json_object_keys on PostgreSQL.
    """
    ids: dict[str, list[uuid.UUID]] = defaultdict(list)
    for item in items:
        if item["flag_count"]:
            ids[item["record_type"]].append(item["id"])
    codes: dict[tuple[str, uuid.UUID], set[str]] = defaultdict(set)
    if not ids:
        return codes
    of_page = or_(*(and_(Photo.record_type == kind, Photo.record_id.in_(record_ids))
                    for kind, record_ids in ids.items()))
    query = select(Photo.record_type, Photo.record_id, Photo.flags).where(
        of_page, Photo.deleted.is_(False), Photo.flag_count > 0, areas_service.scope_clause(actor, Photo.area_code))
    for row in db.session.execute(query):
        codes[(row.record_type, row.record_id)].update(row.flags or {})
    return codes


# --- bulk approval ------------------------------------------------------------------

def _photo_states(actor: User, items: list[dict[str, Any]]) -> tuple[set[tuple[str, uuid.UUID]],
                                                                       set[tuple[str, uuid.UUID]]]:
    """Which of these records have a live photo with a flag, and which one whose bytes are not stored.

    A photo still on the phone has not been checked: no flag on it means unchecked, not clean.
    """
    wanted = or_(*(and_(Photo.record_type == kind, Photo.record_id.in_(
        [item["id"] for item in items if item["record_type"] == kind])) for kind in _reviewed()))
    query = (select(Photo.record_type, Photo.record_id, func.max(Photo.flag_count).label("most_flags"),
                    func.sum(case((Photo.status == "stored", 0), else_=1)).label("not_stored"))
             .where(wanted, Photo.deleted.is_(False), areas_service.scope_clause(actor, Photo.area_code))
             .group_by(Photo.record_type, Photo.record_id))
    flagged: set[tuple[str, uuid.UUID]] = set()
    unstored: set[tuple[str, uuid.UUID]] = set()
    for row in db.session.execute(query):
        if row.most_flags:
            flagged.add((row.record_type, row.record_id))
        if row.not_stored:
            unstored.add((row.record_type, row.record_id))
    return flagged, unstored


def bulk_approve(*, actor: User, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Approve each pending, unchanged, unflagged record whose photos have all arrived and which the
    actor did not write; say why each other one was skipped."""
    # Locked in the sync push's kind order: an author's concurrent edit waits for this ruling,
    # or this one sees the edit's new version and skips the record as stale.
    reviewed = _reviewed()
    for name, spec in reviewed.items():
        writes.preload(spec, [item["id"] for item in items if item["record_type"] == name], lock=True)
    flagged, unstored = _photo_states(actor, items)
    writer = writes.rest_writer(actor)
    outcomes = []
    for item in items:
        spec = reviewed[item["record_type"]]
        record = reads.find(spec, item["id"])
        reason = None
        if record is None or record.deleted or not reads.visible(actor, record.area_code):
            reason = "not_found"
        elif record.review_status != "pending":
            reason = "not_pending"
        elif record.version != item["version"]:
            reason = "stale_version"
        elif record.created_by_id == actor.id:
            reason = "own_record"
        elif (spec.name, record.id) in flagged:
            reason = "flagged"
        elif (spec.name, record.id) in unstored:
            reason = "photos_not_stored"
        else:
            writes.review(spec, actor=actor, writer=writer, record_id=record.id,
                                   base_version=item["version"], review_status="approved", review_comment=None)
        version = None if record is None or reason == "not_found" else record.version
        outcomes.append({"record_type": spec.name, "id": item["id"], "status": "skipped" if reason else "approved",
                         "reason": reason, "version": version})
    approved = sum(outcome["status"] == "approved" for outcome in outcomes)
    return {"approved": approved, "skipped": len(outcomes) - approved, "items": outcomes}

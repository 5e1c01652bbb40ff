"""Ledgers 台账: visits and hotspots as a county office prints them, in Excel or CSV.

A ledger may hold 100,000 rows, and none of them is kept: the records are read through a
server-side cursor in batches of plain columns (household, author and area joined in the
query; area names and category labels loaded once; photo counts and flags, inspections,
one query per batch), each row goes straight into a temporary file, and the route streams
that file back. Filters are those of the record lists.

A ledger is a job (``backend.jobs``): the request that asks for one gets 202 and the job,
a worker writes the file into the object store, and the job's download link serves it.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, func, select, union_all

from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.audit import service as audit_service
from backend.categories.models import Category
from backend.evidence.models import Photo
from backend.exports.formats import Column, write_csv, write_xlsx
from backend.extensions import db
from backend.hotspots.models import Hotspot, Inspection
from backend.hotspots.service import HOTSPOT
from backend.households.models import Household
from backend.jobs import service as jobs_service
from backend.jobs.models import Job
from backend.records import reads
from backend.records.kinds import Kind
from backend.visits.models import Visit
from backend.visits.service import SPEC as VISIT

BATCH = 1000
FORMATS = ("xlsx", "csv")

REVIEW_LABELS = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回", "returned": "已退回"}
FLAG_LABELS = {  # in the order a ledger lists them
    "no_exif_gps": "照片无定位", "exif_far_from_device": "照片位置与手机定位不符", "far_from_target": "距走访对象过远",
    "time_mismatch": "拍摄时间不符", "older_than_record": "照片早于走访", "reused": "重复使用的照片",
    "near_duplicate": "疑似重复照片", "edited": "经修图软件处理"}
HOTSPOT_STATUS_LABELS = {"listed": "已挂牌", "rectifying": "整治中", "acceptance_requested": "待验收",
                         "closed": "已销号", "relapsed": "反弹"}
RISK_LABELS = {"high": "高风险", "medium": "中风险", "low": "低风险"}
RESULT_LABELS = {"rectified": "已整改", "in_progress": "整改中", "relapsed": "反弹"}

VISIT_COLUMNS = (
    Column("序号", 7, "number"), Column("乡镇(街道)", 14), Column("村(社区)", 14), Column("户主", 10),
    Column("地址", 28), Column("走访时间", 17, "datetime"), Column("走访人", 10), Column("走访类型", 12),
    Column("反映问题", 40), Column("问题类别", 18), Column("满意度", 8, "number"), Column("是否需跟踪", 11),
    Column("跟踪期限", 12, "date"), Column("审核状态", 10), Column("照片数", 8, "number"), Column("核验提示", 30),
)
HOTSPOT_COLUMNS = (
    Column("序号", 7, "number"), Column("乡镇(街道)", 14), Column("村(社区)", 14), Column("名称", 28),
    Column("类别", 14), Column("风险等级", 10), Column("状态", 10), Column("整改期限", 12, "date"),
    Column("是否逾期", 10), Column("检查次数", 10, "number"), Column("最近检查时间", 17, "datetime"),
    Column("最近检查结果", 13), Column("照片数", 8, "number"),
)
UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


@dataclass
class Ledger:
    """A written ledger file and what the audit and the download need to know of it."""

    name: str                        # visits | hotspots
    fmt: str                         # xlsx | csv
    file: IO[bytes]
    rows: int
    size: int
    filename: str                    # 走访台账-一镇-2026-11-20.xlsx
    ascii_filename: str              # visits-990101001000-2026-11-20.xlsx
    area_code: str
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Kind:
    title: str
    spec: Kind[Any]
    columns: tuple[Column, ...]


KINDS = {"visits": _Kind("走访台账", VISIT, VISIT_COLUMNS), "hotspots": _Kind("乱点整治台账", HOTSPOT, HOTSPOT_COLUMNS)}


def start_ledger(*, actor: User, name: str, fmt: str, filters: dict[str, Any]) -> Job:
    """A queued ledger job over the actor's area, or the area asked for (404 outside theirs)."""
    area = filters.get("area")
    root = areas_service.get_area(actor=actor, code=area) if area else actor.area
    return jobs_service.start(actor=actor, kind="ledger", area_code=root.code,
                              params={"name": name, "format": fmt, "filters": _as_query(filters)})


def _as_query(filters: dict[str, Any]) -> dict[str, str]:
    """The parsed filters as the query strings they came from, to keep in the job as JSON."""
    def text(value: Any) -> str:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, tuple):
            return ",".join(str(number) for number in value)
        return str(value)

    return {key: text(value) for key, value in filters.items() if value is not None}


def _run_ledger(job: Job, run: jobs_service.Run) -> dict[str, Any]:
    """The job's work: write the ledger as its starter may see it now, store it, audit it."""
    from backend.exports.schemas import MIMETYPES, ExportArgsSchema

    with run.reading():
        actor = db.session.get(User, job.created_by_id)
        if actor is None or not actor.active:
            raise jobs_service.JobRefused("The user who asked for this ledger is no longer active.")
        name, fmt = job.params["name"], job.params["format"]
        filters = ExportArgsSchema().load(job.params["filters"])
        ledger = write_ledger(actor=actor, name=name, fmt=fmt, run=run, **filters)
    try:
        data = ledger.file.read()
    finally:
        ledger.file.close()
    jobs_service.store_result(job, data, extension=fmt)
    record_export(actor=actor, ledger=ledger)
    return {"rows": ledger.rows, "size": ledger.size, "filename": ledger.filename,
            "ascii_filename": ledger.ascii_filename, "mimetype": MIMETYPES[fmt]}


jobs_service.register("ledger", _run_ledger, label="台账导出 Ledger export")


def write_ledger(*, actor: User, name: str, fmt: str, area: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, status: str | None = None, author: int | None = None,
                 bbox: tuple[float, float, float, float] | None = None,
                 run: jobs_service.Run | None = None) -> Ledger:
    """The actor's visits or hotspots matching the list filters, written to a temporary xlsx or csv file."""
    kind = KINDS[name]
    root = areas_service.get_area(actor=actor, code=area) if area else actor.area
    conditions = reads.record_filters(kind.spec, actor=actor, area=area, since=since, until=until,
                                                status=status, author=author, bbox=bbox)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    rows = (_visit_rows if name == "visits" else _hotspot_rows)(actor, conditions, zone)
    if run is not None:
        total = db.session.scalar(select(func.count()).select_from(kind.spec.model).where(*conditions)) or 0
        rows = _counted(rows, total, run)
    if fmt == "xlsx":
        file, count = write_xlsx(title=kind.title, columns=kind.columns, rows=rows)
    else:
        file, count = write_csv(columns=kind.columns, rows=rows)
    size = file.seek(0, 2)
    file.seek(0)
    if run is not None:
        run.progress(99, 100, "已写完 Written")
    today = datetime.now(zone).date().isoformat()
    filters = {key: value for key, value in {"area": area, "since": since, "until": until, "status": status,
                                             "author": author, "bbox": bbox}.items() if value is not None}
    return Ledger(name=name, fmt=fmt, file=file, rows=count, size=size, area_code=root.code, filters=filters,
                  filename=f"{kind.title}-{UNSAFE_IN_FILENAME.sub('_', root.name)}-{today}.{fmt}",
                  ascii_filename=f"{name}-{root.code}-{today}.{fmt}")


def _counted(rows: Iterator[tuple[Any, ...]], total: int, run: jobs_service.Run) -> Iterator[tuple[Any, ...]]:
    """The rows, telling the job how far along it is once a batch (the last tenth is the file's saving)."""
    run.progress(0, 1, f"0 / {total}")
    for number, row in enumerate(rows, start=1):
        yield row
        if number % BATCH == 0:
            run.progress(number * 9, total * 10, f"{number} / {total}")


def record_export(*, actor: User, ledger: Ledger) -> None:
    """Write the export to the audit trail: who took which records out, filtered how, how many."""
    audit_service.record(actor=actor, action=f"export.{ledger.name}", entity="export",
                         entity_id=f"{ledger.name}.{ledger.fmt}", area_code=ledger.area_code,
                         after={"format": ledger.fmt, "filters": ledger.filters, "rows": ledger.rows})


# --- what is in scope ------------------------------------------------------------------

class _Places:
    """Township and village names of every area the actor sees, read once."""

    def __init__(self, actor: User):
        ancestors = [code for code in actor.area.path.split("/") if code]
        query = select(Area.code, Area.name, Area.level, Area.parent_code).where(
            areas_service.scope_clause(actor, Area.code) | Area.code.in_(ancestors))
        self._areas = {code: (name, level, parent) for code, name, level, parent in db.session.execute(query)}
        self._found: dict[str, tuple[str, str]] = {}

    def township_and_village(self, area_code: str) -> tuple[str, str]:
        """A grid's village is its parent; a village's township is its parent."""
        if area_code not in self._found:
            township = village = ""
            code: str | None = area_code
            while code in self._areas:
                name, level, code = self._areas[code]
                if level == "village":
                    village = name
                elif level == "township":
                    township = name
                    break
            self._found[area_code] = (township, village)
        return self._found[area_code]


def _labels() -> dict[tuple[str, str], str]:
    """Chinese labels of every category, retired ones too (old records still name them)."""
    return {(kind, code): zh for kind, code, zh in db.session.execute(select(Category.kind, Category.code,
                                                                             Category.zh))}


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """The county's wall-clock time: Excel cells have no time zone."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def _streamed(query: Any) -> Iterator[Sequence[Any]]:
    """Batches of rows through a server-side cursor (PostgreSQL) or SQLite's stepping cursor."""
    return db.session.execute(query.execution_options(yield_per=BATCH)).partitions()


def _photos(record_type: str, batch: Sequence[Any]) -> dict[uuid.UUID, tuple[int, set[str]]]:
    """Photo count and flag codes of each record of a batch read in scope: live photos that are, or
    will be, evidence, in the records' own areas.

    The areas are the batch's, not the scope's subquery: PostgreSQL runs this statement once per
    batch, prepared, and its generic plan, not knowing the subquery's area path, would look the
    batch's photos up once per area in scope (0.7 s a batch in a county, not 15 ms).
    """
    found: dict[uuid.UUID, tuple[int, set[str]]] = {}
    query = select(Photo.record_id, Photo.flags).where(
        Photo.record_type == record_type, Photo.record_id.in_([row.id for row in batch]), Photo.deleted.is_(False),
        Photo.status != "rejected", Photo.area_code.in_(sorted({row.area_code for row in batch})))
    for row in db.session.execute(query):
        count, codes = found.get(row.record_id, (0, set()))
        found[row.record_id] = (count + 1, codes | set(row.flags or {}))
    return found


# --- visits ------------------------------------------------------------------------------

def _visit_rows(actor: User, conditions: list[ColumnElement[bool]], zone: ZoneInfo) -> Iterator[tuple[Any, ...]]:
    places, labels = _Places(actor), _labels()
    query = (select(Visit.id, Visit.area_code, Household.head_name, Household.address, Visit.visited_at,
                    User.display_name, Visit.kind, Visit.concerns, Visit.satisfaction, Visit.follow_up_due,
                    Visit.review_status)
             .join(Area, Area.code == Visit.area_code).join(User, User.id == Visit.created_by_id)
             # A household that has left the actor's area (moved to another village) is not theirs
             # to read: its head and address stay blank, as if it had no household.
             .outerjoin(Household, (Household.id == Visit.household_id)
                        & areas_service.scope_clause(actor, Household.area_code))
             .where(*conditions).order_by(Area.path, Visit.visited_at, Visit.id))
    number = 0
    for batch in _streamed(query):
        photos = _photos("visit", batch)
        for row in batch:
            number += 1
            township, village = places.township_and_village(row.area_code)
            concerns = row.concerns or []
            categories = dict.fromkeys(labels.get(("dispute_type", c.get("category")), c.get("category") or "")
                                       for c in concerns)
            photo_count, flags = photos.get(row.id, (0, set()))
            yield (number, township, village, row.head_name, row.address, _local(row.visited_at, zone),
                   row.display_name, labels.get(("visit_kind", row.kind), row.kind),
                   "；".join(c.get("description") or "" for c in concerns if c.get("description")),
                   "、".join(name for name in categories if name), row.satisfaction,
                   "是" if row.follow_up_due else "否", row.follow_up_due,
                   REVIEW_LABELS.get(row.review_status, row.review_status), photo_count, _flag_text(flags))


def _flag_text(codes: set[str]) -> str:
    known = [label for code, label in FLAG_LABELS.items() if code in codes]
    return "；".join(known + sorted(codes - FLAG_LABELS.keys()))


# --- hotspots ----------------------------------------------------------------------------

def _hotspot_rows(actor: User, conditions: list[ColumnElement[bool]], zone: ZoneInfo) -> Iterator[tuple[Any, ...]]:
    places, labels = _Places(actor), _labels()
    today = datetime.now(zone).date()
    query = (select(Hotspot.id, Hotspot.area_code, Hotspot.name, Hotspot.category, Hotspot.risk_level,
                    Hotspot.status, Hotspot.deadline)
             .join(Area, Area.code == Hotspot.area_code)
             .where(*conditions).order_by(Area.path, Hotspot.name, Hotspot.id))
    number = 0
    for batch in _streamed(query):
        ids = [row.id for row in batch]
        inspections = _inspections(actor, ids)
        photos = _hotspot_photos(actor, ids)
        for row in batch:
            number += 1
            township, village = places.township_and_village(row.area_code)
            count, latest_at, latest_result = inspections.get(row.id, (0, None, None))
            yield (number, township, village, row.name, labels.get(("hotspot_type", row.category), row.category),
                   RISK_LABELS.get(row.risk_level, row.risk_level),
                   HOTSPOT_STATUS_LABELS.get(row.status, row.status), row.deadline,
                   "是" if _overdue(row.deadline, row.status, today) else "否", count, _local(latest_at, zone),
                   RESULT_LABELS.get(latest_result, latest_result) if latest_result else None,
                   photos.get(row.id, 0))


def _overdue(deadline: date | None, status: str, today: date) -> bool:
    """Past its deadline and not closed: the rule of the rectification metrics."""
    return deadline is not None and deadline < today and status != "closed"


def _inspections(actor: User, hotspot_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, datetime, str]]:
    """Number of live inspections of each hotspot, and the time and result of the latest."""
    query = (select(Inspection.hotspot_id, Inspection.inspected_at, Inspection.result)
             .where(Inspection.hotspot_id.in_(hotspot_ids), Inspection.deleted.is_(False),
                    areas_service.scope_clause(actor, Inspection.area_code))
             .order_by(Inspection.inspected_at, Inspection.id))
    found: dict[uuid.UUID, tuple[int, datetime, str]] = {}
    for hotspot_id, inspected_at, result in db.session.execute(query):
        found[hotspot_id] = (found.get(hotspot_id, (0,))[0] + 1, inspected_at, result)
    return found


def _hotspot_photos(actor: User, hotspot_ids: list[uuid.UUID]) -> Counter[uuid.UUID]:
    """Live photos of each hotspot: its own and those of its live inspections."""
    live = (Photo.deleted.is_(False), Photo.status != "rejected", areas_service.scope_clause(actor, Photo.area_code))
    own = select(Photo.record_id.label("hotspot_id")).where(
        Photo.record_type == "hotspot", Photo.record_id.in_(hotspot_ids), *live)
    of_inspections = (select(Inspection.hotspot_id)
                      .join(Photo, (Photo.record_type == "inspection") & (Photo.record_id == Inspection.id))
                      .where(Inspection.hotspot_id.in_(hotspot_ids), Inspection.deleted.is_(False), *live))
    return Counter(hotspot_id for (hotspot_id,) in db.session.execute(union_all(own, of_inspections)))

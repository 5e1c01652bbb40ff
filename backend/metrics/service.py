"""Campaign rates computed from the records: visit coverage and hotspot rectification.

Each report covers an area and each of its children. Every number is counted from live
records, in a constant number of grouped queries: a record's area path names the child
it lies under (the 12 characters after the area's own path), and the queries group by
that, never asking once per child. The rules behind each number are in docs/supervision.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, case, distinct, exists, func, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.errors import InvalidInput
from backend.evidence.models import Photo
from backend.extensions import db
from backend.hotspots.models import Hotspot, Inspection
from backend.households.models import Household
from backend.visits.models import Visit

if TYPE_CHECKING:
    from backend.accounts.models import User

CODE_LENGTH = 12
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None


@dataclass
class CoverageRow:
    code: str
    name: str
    level: str
    households: int = 0
    visited_households: int = 0
    visits: int = 0
    flagged_visits: int = 0
    pending_visits: int = 0
    overdue_follow_ups: int = 0

    @property
    def coverage(self) -> Rate:
        return Rate(self.visited_households, self.households)


@dataclass
class RectificationRow:
    code: str
    name: str
    level: str
    listed: int = 0
    closed_after_inspection: int = 0
    overdue: int = 0
    relapsed: int = 0
    due: int = 0

    @property
    def rectification(self) -> Rate:
        return Rate(self.closed_after_inspection, self.due)


@dataclass
class CoverageReport:
    area: Area
    start: date
    end: date
    today: date
    timezone: str
    total: CoverageRow
    children: list[CoverageRow]


@dataclass
class RectificationReport:
    area: Area
    today: date
    timezone: str
    total: RectificationRow
    children: list[RectificationRow]


# --- the county's calendar ---------------------------------------------------------

def county_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_today(zone: ZoneInfo) -> date:
    """Today's date in the county."""
    return datetime.now(zone).date()


def period(*, start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The days asked for, both included: by default the 30 days ending today."""
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput(f"from ({start}) is after to ({end}).",
                           errors={"query": {"from": ["Must be on or before to."]}})
    return start, end


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant the day begins in the county."""
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class Days:
    """County days asked for, ``start`` to ``end`` included, and the instants they span."""

    zone: ZoneInfo
    today: date
    start: date
    end: date

    @property
    def since(self) -> datetime:
        return day_start(self.start, self.zone)

    @property
    def until(self) -> datetime:
        return day_start(self.end + timedelta(days=1), self.zone)


def county_days(start: date | None, end: date | None) -> Days:
    zone = county_zone()
    today = local_today(zone)
    start, end = period(start=start, end=end, today=today)
    return Days(zone, today, start, end)


def _root(actor: User | None, area: str | None) -> Area:
    """The area a report is about: the one asked for (404 outside the actor's), else the actor's own.

    ``actor`` None is the server's own work (the daily snapshot), which names its area.
    """
    if area:
        return areas_service.get_area(actor=actor, code=area)
    if actor is None:
        raise ValueError("a report for no actor needs an area")
    return actor.area


# --- reports -----------------------------------------------------------------------

def coverage(*, actor: User | None, area: str | None = None, start: date | None = None,
             end: date | None = None) -> CoverageReport:
    """Households, visits and follow-ups of an area and each of its children."""
    days = county_days(start, end)
    root = _root(actor, area)
    in_period = and_(Visit.deleted.is_(False), Visit.visited_at >= days.since, Visit.visited_at < days.until)
    later = aliased(Visit)
    # SELECT 1, not SELECT *: SQLite then answers from the index alone.
    followed_up = (select(literal_column("1")).where(later.household_id == Visit.household_id,
                                                     later.deleted.is_(False), later.visited_at > Visit.visited_at)
                   .exists())
    visited = (select(literal_column("1")).where(Visit.household_id == Household.id, in_period,
                                                 areas_service.scope_clause(actor, Visit.area_code)).exists())
    tallies = [
        _by_child(select(func.count().label("households")).where(Household.deleted.is_(False)),
                  actor=actor, root=root, area_column=Household.area_code),
        # Counted in the household's area, like the households they are a share of.
        _by_child(select(func.count().label("visited_households")).where(Household.deleted.is_(False), visited),
                  actor=actor, root=root, area_column=Household.area_code),
        _by_child(select(func.count().label("visits"), _count_if(Visit.review_status == "pending")
                         .label("pending_visits")).where(in_period),
                  actor=actor, root=root, area_column=Visit.area_code),
        # From the flagged photos to their visits, not a photo lookup for every visit: flags are few.
        _by_child(select(func.count(distinct(Visit.id)).label("flagged_visits")).select_from(Photo)
                  .join(Visit, Visit.id == Photo.record_id)
                  .where(Photo.record_type == "visit", Photo.flag_count > 0, Photo.deleted.is_(False), in_period),
                  actor=actor, root=root, area_column=Visit.area_code),
        _by_child(select(func.count().label("overdue_follow_ups"))
                  .where(Visit.deleted.is_(False), Visit.follow_up_due < days.today, ~followed_up),
                  actor=actor, root=root, area_column=Visit.area_code),
    ]
    total, children = _rows(root, CoverageRow, tallies)
    return CoverageReport(area=root, start=days.start, end=days.end, today=days.today, timezone=days.zone.key,
                          total=total, children=children)


def rectification(*, actor: User | None, area: str | None = None) -> RectificationReport:
    """Hotspots listed, closed, overdue and relapsed in an area and each of its children."""
    zone = county_zone()
    today = local_today(zone)
    root = _root(actor, area)
    inspected = exists().where(Inspection.hotspot_id == Hotspot.id, Inspection.deleted.is_(False))
    closed = Hotspot.status == "closed"
    query = (select(func.count().label("listed"),
                    _count_if(and_(closed, inspected)).label("closed_after_inspection"),
                    _count_if(and_(Hotspot.deadline < today, ~closed)).label("overdue"),
                    _count_if(Hotspot.status == "relapsed").label("relapsed"),
                    _count_if(or_(Hotspot.deadline <= today, closed)).label("due"))
             .select_from(Hotspot).where(Hotspot.deleted.is_(False)))
    tallies = [_by_child(query, actor=actor, root=root, area_column=Hotspot.area_code)]
    total, children = _rows(root, RectificationRow, tallies)
    return RectificationReport(area=root, today=today, timezone=zone.key, total=total, children=children)


# --- grouping by child area ----------------------------------------------------------

def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _child_code(root: Area) -> ColumnElement[str]:
    """The code of the child of ``root`` a joined area lies under; '' for ``root`` itself.

    Literal positions, not bound parameters: PostgreSQL must see the GROUP BY expression
    as the very one selected.
    """
    return func.substr(Area.path, literal_column(str(len(root.path) + 1)), literal_column(str(CODE_LENGTH)))


def _by_child(query: Select[*tuple[Any, ...]], *, actor: User | None, root: Area,
              area_column: Any) -> dict[str, dict[str, int]]:
    """Run ``query`` (labelled counts over one table) over ``root``'s subtree in scope, added up by child.

    The records are counted per area code first, through the indexes that lead with it;
    only those few hundred counts are then joined to their areas and added up by child.
    """
    per_area = (query.add_columns(area_column.label("area_code"))
                .where(areas_service.subtree_clause(root, area_column), areas_service.scope_clause(actor, area_column))
                .group_by(area_column).subquery())
    names = [column.name for column in per_area.c if column.name != "area_code"]
    child = _child_code(root)
    totals = (select(*(func.sum(per_area.c[name]).label(name) for name in names), child.label("child"))
              .join_from(per_area, Area, Area.code == per_area.c.area_code).group_by(child))
    tally: dict[str, dict[str, int]] = {}
    for row in db.session.execute(totals).mappings():
        values = dict(row)
        child_code = values.pop("child")
        tally[child_code] = {name: int(value or 0) for name, value in values.items()}
    return tally


def _rows(root: Area, row_type: type, tallies: list[dict[str, dict[str, int]]]) -> tuple[Any, list[Any]]:
    """The area's row (everything in its subtree) and one row per child, in code order."""
    total = row_type(code=root.code, name=root.name, level=root.level)
    children = {child.code: row_type(code=child.code, name=child.name, level=child.level)
                for child in db.session.scalars(select(Area).where(Area.parent_code == root.code)
                                                .order_by(Area.code))}
    for tally in tallies:
        for code, values in tally.items():
            for row in (total, children.get(code)):
                for name, value in values.items() if row is not None else ():
                    setattr(row, name, getattr(row, name) + value)
    return total, list(children.values())


# --- visits per day --------------------------------------------------------------------
#
# A county day is not always 24 hours (a zone with daylight saving has 23- and 25-hour
# days), so visits are not bucketed by (seconds since the first midnight) ÷ 86,400. The
# database groups them by quarter hour since the period's first midnight, a grouping the
# same on SQLite and PostgreSQL, and each quarter hour is given its county date here: every
# zone offset and every change of offset since 1972 falls on a whole quarter hour, so no
# quarter hour straddles two days. At most 96 groups a day come back, whatever the number
# of visits.

SLOT_SECONDS = 15 * 60
MAX_DAYS = 366  # one row per day in the answer: a year at most


class _slot(FunctionElement[int]):
    """floor((moment − origin) ÷ width) for a moment at or after origin (epoch seconds, literals)."""

    type = Integer()
    inherit_cache = True


@compiles(_slot, "sqlite")
def _slot_sqlite(element: _slot, compiler: Any, **kw: Any) -> str:
    moment, origin, width = (compiler.process(clause, **kw) for clause in element.clauses)
    # Times are stored as UTC text; the difference is never negative, so integer division floors.
    return f"((CAST(strftime('%s', {moment}) AS INTEGER) - {origin}) / {width})"


@compiles(_slot, "postgresql")
def _slot_postgresql(element: _slot, compiler: Any, **kw: Any) -> str:
    moment, origin, width = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(floor((EXTRACT(EPOCH FROM {moment}) - {origin}) / {width}) AS INTEGER)"


@dataclass
class DayRow:
    day: date
    visits: int = 0
    flagged_visits: int = 0


@dataclass
class VisitsPerDayReport:
    area: Area
    start: date
    end: date
    today: date
    timezone: str
    days: list[DayRow]


def visits_per_day(*, actor: User, area: str | None = None, start: date | None = None,
                   end: date | None = None) -> VisitsPerDayReport:
    """Live visits, and flagged ones, in an area's subtree on each county day of a period."""
    days = county_days(start, end)
    if (days.end - days.start).days >= MAX_DAYS:
        raise InvalidInput(f"Ask for at most {MAX_DAYS} days.",
                           errors={"query": {"from": [f"At most {MAX_DAYS} days before to."]}})
    root = _root(actor, area)
    # From the flagged photos (few), not a photo lookup for each of the period's visits.
    flagged = Visit.id.in_(select(Photo.record_id).where(Photo.record_type == "visit", Photo.flag_count > 0,
                                                         Photo.deleted.is_(False)))
    # Literals, not bound parameters: PostgreSQL must see the GROUP BY expression as the one selected.
    slot = _slot(Visit.visited_at, literal_column(str(int(days.since.timestamp()))),
                 literal_column(str(SLOT_SECONDS)))
    query = (select(slot.label("slot"), func.count().label("visits"), _count_if(flagged).label("flagged"))
             .where(Visit.deleted.is_(False), Visit.visited_at >= days.since, Visit.visited_at < days.until,
                    areas_service.subtree_clause(root, Visit.area_code),
                    areas_service.scope_clause(actor, Visit.area_code))
             .group_by(slot))
    rows = {days.start + timedelta(days=n): DayRow(day=days.start + timedelta(days=n))
            for n in range((days.end - days.start).days + 1)}
    origin = days.since.astimezone(UTC)  # arithmetic on a zoned datetime would add wall-clock time
    for number, visits, flagged_visits in db.session.execute(query):
        row = rows[(origin + timedelta(seconds=number * SLOT_SECONDS)).astimezone(days.zone).date()]
        row.visits += visits
        row.flagged_visits += int(flagged_visits or 0)
    return VisitsPerDayReport(area=root, start=days.start, end=days.end, today=days.today, timezone=days.zone.key,
                              days=list(rows.values()))

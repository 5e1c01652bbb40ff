"""The area tree and the scope rule every capability uses: a user sees their area's subtree."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, event, func, select, true
from sqlalchemy.orm import Session

from backend.areas.models import LEVELS, Area
from backend.audit import service as audit_service
from backend.errors import Conflict, InvalidInput, NotFound
from backend.extensions import db

if TYPE_CHECKING:
    from backend.accounts.models import User

PARENT_LEVEL = {"county": None, "township": "county", "village": "township", "grid": "village"}
CODE_PATTERN = re.compile(r"^\d{12}$")
MAX_NAME_LENGTH = 64


# --- scope -----------------------------------------------------------------

def scope_clause(actor: User | None, area_code_column: Any) -> ColumnElement[bool]:
    """SQL condition: ``area_code_column`` lies in the actor's area subtree.

    The one scope rule: every query for area-bound data adds it. ``actor`` None is
    the command line, which is not area-limited.
    """
    if actor is None:
        return true()
    return subtree_clause(actor.area, area_code_column)


def subtree_clause(root: Area, area_code_column: Any) -> ColumnElement[bool]:
    """SQL condition: ``area_code_column`` is ``root`` or lies below it."""
    return area_code_column.in_(select(Area.code).where(Area.path.startswith(root.path)))


def in_scope(actor: User | None, area: Area) -> bool:
    return actor is None or area.path.startswith(actor.area.path)


def find_area(code: str) -> Area | None:
    """The area with this code whoever asks, for checks that come after a scope check.

    Kept for the session: a sync push or pull asks for the same few areas hundreds of times.
    """
    cache = db.session.info.setdefault("areas", {})
    area = cache.get(code)
    if area is None and CODE_PATTERN.match(code or ""):
        area = db.session.get(Area, code)
        if area is not None:  # an absent code may be created later in this session
            cache[code] = area
    return area


@event.listens_for(Session, "after_soft_rollback")
def _forget_areas(session: Session, *_args: Any) -> None:
    session.info.pop("areas", None)


def get_area(*, actor: User | None, code: str) -> Area:
    """The area with this code, or NotFound when it is absent or outside the actor's scope."""
    area = find_area(code)
    if area is None or not in_scope(actor, area):
        raise NotFound(f"Area {code} does not exist or is outside your area.")
    return area


def list_areas(*, actor: User, parent: str | None = None) -> list[Area]:
    """Children of ``parent``, or the caller's own area when no parent is given."""
    if parent is None:
        return [actor.area]
    parent_area = get_area(actor=actor, code=parent)
    query = select(Area).where(Area.parent_code == parent_area.code).order_by(Area.code)
    return list(db.session.scalars(query))


def describe(areas: list[Area]) -> list[dict[str, Any]]:
    """Areas as the API shows them, with their number of children."""
    codes = [area.code for area in areas]
    query = (select(Area.parent_code, func.count()).where(Area.parent_code.in_(codes))
             .group_by(Area.parent_code))
    counts = {code: count for code, count in db.session.execute(query)} if codes else {}
    return [{"code": a.code, "name": a.name, "level": a.level, "parent_code": a.parent_code,
             "child_count": counts.get(a.code, 0)} for a in areas]


# --- writing -----------------------------------------------------------------

def code_problem(code: str, level: str, parent: Area | None) -> str | None:
    """Why this code cannot be an area of this level under this parent, or None.

    统计用区划代码: 6 digits county, 3 township, 3 village. Grids are local units
    numbered inside their township's block (000 is reserved for the township).
    """
    if not CODE_PATTERN.match(code):
        return f"code {code!r} must be 12 digits"
    if level not in LEVELS:
        return f"level {level!r} must be one of {', '.join(LEVELS)}"
    expected_parent = PARENT_LEVEL[level]
    if expected_parent is None:
        if parent is not None:
            return "a county has no parent in this system; leave parent_code empty"
        if code[6:] != "000000" or code[4:6] == "00":
            return f"county code {code} must look like PPCCXX000000"
        return None
    if parent is None:
        return f"a {level} needs a parent {expected_parent}"
    if parent.level != expected_parent:
        return f"a {level}'s parent must be a {expected_parent}, but {parent.code} is a {parent.level}"
    if level == "township" and not (code[:6] == parent.code[:6] and code[6:9] != "000" and code[9:] == "000"):
        return f"township code {code} must be {parent.code[:6]}TTT000 with TTT not 000"
    if level in ("village", "grid") and not (code[:9] == parent.code[:9] and code[9:] != "000"):
        return f"{level} code {code} must start with {parent.code[:9]} and not end in 000"
    return None


def _name_problem(name: str) -> str | None:
    if not name or not name.strip():
        return "name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"name is longer than {MAX_NAME_LENGTH} characters"
    return None


def _snapshot(area: Area) -> dict[str, Any]:
    return {"name": area.name, "level": area.level, "parent_code": area.parent_code}


def create_area(*, actor: User | None, code: str, name: str, level: str, parent_code: str | None) -> Area:
    """Add an area under one in the actor's scope (grids, new villages)."""
    parent = get_area(actor=actor, code=parent_code) if parent_code else None
    if parent is None and actor is not None:
        raise NotFound("A new area needs a parent inside your area.",
                       errors={"json": {"parent_code": ["Required: an area inside your own."]}})
    problem = code_problem(code, level, parent) or _name_problem(name)
    if problem:
        raise InvalidInput(f"The area cannot be created: {problem}.", errors={"json": {"code": [problem]}})
    if db.session.get(Area, code) is not None:
        raise Conflict(f"Area {code} already exists.", reason="area_exists")
    area = Area(code=code, name=name.strip(), level=level, parent_code=parent_code,
                path=(parent.path if parent else "/") + code + "/")
    db.session.add(area)
    db.session.flush()
    audit_service.record(actor=actor, action="area.create", entity="area", entity_id=code,
                         area_code=code, after=_snapshot(area))
    return area


def rename_area(*, actor: User | None, code: str, name: str) -> Area:
    """Change an area's name."""
    area = get_area(actor=actor, code=code)
    problem = _name_problem(name)
    if problem:
        raise InvalidInput(f"The area cannot be renamed: {problem}.", errors={"json": {"name": [problem]}})
    before = _snapshot(area)
    area.name = name.strip()
    db.session.flush()
    old, new = audit_service.changed_fields(before, _snapshot(area))
    if new:
        audit_service.record(actor=actor, action="area.update", entity="area", entity_id=code,
                             area_code=code, before=old, after=new)
    return area


# --- CSV import ------------------------------------------------------------------

IMPORT_COLUMNS = ("code", "name", "level", "parent_code")
MAX_REPORTED_PROBLEMS = 50


@dataclass
class ImportReport:
    created: int = 0
    renamed: int = 0
    unchanged: int = 0


class AreaImportError(InvalidInput):
    """The file has problems; nothing was imported."""

    reason = "area_import"

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = [f"line {line}: {text}" for line, text in sorted(problems)]
        shown = self.problems[:MAX_REPORTED_PROBLEMS]
        more = len(self.problems) - len(shown)
        listing = "\n".join(shown) + (f"\n… and {more} more" if more > 0 else "")
        super().__init__(f"Nothing was imported; fix these lines:\n{listing}", errors={"file": shown})


@dataclass
class _Row:
    line: int
    code: str
    name: str
    level: str
    parent_code: str


def _parse_rows(rows: Iterable[tuple[int, list[str]]], problems: list[tuple[int, str]]) -> list[_Row]:
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(IMPORT_COLUMNS):
            problems.append((line, f"expected {len(IMPORT_COLUMNS)} columns, found {len(cells)}"))
            continue
        row = _Row(line, *(cell.strip() for cell in cells))
        if row.code in seen:
            problems.append((line, f"code {row.code} already appears on line {seen[row.code]}"))
            continue
        seen[row.code] = line
        parsed.append(row)
    # Parents may come after their children in the file: resolve in level order.
    parsed.sort(key=lambda row: (LEVELS.index(row.level) if row.level in LEVELS else len(LEVELS), row.line))
    return parsed


def import_areas(*, actor: User | None, header: list[str], rows: Iterable[tuple[int, list[str]]]) -> ImportReport:
    """Create or rename areas from CSV rows (line number, cells), all or nothing.

    The whole file is checked before anything is written. An existing area keeps its
    place in the tree: a row that would move it is an error, since records hang off it.
    """
    if [h.strip() for h in header] != list(IMPORT_COLUMNS):
        raise AreaImportError([(1, f"the header must be {','.join(IMPORT_COLUMNS)}, found {','.join(header)}")])
    problems: list[tuple[int, str]] = []
    parsed = _parse_rows(rows, problems)
    existing = {area.code: area for area in db.session.scalars(select(Area))}
    paths: dict[str, str] = {code: area.path for code, area in existing.items()}
    levels: dict[str, str] = {code: area.level for code, area in existing.items()}
    for row in parsed:
        parent = None
        if row.level not in LEVELS:
            problems.append((row.line, f"level {row.level!r} must be one of {', '.join(LEVELS)}"))
            continue
        if row.parent_code:
            if row.parent_code not in paths:
                problems.append((row.line, f"parent {row.parent_code} is neither in the file nor in the database"))
                continue
            parent = Area(code=row.parent_code, level=levels[row.parent_code], path=paths[row.parent_code])
        problem = code_problem(row.code, row.level, parent) or _name_problem(row.name)
        if problem is None and parent is not None and actor is not None and not in_scope(actor, parent):
            problem = f"parent {row.parent_code} is outside your area"
        current = existing.get(row.code)
        if problem is None and current is not None and (
                current.level != row.level or current.parent_code != (row.parent_code or None)):
            problem = (f"{row.code} exists as a {current.level} under {current.parent_code or 'no parent'}; "
                       "moving an area is not supported")
        if problem:
            problems.append((row.line, problem))
            continue
        paths.setdefault(row.code, (parent.path if parent else "/") + row.code + "/")
        levels.setdefault(row.code, row.level)
    if problems:
        raise AreaImportError(problems)

    report = ImportReport()
    for row in parsed:
        current = existing.get(row.code)
        if current is None:
            area = Area(code=row.code, name=row.name, level=row.level, parent_code=row.parent_code or None,
                        path=paths[row.code])
            db.session.add(area)
            audit_service.record(actor=actor, action="area.import", entity="area", entity_id=row.code,
                                 area_code=row.code, after=_snapshot(area))
            report.created += 1
        elif current.name != row.name:
            before = _snapshot(current)
            current.name = row.name
            old, new = audit_service.changed_fields(before, _snapshot(current))
            audit_service.record(actor=actor, action="area.import", entity="area", entity_id=row.code,
                                 area_code=row.code, before=old, after=new)
            report.renamed += 1
        else:
            report.unchanged += 1
    db.session.flush()
    return report

"""Visits: written by their author's devices, ruled on by supervisors."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from backend.categories import service as categories_service
from backend.errors import NotFound, RecordError
from backend.households import service as households_service
from backend.households.models import Household
from backend.records import kinds
from backend.records.kinds import Kind, PhotoPlace, Reference
from backend.records.reads import get_record
from backend.visits.models import Visit
from backend.visits.schemas import VisitFieldsSchema, VisitSchema

if TYPE_CHECKING:
    from backend.accounts.models import User


def _prepare(actor: User, record: Visit | None, fields: dict[str, Any]) -> dict[str, Any]:
    if "kind" in fields:
        categories_service.check("visit_kind", fields["kind"], "kind")
    for index, concern in enumerate(fields.get("concerns") or []):
        categories_service.check("dispute_type", concern["category"], f"concerns.{index}.category")
    # The visit's area is its household's: checked whenever either side of the pair is written,
    # so that an area change alone cannot take a visit away from where its household lives.
    household_id = fields["household_id"] if "household_id" in fields else getattr(record, "household_id", None)
    if household_id is not None and ("household_id" in fields or "area_code" in fields):
        household = _household(actor, household_id, named="household_id" in fields)
        area_code = fields.setdefault("area_code", record.area_code if record else household.area_code)
        if area_code != household.area_code:
            raise RecordError("validation", f"area_code must be the household's area ({household.area_code}); "
                              "to record a visit elsewhere, leave household_id out.", field="area_code")
    return fields


def _household(actor: User, household_id: Any, *, named: bool) -> Household:
    """The visit's household in the actor's scope, or a validation error on the field being written."""
    try:
        return get_record(households_service.SPEC, actor=actor, record_id=household_id)
    except NotFound:
        if named:
            raise RecordError("validation", f"household_id: no household {household_id} in your area.",
                              field="household_id") from None
        raise RecordError("validation", "This visit's household is no longer in your area, so the visit's area "
                          "cannot change.", field="area_code") from None


def _references(fields: Mapping[str, Any]) -> list[Reference]:
    """A visit's household is read with the push's records: the area check needs it."""
    try:
        household_id = uuid.UUID(fields["household_id"]) if isinstance(fields.get("household_id"), str) else None
    except ValueError:
        household_id = None
    return [Reference(households_service.SPEC.name, household_id)] if household_id is not None else []


SPEC: Kind[Visit] = kinds.register(Kind(
    name="visit", plural="visits", model=Visit, schema=VisitFieldsSchema, out_schema=VisitSchema,
    required=("area_code", "kind", "visited_at"),
    create_roles=("cadre",), edit_roles=("cadre",), author_only=True, reviewed=True,
    prepare=_prepare, time_field="visited_at", status_field="review_status", references=_references,
    # Its photos are measured against the household visited, and timed against the visit.
    photos=PhotoPlace(target_kind=households_service.SPEC.name, target_field="household_id",
                      time_field="visited_at", evidence_view=True),
))

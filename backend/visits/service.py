"""Visits: written by their author's devices, ruled on by supervisors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.categories import service as categories_service
from backend.errors import NotFound
from backend.households import service as households_service
from backend.records.service import EntitySpec, RecordError, get_record
from backend.visits.models import Visit
from backend.visits.schemas import VisitFieldsSchema

if TYPE_CHECKING:
    from backend.accounts.models import User


def _prepare(actor: User, record: Visit | None, fields: dict[str, Any]) -> dict[str, Any]:
    if "kind" in fields:
        categories_service.check("visit_kind", fields["kind"], "kind")
    for index, concern in enumerate(fields.get("concerns") or []):
        categories_service.check("dispute_type", concern["category"], f"concerns.{index}.category")
    if fields.get("household_id") is not None:
        try:
            household = get_record(households_service.SPEC, actor=actor, record_id=fields["household_id"])
        except NotFound:
            raise RecordError("validation", f"household_id: no household {fields['household_id']} in your area.",
                              field="household_id") from None
        area_code = fields.setdefault("area_code", record.area_code if record else household.area_code)
        if area_code != household.area_code:
            raise RecordError("validation", "area_code must be the household's area.", field="area_code")
    return fields


SPEC = EntitySpec(
    name="visit", plural="visits", model=Visit, schema=VisitFieldsSchema,
    required=("area_code", "kind", "visited_at"),
    create_roles=("cadre",), edit_roles=("cadre",), author_only=True, reviewed=True,
    prepare=_prepare, time_field="visited_at", status_field="review_status",
)

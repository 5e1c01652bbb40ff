"""Households: the register a village's cadres keep, and the denominator of coverage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.areas import service as areas_service
from backend.errors import RecordError
from backend.households.models import Household
from backend.households.schemas import HouseholdFieldsSchema, HouseholdSchema
from backend.records import kinds
from backend.records.kinds import Kind

if TYPE_CHECKING:
    from backend.accounts.models import User

HOUSEHOLD_AREA_LEVELS = ("village", "grid")


def _prepare(actor: User, record: Household | None, fields: dict[str, Any]) -> dict[str, Any]:
    area = areas_service.find_area(fields["area_code"]) if "area_code" in fields else None
    # An area outside the actor's is answered by the scope check alone, whatever its level.
    if area is not None and areas_service.in_scope(actor, area) and area.level not in HOUSEHOLD_AREA_LEVELS:
        raise RecordError("validation", f"A household belongs to a village or grid, not a {area.level}.",
                          field="area_code")
    return fields


def _as_target(household: Household) -> dict[str, Any]:
    return {"name": None, "address": household.address, "head_name": household.head_name}


SPEC: Kind[Household] = kinds.register(Kind(
    name="household", plural="households", model=Household, schema=HouseholdFieldsSchema,
    out_schema=HouseholdSchema, required=("area_code", "address", "head_name"),
    create_roles=("cadre", "admin"), edit_roles=("cadre", "admin"),
    prepare=_prepare, as_target=_as_target,
))

"""Hotspots move along the rectification lifecycle; inspections are the evidence of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.accounts import service as accounts_service
from backend.categories import service as categories_service
from backend.errors import NotFound, RecordError
from backend.hotspots import lifecycle
from backend.hotspots.lifecycle import SUPERVISOR_ROLES, WRITER_ROLES
from backend.hotspots.models import Hotspot, Inspection
from backend.hotspots.schemas import HotspotFieldsSchema, HotspotSchema, InspectionFieldsSchema, InspectionSchema
from backend.records import kinds
from backend.records.kinds import Kind, PhotoPlace
from backend.records.reads import get_record

if TYPE_CHECKING:
    from backend.accounts.models import User


def _prepare_hotspot(actor: User, record: Hotspot | None, fields: dict[str, Any]) -> dict[str, Any]:
    if "category" in fields:
        categories_service.check("hotspot_type", fields["category"], "category")
    if fields.get("responsible_user_id") is not None:
        try:
            accounts_service.get_user(actor=actor, user_id=fields["responsible_user_id"])
        except NotFound:
            raise RecordError("validation", "responsible_user_id: no such user in your area.",
                              field="responsible_user_id") from None
    if (record is not None and "deadline" in fields and fields["deadline"] != record.deadline
            and not actor.has_role(*SUPERVISOR_ROLES)):
        # The deadline is what overdue and the rectification rate are measured against: the
        # team that lists a hotspot proposes it, only a supervisor moves it.
        raise RecordError("forbidden", "Only a supervisor changes a hotspot's deadline.", field="deadline")
    status = fields.get("status")
    if record is None:
        if status not in (None, lifecycle.INITIAL):
            raise RecordError("invalid_transition", f"A new hotspot starts as {lifecycle.INITIAL}.", field="status")
        fields["status"] = lifecycle.INITIAL
    elif status is not None and status != record.status:
        step = lifecycle.step(record.status, status)
        if step is None:
            raise RecordError("invalid_transition", f"A hotspot cannot go from {record.status} to {status}; "
                              f"next: {', '.join(lifecycle.next_statuses(record.status))}.", field="status")
        if not actor.has_role(*step.roles):
            raise RecordError("forbidden", "Only a supervisor accepts or refuses a rectification.", field="status")
    return fields


def _check_hotspot_delete(actor: User, record: Hotspot) -> None:
    # A hotspot still listed may be a mistaken entry its team removes; once work on it has
    # begun, deleting it would erase a rectification from the record.
    if record.status != "listed" and not actor.has_role(*SUPERVISOR_ROLES):
        raise RecordError("forbidden", f"This hotspot is {record.status}: only a supervisor deletes it now.")


def _prepare_inspection(actor: User, record: Inspection | None, fields: dict[str, Any]) -> dict[str, Any]:
    if record is not None and "hotspot_id" in fields and fields["hotspot_id"] != record.hotspot_id:
        raise RecordError("validation", "An inspection stays with its hotspot.", field="hotspot_id")
    if record is None and fields.get("hotspot_id") is not None:
        try:
            hotspot = get_record(HOTSPOT, actor=actor, record_id=fields["hotspot_id"])
        except NotFound:
            raise RecordError("validation", f"hotspot_id: no hotspot {fields['hotspot_id']} in your area.",
                              field="hotspot_id") from None
        fields["area_code"] = hotspot.area_code
    return fields


def _as_target(hotspot: Hotspot) -> dict[str, Any]:
    return {"name": hotspot.name, "address": None, "head_name": None}


HOTSPOT: Kind[Hotspot] = kinds.register(Kind(
    name="hotspot", plural="hotspots", model=Hotspot, schema=HotspotFieldsSchema, out_schema=HotspotSchema,
    required=("area_code", "name", "category"),
    create_roles=WRITER_ROLES, edit_roles=WRITER_ROLES, prepare=_prepare_hotspot, status_field="status",
    check_delete=_check_hotspot_delete, as_target=_as_target,
    # Its own photos are measured against itself.
    photos=PhotoPlace(target_kind="hotspot"),
))

INSPECTION: Kind[Inspection] = kinds.register(Kind(
    name="inspection", plural="inspections", model=Inspection, schema=InspectionFieldsSchema,
    out_schema=InspectionSchema, required=("hotspot_id", "inspected_at", "result"),
    create_roles=("inspector",), edit_roles=("inspector",), author_only=True, reviewed=True,
    prepare=_prepare_inspection, time_field="inspected_at", status_field="review_status",
    # Its photos are measured against the hotspot inspected, taken before or after the work.
    photos=PhotoPlace(target_kind="hotspot", target_field="hotspot_id", time_field="inspected_at", phases=True,
                      evidence_view=True),
))

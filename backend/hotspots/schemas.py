"""Bodies of /api/hotspots and /api/inspections."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from backend.hotspots.models import HOTSPOT_STATUSES, INSPECTION_RESULTS, RISK_LEVELS
from backend.pagination import page_schema
from backend.records.schemas import (
    RecordOutSchema,
    ReviewOutSchema,
    accuracy_field,
    area_code_field,
    lat_field,
    lon_field,
    text_field,
)


class HotspotFieldsSchema(ma.Schema):
    area_code = area_code_field()
    name = ma.fields.String(validate=validate.Length(min=1, max=200))
    category = ma.fields.String(validate=validate.Length(min=1, max=32),
                                metadata={"description": "A hotspot_types code from /api/categories"})
    lat = lat_field()
    lon = lon_field()
    radius_m = ma.fields.Float(allow_none=True, validate=validate.Range(min=0, max=100_000))
    risk_level = ma.fields.String(validate=validate.OneOf(RISK_LEVELS))
    status = ma.fields.String(validate=validate.OneOf(HOTSPOT_STATUSES),
                              metadata={"description": "listed → rectifying → acceptance_requested → closed; "
                                                       "closed → relapsed → rectifying"})
    deadline = ma.fields.Date(allow_none=True)
    responsible_user_id = ma.fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))


class HotspotCreateSchema(HotspotFieldsSchema):
    id = ma.fields.UUID(required=True)


class HotspotSchema(RecordOutSchema, HotspotFieldsSchema):
    name = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    lat = ma.fields.Float(required=True, allow_none=True)
    lon = ma.fields.Float(required=True, allow_none=True)
    radius_m = ma.fields.Float(required=True, allow_none=True)
    risk_level = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    deadline = ma.fields.Date(required=True, allow_none=True)
    responsible_user_id = ma.fields.Integer(required=True, allow_none=True)


class InspectionFieldsSchema(ma.Schema):
    """What the inspecting team writes; the area is the hotspot's."""

    hotspot_id = ma.fields.UUID()
    inspected_at = ma.fields.AwareDateTime(metadata={"description": "ISO 8601 with offset"})
    lat = lat_field()
    lon = lon_field()
    accuracy_m = accuracy_field()
    findings = text_field()
    measures = text_field()
    result = ma.fields.String(validate=validate.OneOf(INSPECTION_RESULTS))


class InspectionCreateSchema(InspectionFieldsSchema):
    id = ma.fields.UUID(required=True)


class InspectionSchema(RecordOutSchema, ReviewOutSchema, InspectionFieldsSchema):
    hotspot_id = ma.fields.UUID(required=True)
    inspected_at = ma.fields.AwareDateTime(required=True)
    lat = ma.fields.Float(required=True, allow_none=True)
    lon = ma.fields.Float(required=True, allow_none=True)
    accuracy_m = ma.fields.Float(required=True, allow_none=True)
    findings = ma.fields.String(required=True)
    measures = ma.fields.String(required=True)
    result = ma.fields.String(required=True)


HotspotPageSchema = page_schema(HotspotSchema, "HotspotPage")
InspectionPageSchema = page_schema(InspectionSchema, "InspectionPage")


class LifecycleStateSchema(ma.Schema):
    code = ma.fields.String(required=True)
    zh = ma.fields.String(required=True)
    en = ma.fields.String(required=True)


class LifecycleStepSchema(ma.Schema):
    source = ma.fields.String(required=True, data_key="from")
    target = ma.fields.String(required=True, data_key="to")
    roles = ma.fields.List(ma.fields.String(), required=True,
                           metadata={"description": "Any of these roles may take it"})
    zh = ma.fields.String(required=True, metadata={"description": "The step's button, in Chinese"})
    en = ma.fields.String(required=True)


class LifecycleSchema(ma.Schema):
    """The hotspot's statuses and the steps between them, as the server enforces them."""

    initial = ma.fields.String(required=True, metadata={"description": "The status a new hotspot starts in"})
    states = ma.fields.List(ma.fields.Nested(LifecycleStateSchema), required=True)
    steps = ma.fields.List(ma.fields.Nested(LifecycleStepSchema), required=True)

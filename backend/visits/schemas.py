"""Bodies of /api/visits."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

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


class ConcernSchema(ma.Schema):
    category = ma.fields.String(required=True, validate=validate.Length(min=1, max=32),
                                metadata={"description": "A dispute_types code from /api/categories"})
    description = text_field(2000, load_default="")


class VisitFieldsSchema(ma.Schema):
    """What the visiting cadre writes; review fields are not among them."""

    area_code = area_code_field(metadata={"description": "Defaults to the household's area"})
    household_id = ma.fields.UUID(allow_none=True)
    kind = ma.fields.String(validate=validate.Length(min=1, max=32),
                            metadata={"description": "A visit_kinds code from /api/categories"})
    visited_at = ma.fields.AwareDateTime(metadata={"description": "ISO 8601 with offset"})
    lat = lat_field()
    lon = lon_field()
    accuracy_m = accuracy_field()
    summary = text_field()
    concerns = ma.fields.List(ma.fields.Nested(ConcernSchema), validate=validate.Length(max=20))
    satisfaction = ma.fields.Integer(allow_none=True, validate=validate.Range(min=1, max=5))
    follow_up_due = ma.fields.Date(allow_none=True)


class VisitCreateSchema(VisitFieldsSchema):
    id = ma.fields.UUID(required=True, metadata={"description": "Chosen by the client (UUID v7 preferred)"})


class VisitSchema(RecordOutSchema, ReviewOutSchema, VisitFieldsSchema):
    household_id = ma.fields.UUID(required=True, allow_none=True)
    kind = ma.fields.String(required=True)
    visited_at = ma.fields.AwareDateTime(required=True)
    lat = ma.fields.Float(required=True, allow_none=True)
    lon = ma.fields.Float(required=True, allow_none=True)
    accuracy_m = ma.fields.Float(required=True, allow_none=True)
    summary = ma.fields.String(required=True)
    concerns = ma.fields.List(ma.fields.Nested(ConcernSchema), required=True)
    satisfaction = ma.fields.Integer(required=True, allow_none=True)
    follow_up_due = ma.fields.Date(required=True, allow_none=True)


VisitPageSchema = page_schema(VisitSchema, "VisitPage")

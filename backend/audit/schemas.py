"""Bodies of /api/audit."""

from __future__ import annotations

import marshmallow as ma

from backend.pagination import ID_RANGE, PageArgsSchema, page_schema
from backend.records.schemas import Instant


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    at = ma.fields.AwareDateTime(required=True)
    actor_id = ma.fields.Integer(required=True, allow_none=True)
    actor_name = ma.fields.String(required=True)
    action = ma.fields.String(required=True)
    entity = ma.fields.String(required=True)
    entity_id = ma.fields.String(required=True)
    area_code = ma.fields.String(required=True, allow_none=True)
    before = ma.fields.Dict(required=True, allow_none=True)
    after = ma.fields.Dict(required=True, allow_none=True)
    request_id = ma.fields.String(required=True, allow_none=True)
    ip = ma.fields.String(required=True, allow_none=True)


class AuditQueryArgsSchema(PageArgsSchema):
    entity = ma.fields.String(metadata={"description": "e.g. user, area, device_token"})
    entity_id = ma.fields.String()
    actor_id = ma.fields.Integer(validate=ID_RANGE)
    action = ma.fields.String(metadata={"description": "e.g. user.create"})
    since = Instant(metadata={"description": "At or after (ISO 8601 with offset)"})
    until = Instant(metadata={"description": "Before (ISO 8601 with offset)"})


AuditPageSchema = page_schema(AuditEventSchema, "AuditPage")

"""Bodies of /api/review."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from backend.areas.schemas import AREA_CODE
from backend.evidence.flags import CODES as FLAG_CODES
from backend.pagination import ID_RANGE, PageArgsSchema, page_schema
from backend.records import kinds
from backend.records.schemas import Instant

# A reviewed kind's name, checked against the registry when a request arrives.
RECORD_TYPE = kinds.KindName(kinds.reviewed_kinds)
SKIP_REASONS = ("not_found", "not_pending", "stale_version", "own_record", "flagged", "photos_not_stored")
MAX_BULK = 200


class QueueArgsSchema(PageArgsSchema):
    area = ma.fields.String(validate=AREA_CODE, metadata={"description": "Only this area's subtree"})
    author = ma.fields.Integer(validate=ID_RANGE, metadata={"description": "Created by this user id"})
    since = Instant(metadata={"description": "Record time (visited_at / inspected_at) at or after"})
    until = Instant(metadata={"description": "Record time before"})
    flag = ma.fields.String(validate=validate.OneOf(FLAG_CODES),
                            metadata={"description": "Only records with a live photo carrying this flag"})
    record_type = ma.fields.String(validate=RECORD_TYPE)


class QueueItemSchema(ma.Schema):
    record_type = ma.fields.String(required=True, metadata={"description": "visit | inspection"})
    id = ma.fields.UUID(required=True)
    area_code = ma.fields.String(required=True)
    author_id = ma.fields.Integer(required=True, metadata={"description": "created_by_id of the record"})
    author_name = ma.fields.String(required=True, allow_none=True,
                                   metadata={"description": "The author's display name (else username)"})
    area_name = ma.fields.String(required=True, allow_none=True, metadata={"description": "Name of area_code"})
    record_time = ma.fields.AwareDateTime(required=True, metadata={"description": "visited_at / inspected_at"})
    version = ma.fields.Integer(required=True, metadata={"description": "What bulk-approve and If-Match name"})
    photo_count = ma.fields.Integer(required=True, metadata={"description": "Live photos attached"})
    photos_stored = ma.fields.Integer(required=True, metadata={"description": "Of those, whose bytes arrived"})
    flag_count = ma.fields.Integer(required=True, metadata={"description": "Sum of the live photos' flag counts"})
    flags = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "Distinct flag codes"})


QueuePageSchema = page_schema(QueueItemSchema, "ReviewQueuePage")


class BulkItemSchema(ma.Schema):
    record_type = ma.fields.String(required=True, validate=RECORD_TYPE)
    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True, validate=ID_RANGE,
                                metadata={"description": "The version the supervisor looked at"})


class BulkApproveSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(BulkItemSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_BULK))


class BulkOutcomeSchema(ma.Schema):
    record_type = ma.fields.String(required=True)
    id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True, metadata={"description": "approved | skipped"})
    reason = ma.fields.String(required=True, allow_none=True,
                              metadata={"description": f"Why skipped: {' | '.join(SKIP_REASONS)}"})
    version = ma.fields.Integer(required=True, allow_none=True,
                                metadata={"description": "The record's version now (null when not found)"})


class BulkApproveResultSchema(ma.Schema):
    approved = ma.fields.Integer(required=True)
    skipped = ma.fields.Integer(required=True)
    items = ma.fields.List(ma.fields.Nested(BulkOutcomeSchema), required=True)

"""Bodies of /api/areas."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from backend.areas.models import LEVELS

# ASCII only: \d would also take "３" and "٣", and $ a trailing newline.
AREA_CODE = validate.Regexp(r"^[0-9]{12}\Z", error="An area code has 12 digits 0-9.")


class AreaSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    level = ma.fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent_code = ma.fields.String(required=True, allow_none=True)
    child_count = ma.fields.Integer(dump_default=0, metadata={"description": "Number of direct children"})


class AreaCreateSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=AREA_CODE)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    level = ma.fields.String(required=True, validate=validate.OneOf(LEVELS[1:]))
    parent_code = ma.fields.String(required=True, validate=AREA_CODE)


class AreaUpdateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))


class AreaQueryArgsSchema(ma.Schema):
    parent = ma.fields.String(validate=AREA_CODE,
                              metadata={"description": "List this area's children; without it, your own area"})

"""Bodies of /api/households."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from backend.accounts.schemas import PhoneField
from backend.pagination import page_schema
from backend.records.schemas import RecordOutSchema, area_code_field, lat_field, lon_field


class HouseholdFieldsSchema(ma.Schema):
    """What a cadre writes about a household."""

    area_code = area_code_field(metadata={"description": "A village or grid"})
    address = ma.fields.String(validate=validate.Length(min=1, max=200))
    head_name = ma.fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "户主"})
    phone = PhoneField(allow_none=True)
    lat = lat_field()
    lon = lon_field()
    tags = ma.fields.List(ma.fields.String(validate=validate.Length(min=1, max=32)),
                          validate=validate.Length(max=20))


class HouseholdCreateSchema(HouseholdFieldsSchema):
    id = ma.fields.UUID(required=True, metadata={"description": "Chosen by the client (UUID v7 preferred)"})


class HouseholdSchema(RecordOutSchema, HouseholdFieldsSchema):
    address = ma.fields.String(required=True)
    head_name = ma.fields.String(required=True)
    phone = ma.fields.String(required=True, allow_none=True)  # type: ignore[assignment]  # shown, not parsed
    lat = ma.fields.Float(required=True, allow_none=True)
    lon = ma.fields.Float(required=True, allow_none=True)
    tags = ma.fields.List(ma.fields.String(), required=True)


class HouseholdListItemSchema(HouseholdSchema):
    phone = ma.fields.Function(  # type: ignore[assignment]  # a list shows it masked
        lambda household: mask_phone(household.phone), required=True, allow_none=True,
                               metadata={"type": "string", "description": "Masked: 138****1234"})


def mask_phone(phone: str | None) -> str | None:
    return f"{phone[:3]}****{phone[-4:]}" if phone else None


HouseholdPageSchema = page_schema(HouseholdListItemSchema, "HouseholdPage")

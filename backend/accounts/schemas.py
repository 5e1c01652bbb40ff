"""Request and response bodies of auth, users and devices."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from marshmallow import validate

from backend.accounts.models import ROLES
from backend.accounts.service import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalize_phone, token_expires_at
from backend.areas.schemas import AREA_CODE
from backend.pagination import ID_RANGE, PageArgsSchema, page_schema


class PhoneField(ma.fields.String):
    """A mainland mobile number, normalised to 11 digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_phone(text)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from exc


def _password(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(load_only=True, validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
                            metadata={"description": f"At least {MIN_PASSWORD_LENGTH} characters"}, **kwargs)


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    username = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True, required=True)
    roles = ma.fields.List(ma.fields.String(validate=validate.OneOf(ROLES)), required=True)
    area_code = ma.fields.String(required=True)
    area_name = ma.fields.Function(lambda user: user.area.name, dump_only=True)
    active = ma.fields.Boolean(required=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class UserCreateSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=3, max=64),
                                metadata={"description": "3-64 of a-z 0-9 . _ @ -; stored lower-case"})
    password = _password(required=True)
    display_name = ma.fields.String(validate=validate.Length(min=1, max=64))
    phone = PhoneField(allow_none=True)
    roles = ma.fields.List(ma.fields.String(validate=validate.OneOf(ROLES)), required=True,
                           validate=validate.Length(min=1))
    area_code = ma.fields.String(required=True, validate=AREA_CODE)


class UserUpdateSchema(ma.Schema):
    display_name = ma.fields.String(validate=validate.Length(min=1, max=64))
    phone = PhoneField(allow_none=True)
    roles = ma.fields.List(ma.fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(min=1))
    area_code = ma.fields.String(validate=AREA_CODE)
    active = ma.fields.Boolean()


class UserQueryArgsSchema(PageArgsSchema):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    area = ma.fields.String(validate=AREA_CODE, metadata={"description": "Only users in this area's subtree"})
    active = ma.fields.Boolean()
    q = ma.fields.String(validate=validate.Length(max=64), metadata={"description": "Part of username, name or phone"})


UserPageSchema = page_schema(UserSchema, "UserPage")


class PasswordSetSchema(ma.Schema):
    password = _password(required=True)


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True,
                                        validate=validate.Length(max=MAX_PASSWORD_LENGTH))
    new_password = _password(required=True)


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH))
    device_name = ma.fields.String(load_default="未命名设备", validate=validate.Length(max=64),
                                   metadata={"description": "Shown in the device list, e.g. 'Redmi 12 (Chrome)'"})


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    user = ma.fields.Nested(UserSchema, required=True)


class DeviceSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.Function(lambda device: token_expires_at(device).isoformat(), required=True,
                                    metadata={"type": "string", "format": "date-time"})
    current = ma.fields.Function(lambda device: device.id == g.device.id, required=True,
                                 metadata={"type": "boolean", "description": "The token of this request"})


class DeviceQueryArgsSchema(ma.Schema):
    user_id = ma.fields.Integer(validate=ID_RANGE, metadata={"description": "Admins: another user's devices"})

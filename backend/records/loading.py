"""A kind's field schema as one plain function: the write path's validator for valid fields.

``clean`` runs for every mutation of a push. marshmallow's ``Schema.load`` spends most of
its time in bookkeeping (an error store, a closure and an ``And`` of the validators per
field and call) that a body of valid fields never needs. ``compile_loader`` walks the
schema once and returns a function that loads such a body to exactly what ``load``
returns; at the first thing it is not sure of (a wrong type, a failed validator, a
missing required field, an unknown key, a field type it does not know) it hands the
whole body to ``load``, so every error, its fields and its messages stay marshmallow's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import marshmallow as ma
from marshmallow.utils import missing

Load = Callable[[Mapping[str, Any]], dict[str, Any]]
Convert = Callable[[Any], Any]


class _Unsure(Exception):
    """The fast path cannot vouch for this value: marshmallow decides."""


def compile_loader(schema: ma.Schema) -> Load:
    """``schema.load`` for a mapping, faster for valid bodies and the same in every answer."""
    fast = _compile_schema(schema)
    if fast is None:
        return schema.load

    def load(data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return fast(data)
        except Exception:  # noqa: BLE001  anything unexpected is marshmallow's to judge
            return schema.load(data)

    return load


def _compile_schema(schema: ma.Schema) -> Convert | None:
    """A function loading one mapping as ``schema`` does, raising _Unsure; None if it cannot."""
    if any(schema._hooks.values()) or schema.many or schema.unknown not in (ma.RAISE, ma.INCLUDE):
        return None
    include = schema.unknown == ma.INCLUDE
    plan: list[tuple[str, str, bool, Any, Convert]] = []
    for name, field in schema.load_fields.items():
        convert = compile_field(field)
        if convert is None or (field.attribute is not None and "." in field.attribute):
            return None
        key = field.data_key if field.data_key is not None else name
        plan.append((key, field.attribute or name, field.required, field.load_default, convert))
    keys = frozenset(key for key, *_rest in plan)

    def load(data: Any) -> dict[str, Any]:
        if type(data) is not dict or not (include or data.keys() <= keys):
            raise _Unsure
        out: dict[str, Any] = {}
        for key, attribute, required, default, convert in plan:
            if key in data:
                out[attribute] = convert(data[key])
            elif required:
                raise _Unsure
            elif default is not missing:
                out[attribute] = default() if callable(default) else default
        if include:
            out.update((key, value) for key, value in data.items() if key not in keys)
        return out

    return load


def compile_field(field: ma.fields.Field) -> Convert | None:
    """A function deserializing and validating one present value as ``field.deserialize`` does,
    raising on anything it is not sure of; None for a field it cannot compile."""
    if field.pre_load or field.post_load:
        return None
    convert: Convert
    if type(field) is ma.fields.Nested:
        if field.many or field.only or field.exclude or field.unknown not in (None, ma.RAISE):
            return None
        inner = _compile_schema(field.schema)
        if inner is None:
            return None
        convert = inner
    elif type(field) is ma.fields.List:
        item = compile_field(field.inner)
        if item is None:
            return None

        def convert(value: Any) -> Any:
            if type(value) is not list:
                raise _Unsure
            return [item(each) for each in value]
    elif type(field) is ma.fields.String:
        convert = _string
    elif type(field) is ma.fields.Integer:
        convert = _integer
    elif type(field) is ma.fields.Float and not field.allow_nan:
        convert = _float
    elif type(field) is ma.fields.Raw:
        convert = _raw
    else:
        # Any other field (dates, UUIDs, the project's own) loads through its own code.
        def convert(value: Any) -> Any:
            return field.deserialize(value)

        return _allowing_none(field, convert)
    return _allowing_none(field, _validated(field, convert))


def _allowing_none(field: ma.fields.Field, convert: Convert) -> Convert:
    allow_none = field.allow_none

    def load(value: Any) -> Any:
        if value is None:
            if allow_none:
                return None
            raise _Unsure
        return convert(value)

    return load


def _validated(field: ma.fields.Field, convert: Convert) -> Convert:
    validators = tuple(field.validators)
    if not validators:
        return convert

    def load(value: Any) -> Any:
        out = convert(value)
        for validator in validators:
            if validator(out) is False:  # a ValidationError raised escapes to marshmallow as well
                raise _Unsure
        return out

    return load


def _string(value: Any) -> str:
    if type(value) is not str:
        raise _Unsure
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:  # bool, float and numeric strings: marshmallow's rules
        raise _Unsure
    return value


def _float(value: Any) -> float:
    if type(value) is float:
        if not math.isfinite(value):
            raise _Unsure
        return value
    if type(value) is int:
        number = float(value)  # OverflowError past 1e308: marshmallow's "too large"
        if not math.isfinite(number):
            raise _Unsure
        return number
    raise _Unsure


def _raw(value: Any) -> Any:
    return value

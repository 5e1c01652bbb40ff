"""Bodies of /api/sync/push and /api/sync/pull."""

from __future__ import annotations

import functools

import marshmallow as ma
from marshmallow import validate

from backend.records import kinds
from backend.records.loading import Convert, compile_field

MAX_MUTATIONS = 100
MAX_PULL = 500


class _Lenient(ma.Schema):
    """Unknown keys are kept: a mutation's own check names them, as that mutation's rejection."""

    class Meta:
        unknown = ma.INCLUDE


# The id is checked here; everything else per mutation, so one bad mutation is only its own rejection.
MutationSchema = _Lenient.from_dict({
    "id": ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1),
                            metadata={"description": "Per-client sequence: +1 for each mutation ever queued"}),
    "type": ma.fields.Raw(metadata={"description": "<kind>.<operation>: household|visit|hotspot|inspection . "
                                                   "upsert|delete, or photo . attach|delete",
                                    "type": "string"}),
    "record_id": ma.fields.Raw(metadata={"type": "string", "format": "uuid"}),
    "base_version": ma.fields.Raw(allow_none=True, metadata={"type": "integer", "nullable": True,
                                                             "description": "Version the client last saw; "
                                                                            "null for a record it created"}),
    # Declared by name: an attribute called ``fields`` would hide the schema's own.
    "fields": ma.fields.Raw(metadata={"type": "object", "description": "The record's fields (upsert)"}),
}, name="MutationSchema")


class _Mutations(ma.fields.List):
    """A push's mutations, each loaded by MutationSchema compiled (records/loading.py) when it is
    well formed, else by marshmallow, whose errors these are."""

    def _deserialize(self, value, attr, data, **kwargs):
        item = _compiled_mutation()
        if item is not None and type(value) is list:
            try:
                return [item(each) for each in value]
            except Exception:  # noqa: BLE001, S110  marshmallow answers below
                pass
        return super()._deserialize(value, attr, data, **kwargs)


@functools.cache
def _compiled_mutation() -> Convert | None:
    return compile_field(ma.fields.Nested(MutationSchema))


class PushSchema(ma.Schema):
    client_id = ma.fields.UUID(required=True, metadata={"description": "One per installed app"})
    mutations = _Mutations(ma.fields.Nested(MutationSchema), required=True)


class ErrorInfoSchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    field = ma.fields.String(allow_none=True)


class MutationResultSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(["applied", "merged", "conflict", "rejected"]))
    record_id = ma.fields.String(required=True, allow_none=True)
    version = ma.fields.Integer(required=True, allow_none=True)
    conflicts = ma.fields.List(ma.fields.Dict(), required=True)
    error = ma.fields.Nested(ErrorInfoSchema, required=True, allow_none=True)


class PushResultSchema(ma.Schema):
    last_mutation_id = ma.fields.Integer(required=True)
    results = ma.fields.List(ma.fields.Nested(MutationResultSchema), required=True)


class PullArgsSchema(ma.Schema):
    client_id = ma.fields.UUID(required=True)
    cursor = ma.fields.String(metadata={"description": "The cursor of the last page applied; none at first"})
    limit = ma.fields.Integer(load_default=MAX_PULL, validate=validate.Range(min=1, max=MAX_PULL))


def _changes(schema: type[ma.Schema]) -> ma.fields.Nested:
    return ma.fields.Nested(ma.Schema.from_dict({
        "upserted": ma.fields.List(ma.fields.Nested(schema), required=True),
        "deleted": ma.fields.List(ma.fields.UUID(), required=True),
    }, name=f"{schema.__name__.removesuffix('Schema')}Changes"), required=True)


_changes_schemas: dict[tuple[str, ...], type[ma.Schema]] = {}


def changes_schema() -> type[ma.Schema]:
    """The ``changes`` of a pull page: one entry per registered kind, by its plural, read when the
    OpenAPI document is built (kinds register after this module is imported)."""
    pulled = [kind for kind in kinds.all_kinds() if kind.out_schema is not None]
    key = tuple(kind.name for kind in pulled)
    if key not in _changes_schemas:
        _changes_schemas[key] = ma.Schema.from_dict(
            {kind.plural: _changes(kind.out_schema) for kind in pulled if kind.out_schema is not None},
            name="ChangesSchema")
    return _changes_schemas[key]


class PullResultSchema(ma.Schema):
    cursor = ma.fields.String(required=True, metadata={"description": "Save it after applying this page"})
    has_more = ma.fields.Boolean(required=True)
    reset = ma.fields.Boolean(required=True, metadata={"description": "Drop the mirror (keep the outbox): "
                                                                      "this page starts from scratch"})
    last_mutation_id = ma.fields.Integer(required=True)
    changes = ma.fields.Nested(changes_schema, required=True)

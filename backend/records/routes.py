"""The REST shape every record capability shares: list, get, create, update, delete, review."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.auth import current_user, login_required
from backend.errors import PreconditionRequired, RecordError
from backend.extensions import db
from backend.headers import header_number
from backend.records import reads, writes
from backend.records.kinds import Kind
from backend.records.schemas import RecordQueryArgsSchema, ReviewSchema
from backend.records.writes import rest_writer

IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": 'The ETag (version) of the record you edited, e.g. "3"'}


def if_match_version() -> int:
    """The version named by If-Match: 428 when absent, 412 when it names no version."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired("Send If-Match with the ETag of the version you edited.")
    version = header_number(header.removeprefix("W/").strip('"'), max_digits=9)
    if version is None:
        raise RecordError("stale_version", f"If-Match {header} names no version of this record.")
    return version


def with_etag(record: Any, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    return record, status, {"ETag": f'"{record.version}"'}


def register_record_routes(blp: Blueprint, spec: Kind[Any], *, create_schema: type[ma.Schema],
                           out_schema: type[ma.Schema], page_schema: type[ma.Schema]) -> None:
    """Add the collection and item routes of ``spec`` to ``blp``."""
    fields_schema = spec.schema
    id_path = "/<uuid:record_id>"

    @blp.route("")
    class Collection(MethodView):
        @login_required()
        @blp.doc(summary=f"List {spec.plural} in your area")
        @blp.arguments(RecordQueryArgsSchema, location="query")
        @blp.response(200, page_schema)
        def get(self, args):
            return reads.list_records(spec, actor=current_user(), **args)

        @login_required()
        @blp.doc(summary=f"Create a {spec.name} under a client-chosen id (replaying the same create is harmless)")
        @blp.arguments(create_schema)
        @blp.response(201, out_schema, description="Created")
        @blp.alt_response(200, schema=out_schema, description="The same create, replayed: the existing record")
        def post(self, args):
            actor = current_user()
            record_id = args.pop("id")
            record, created = writes.create_once(spec, actor=actor, writer=rest_writer(actor),
                                                  record_id=record_id, fields=args)
            db.session.commit()
            return with_etag(record, 201 if created else 200)

    @blp.route(id_path)
    class Item(MethodView):
        @login_required()
        @blp.doc(summary=f"One {spec.name}; its ETag is its version")
        @blp.response(200, out_schema)
        def get(self, record_id):
            return with_etag(reads.get_record(spec, actor=current_user(), record_id=record_id))

        @login_required()
        @blp.doc(parameters=[IF_MATCH], summary=f"Change a {spec.name} (If-Match: its current version)")
        @blp.arguments(fields_schema)
        @blp.response(200, out_schema)
        def patch(self, args, record_id):
            actor = current_user()
            outcome = writes.update(spec, actor=actor, writer=rest_writer(actor), record_id=record_id,
                                     fields=args, base_version=if_match_version(), strict=True)
            db.session.commit()
            return with_etag(outcome.record)

        @login_required()
        @blp.doc(parameters=[IF_MATCH], summary=f"Delete a {spec.name} (kept, marked deleted)")
        @blp.response(204)
        def delete(self, record_id):
            actor = current_user()
            writes.delete(spec, actor=actor, writer=rest_writer(actor), record_id=record_id,
                           base_version=if_match_version(), strict=True)
            db.session.commit()

    if spec.reviewed:
        @blp.route(id_path + "/review", methods=["POST"])
        @login_required(*writes.REVIEWER_ROLES)
        @blp.doc(parameters=[IF_MATCH], summary=f"Review a {spec.name}: approve, reject or return it")
        @blp.arguments(ReviewSchema)
        @blp.response(200, out_schema)
        def review(args, record_id):
            actor = current_user()
            record = writes.review(spec, actor=actor, writer=rest_writer(actor), record_id=record_id,
                                    base_version=if_match_version(), **args)
            db.session.commit()
            return with_etag(record)

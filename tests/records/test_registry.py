"""A kind declared in one place goes through push, pull and review: no other file names it.

The test declares a kind of its own (a model and table of its own, created inside the
test's transaction), registers it, and drives it through the HTTP API: a sync push
creating and changing it (and an operation of its own, as ``transition`` will be), a pull
that carries it under its plural, the review queue listing it and a bulk approval ruling
on it. It is unregistered and its table dropped from the metadata afterwards.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime
from types import MappingProxyType
from typing import Any

import marshmallow as ma
import pytest
from sqlalchemy import String, select
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Mapped, mapped_column

from backend.audit.models import AuditEvent
from backend.changes.models import Change
from backend.extensions import db as _db
from backend.records import kinds, writes
from backend.records.kinds import Kind, Mutation, WriteOutcome
from backend.records.models import RecordMixin, ReviewMixin
from backend.records.schemas import RecordOutSchema
from tests.sync.conftest import cadre, new_id, pull_all, push, supervisor  # noqa: F401


class NoteFieldsSchema(ma.Schema):
    area_code = ma.fields.String()
    text = ma.fields.String()
    noted_at = ma.fields.AwareDateTime()
    state = ma.fields.String()


class NoteSchema(RecordOutSchema):
    text = ma.fields.String(required=True)
    noted_at = ma.fields.AwareDateTime(required=True)
    state = ma.fields.String(required=True)
    review_status = ma.fields.String(required=True)


def _close(kind: Kind[Any], *, actor: Any, writer: str, mutation: Mutation) -> WriteOutcome[Any]:
    """An operation only this kind has: what a case kind's ``transition`` will look like."""
    return writes.update(kind, actor=actor, writer=writer, record_id=mutation.record_id, fields={"state": "closed"},
                         base_version=mutation.base_version, strict=False)


@pytest.fixture
def note_kind(db) -> Iterator[Kind[Any]]:
    # Declared afresh for each test that uses it; a process that runs the test again (mutmut
    # does) declares a second Note, which replaces the first in the class registry.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "This declarative base already contains a class", SAWarning)

        class Note(RecordMixin, ReviewMixin, _db.Model):
            __tablename__ = "test_registry_notes"

            text: Mapped[str] = mapped_column(String(200))
            noted_at: Mapped[datetime]
            state: Mapped[str] = mapped_column(String(16), default="open")

    Note.__table__.create(db.session.connection())
    kind = kinds.register(Kind(
        name="note", plural="notes", model=Note, schema=NoteFieldsSchema, out_schema=NoteSchema,
        required=("area_code", "text", "noted_at"), create_roles=("cadre",), edit_roles=("cadre",),
        author_only=True, reviewed=True, time_field="noted_at", status_field="review_status",
        operations=MappingProxyType({"upsert": None, "delete": None, "close": _close}),
    ))
    try:
        yield kind
    finally:
        kinds.unregister("note")
        _db.metadata.remove(Note.__table__)


def test_a_registered_kind_goes_through_push_pull_and_review(client, db, tree, cadre, supervisor,  # noqa: F811
                                                             note_kind):
    note_id = new_id()
    fields = {"area_code": tree.V1, "text": "村口路灯坏了", "noted_at": "2026-11-20T09:30:00+08:00"}
    results = push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("note.upsert", note_id, fields),
        cadre.mutation("note.upsert", note_id, {"text": "村口路灯坏了两盏"}, base_version=1),
        cadre.mutation("note.close", note_id, {}, base_version=2),
        cadre.mutation("note.transition", note_id, {}, base_version=3),
    ])["results"]
    assert [(result["status"], result["version"]) for result in results[:3]] == [
        ("applied", 1), ("applied", 2), ("applied", 3)]
    assert (results[3]["status"], results[3]["error"]["code"]) == ("rejected", "unknown_type")
    assert "note.close" in results[3]["error"]["message"]

    # Logged and audited as every record is.
    assert db.session.scalars(select(Change.entity).where(Change.record_id == uuid.UUID(note_id))).all() == [
        "note"] * 3
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == note_id)
                              .order_by(AuditEvent.id)).all() == ["note.create", "note.update", "note.update"]

    pulled = pull_all(client, supervisor.headers, supervisor.client_id)
    note = pulled.upserted("notes")[note_id]
    assert (note["text"], note["state"], note["version"], note["review_status"]) == (
        "村口路灯坏了两盏", "closed", 3, "pending")

    queue = client.get("/api/review/queue", headers=supervisor.headers, query_string={"record_type": "note"})
    assert queue.status_code == 200, queue.get_data(as_text=True)
    assert [(item["record_type"], item["id"]) for item in queue.get_json()["items"]] == [("note", note_id)]

    approved = client.post("/api/review/bulk-approve", headers=supervisor.headers,
                           json={"items": [{"record_type": "note", "id": note_id, "version": 3}]})
    assert approved.status_code == 200, approved.get_data(as_text=True)
    assert approved.get_json()["approved"] == 1
    again = pull_all(client, cadre.headers, cadre.client_id)
    assert again.upserted("notes")[note_id]["review_status"] == "approved"


def test_an_unregistered_kind_is_unknown_to_push_and_review(client, tree, cadre, supervisor):  # noqa: F811
    result = push(client, cadre.headers, cadre.client_id, [cadre.mutation("note.upsert", new_id(), {})])
    assert result["results"][0]["error"]["code"] == "unknown_type"
    queue = client.get("/api/review/queue", headers=supervisor.headers, query_string={"record_type": "note"})
    assert queue.status_code == 422

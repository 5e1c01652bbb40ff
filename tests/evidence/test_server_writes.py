"""What the server writes of a photo goes through the records' write path: the photo's
``field_versions`` name the server as the writer, and each such write is audited where the
records' own writes are (``photo.follow``, ``photo.delete``, ``photo.flag``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from backend.audit.models import AuditEvent
from backend.evidence.models import Photo
from tests.evidence.conftest import generated_jpeg, sha256
from tests.sync.conftest import device, new_id, push, visit_fields


def photo_events(db, photo_id: str) -> list[tuple[str, str | None]]:
    return [(action, actor) for action, actor in db.session.execute(
        select(AuditEvent.action, AuditEvent.actor_name).where(AuditEvent.entity == "photo",
                                                               AuditEvent.entity_id == photo_id)
        .order_by(AuditEvent.id))]


def attached(client, author, visit_id: str, seed: int) -> str:
    photo_id, data = new_id(), generated_jpeg(seed=seed)
    answer = push(client, author.headers, author.client_id, [
        author.mutation("visit.upsert", visit_id, visit_fields()),
        author.mutation("photo.attach", photo_id, {"record_type": "visit", "record_id": visit_id,
                                                   "sha256": sha256(data), "bytes": len(data),
                                                   "captured_at": "2026-11-20T09:35:00+08:00"})])
    assert [result["status"] for result in answer["results"]] == ["applied", "applied"], answer
    return photo_id


def test_a_photo_deleted_with_its_visit_leaves_an_audit_event_and_a_server_field_version(client, db, tree):
    author = device("cadre-a-server", tree.A, "cadre")
    visit_id = new_id()
    photo_id = attached(client, author, visit_id, seed=31)

    answer = push(client, author.headers, author.client_id, [author.mutation("visit.delete", visit_id, None, 1)])
    assert answer["results"][0]["status"] == "applied", answer

    photo = db.session.scalars(select(Photo).where(Photo.id == uuid.UUID(photo_id))).one()
    assert photo.deleted is True
    assert photo.field_versions["deleted"] == [photo.version, "server"]
    assert ("photo.delete", author.user.username) in photo_events(db, photo_id)


def test_a_photo_following_its_visit_to_another_area_is_audited_with_the_move(client, db, tree):
    author = device("cadre-a-follow", tree.A, "cadre")  # a county cadre: may write in V1 and V2
    visit_id = new_id()
    photo_id = attached(client, author, visit_id, seed=32)

    answer = push(client, author.headers, author.client_id, [
        author.mutation("visit.upsert", visit_id, {"area_code": tree.V2}, 1)])
    assert answer["results"][0]["status"] == "applied", answer

    photo = db.session.scalars(select(Photo).where(Photo.id == uuid.UUID(photo_id))).one()
    assert photo.area_code == tree.V2
    assert photo.field_versions["area_code"][1] == "server"
    follow = db.session.execute(select(AuditEvent.before, AuditEvent.after).where(
        AuditEvent.entity_id == photo_id, AuditEvent.action == "photo.follow")).one()
    assert (follow.before, follow.after) == ({"area_code": tree.V1}, {"area_code": tree.V2})

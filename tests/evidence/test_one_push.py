"""A photo's life inside one push ends as it does across separate pushes.

A push flushes once, at its end; the mutations in it must still see each other. Each
scenario runs the same mutations twice, once as one push and once as one push per
mutation, and compares what users then see: the photo's area and deletion, GET
/api/photos, and what pulls in each village carry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from backend.evidence.models import Photo
from tests.evidence.conftest import generated_jpeg, sha256
from tests.sync.conftest import Device, device, new_id, pull_all, push, visit_fields


@dataclass
class Outcome:
    """What the users see of the photo after the mutations."""

    area_code: str
    deleted: bool
    listed_by_author: bool
    pulled: dict[str, str]       # village -> "upserted" | "deleted" | "absent" in a pull from scratch

    @classmethod
    def of(cls, client, db, author: Device, readers: dict[str, Device], visit_id: str, photo_id: str) -> Outcome:
        row = db.session.scalars(select(Photo).where(Photo.id == uuid.UUID(photo_id))).one()
        listed = client.get("/api/photos", headers=author.headers, query_string={"record_id": visit_id}).get_json()
        return cls(area_code=row.area_code, deleted=row.deleted,
                   listed_by_author=photo_id in {item["id"] for item in listed["items"]},
                   pulled={name: _pulled(client, reader, photo_id) for name, reader in readers.items()})


def _pulled(client, reader: Device, photo_id: str) -> str:
    pulled = pull_all(client, reader.headers, str(uuid.uuid4()))
    if photo_id in pulled.upserted("photos"):
        return "upserted"
    return "deleted" if photo_id in pulled.deleted("photos") else "absent"


Steps = Callable[[str, str, bytes], list[tuple[str, str, dict[str, Any] | None, int | None]]]


def run(client, db, tree, steps: Steps, *, one_push: bool, seed: int) -> Outcome:
    author = device(f"cadre-a-{seed}", tree.A, "cadre")  # a county cadre: may write in V1 and V2
    readers = {"V1": device(f"cadre-v1-{seed}", tree.V1, "cadre"), "V2": device(f"cadre-v2-{seed}", tree.V2, "cadre")}
    visit_id, photo_id, data = new_id(), new_id(), generated_jpeg(seed=seed)
    mutations = [author.mutation(type_, record_id, fields, base)
                 for type_, record_id, fields, base in steps(visit_id, photo_id, data)]
    batches = [mutations] if one_push else [[mutation] for mutation in mutations]
    for batch in batches:
        answered = push(client, author.headers, author.client_id, batch)
        assert [r["status"] for r in answered["results"]] == ["applied"] * len(batch), answered
    return Outcome.of(client, db, author, readers, visit_id, photo_id)


def attach_fields(visit_id: str, data: bytes) -> dict[str, Any]:
    return {"record_type": "visit", "record_id": visit_id, "sha256": sha256(data), "bytes": len(data),
            "captured_at": "2026-11-20T09:35:00+08:00"}


def create_attach_delete(visit_id: str, photo_id: str, data: bytes):
    return [("visit.upsert", visit_id, visit_fields(), None),
            ("photo.attach", photo_id, attach_fields(visit_id, data), None),
            ("visit.delete", visit_id, None, None)]


def create_attach_move(visit_id: str, photo_id: str, data: bytes):
    return [("visit.upsert", visit_id, visit_fields(), None),
            ("photo.attach", photo_id, attach_fields(visit_id, data), None),
            ("visit.upsert", visit_id, {"area_code": "990101100201"}, 1)]  # to V2


def create_attach_move_delete_photo(visit_id: str, photo_id: str, data: bytes):
    return [*create_attach_move(visit_id, photo_id, data), ("photo.delete", photo_id, None, None)]


def create_attach_time_change(visit_id: str, photo_id: str, data: bytes):
    return [("visit.upsert", visit_id, visit_fields(), None),
            ("photo.attach", photo_id, attach_fields(visit_id, data), None),
            ("visit.upsert", visit_id, {"visited_at": "2026-11-21T09:30:00+08:00"}, 1)]


def test_create_attach_and_delete_of_a_visit_in_one_push_deletes_its_photo(client, db, tree):
    together = run(client, db, tree, create_attach_delete, one_push=True, seed=11)
    apart = run(client, db, tree, create_attach_delete, one_push=False, seed=12)

    assert together == apart
    assert together.deleted is True
    assert together.listed_by_author is False
    assert together.pulled["V1"] in ("deleted", "absent")


def test_create_attach_and_move_of_a_visit_in_one_push_moves_its_photo(client, db, tree):
    together = run(client, db, tree, create_attach_move, one_push=True, seed=13)
    apart = run(client, db, tree, create_attach_move, one_push=False, seed=14)

    assert together == apart
    assert (together.area_code, together.deleted, together.listed_by_author) == (tree.V2, False, True)
    assert together.pulled == {"V1": "deleted", "V2": "upserted"}


def test_create_attach_move_and_photo_delete_in_one_push(client, db, tree):
    together = run(client, db, tree, create_attach_move_delete_photo, one_push=True, seed=15)
    apart = run(client, db, tree, create_attach_move_delete_photo, one_push=False, seed=16)

    assert together == apart
    assert (together.area_code, together.deleted, together.listed_by_author) == (tree.V2, True, False)


@pytest.mark.parametrize("one_push", [True, False], ids=["one_push", "apart"])
def test_a_visit_time_change_after_an_attach_in_one_push_is_still_live(client, db, tree, one_push):
    outcome = run(client, db, tree, create_attach_time_change, one_push=one_push, seed=17)

    assert (outcome.area_code, outcome.deleted, outcome.listed_by_author) == (tree.V1, False, True)
    assert outcome.pulled == {"V1": "upserted", "V2": "absent"}

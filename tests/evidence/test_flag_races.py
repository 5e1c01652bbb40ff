"""Flag refreshes that meet another writer, on two real PostgreSQL connections.

Each request runs in its own thread with its own session against an app whose requests
really commit. One writer is held at the point where, unguarded, the other would read
what it is about to change; the test then checks what the lock protects: the stored
flags, area and version once both have committed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import func, select

from backend import create_app
from backend.accounts import service as accounts_service
from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.changes.models import Change
from backend.evidence import service as evidence_service
from backend.evidence.models import Photo
from backend.extensions import db
from tests.evidence.conftest import generated_jpeg, gps_exif, sha256
from tests.factories import bearer
from tests.sync.conftest import mutation, visit_fields

pytestmark = pytest.mark.postgres

COUNTY, T1, V1, T2, V2 = "990101000000", "990101001000", "990101001001", "990101100000", "990101100201"


@pytest.fixture
def racing_app(empty_database_url, tmp_path) -> Iterator[Flask]:
    """An app on its own database; a county cadre's token in its config."""
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path)})
    with app.app_context():
        flask_migrate.upgrade()
        for code, level, parent in ((COUNTY, "county", None), (T1, "township", COUNTY), (V1, "village", T1),
                                    (T2, "township", COUNTY), (V2, "village", T2)):
            areas_service.create_area(actor=None, code=code, name=code, level=level, parent_code=parent)
        user = accounts_service.create_user(actor=None, username="cadre-a", password="a-long-password",
                                            roles=["cadre"], area_code=COUNTY)
        token, _device = accounts_service.issue_token(user, "phone")
        db.session.commit()
    app.config["TEST_TOKEN"] = token
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class Phone:
    """The county cadre's phone: numbered mutations on one client id."""

    def __init__(self, app: Flask):
        self.app, self.client_id, self.next_id = app, str(uuid.uuid4()), 1
        self.headers = bearer(app.config["TEST_TOKEN"])

    def push(self, *mutations: tuple[str, str, dict[str, Any] | None, int | None]) -> list[dict[str, Any]]:
        batch = []
        for type_, record_id, fields, base in mutations:
            batch.append(mutation(self.next_id, type_, record_id, fields, base))
            self.next_id += 1
        response = self.app.test_client().post("/api/sync/push", headers=self.headers,
                                               json={"client_id": self.client_id, "mutations": batch})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["results"]

    def visit_with_photo(self, data: bytes, area_code: str = V1) -> tuple[str, str]:
        visit_id, photo_id = str(uuid.uuid4()), str(uuid.uuid4())
        results = self.push(("visit.upsert", visit_id, visit_fields(area_code=area_code), None),
                            ("photo.attach", photo_id, {"record_type": "visit", "record_id": visit_id,
                                                        "sha256": sha256(data), "bytes": len(data)}, None))
        assert [r["status"] for r in results] == ["applied", "applied"], results
        return visit_id, photo_id

    def store(self, photo_id: str, data: bytes) -> str:
        """What the request that receives a photo's last byte does: ``ingest``, then commit."""
        with self.app.app_context():
            actor = db.session.scalars(select(User).where(User.username == "cadre-a")).one()
            photo = evidence_service.ingest(actor=actor, photo=db.session.get(Photo, uuid.UUID(photo_id)), data=data)
            status = photo.status
            db.session.commit()
            db.session.remove()
        return status


def hold(monkeypatch, name: str, thread_name: str) -> tuple[threading.Event, threading.Event]:
    """Hold the thread ``thread_name`` right after its first call of ``evidence_service.<name>``."""
    reached, release = threading.Event(), threading.Event()
    original: Callable[..., Any] = getattr(evidence_service, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if threading.current_thread().name == thread_name and not reached.is_set():
            reached.set()
            release.wait(timeout=10)
        return result

    monkeypatch.setattr(evidence_service, name, held)
    return reached, release


def race(first: Callable[[], Any], second: Callable[[], Any], reached: threading.Event,
         release: threading.Event) -> tuple[dict[str, Any], bool]:
    """Run ``first`` until it is held, then ``second``; whether ``second`` waited; then let both finish."""
    answers: dict[str, Any] = {}
    threads = {name: threading.Thread(target=lambda n=name, f=f: answers.__setitem__(n, f()), name=name)
               for name, f in (("first", first), ("second", second))}
    threads["first"].start()
    assert reached.wait(timeout=10), "the first writer never reached the point it is held at"
    threads["second"].start()
    threads["second"].join(timeout=1.5)
    waited = threads["second"].is_alive()
    release.set()
    for thread in threads.values():
        thread.join(timeout=20)
    return answers, waited


def stored_photo(app: Flask, photo_id: str) -> Photo:
    with app.app_context():
        photo = db.session.get(Photo, uuid.UUID(photo_id))
        db.session.expunge(photo)
        db.session.remove()
    return photo


def near_ids(photo: Photo) -> set[str]:
    return {item["photo_id"] for item in photo.flags.get("near_duplicate", {}).get("photos", [])}


def test_near_duplicates_linked_in_a_push_and_stored_by_an_upload_at_once_name_each_other(racing_app, monkeypatch):
    # The push links bytes the cadre already sent (no upload) and flushes only at its end;
    # the upload of a near-identical photo of another visit completes meanwhile.
    phone = Phone(racing_app)
    data, near = generated_jpeg(seed=7), generated_jpeg(seed=7, quality=60)
    _earlier_visit, earlier_id = phone.visit_with_photo(data)
    assert phone.store(earlier_id, data) == "stored"
    _uploaded_visit, uploaded_id = phone.visit_with_photo(near)
    linked_visit, linked_id = str(uuid.uuid4()), str(uuid.uuid4())
    reached, release = hold(monkeypatch, "_near", "first")

    answers, waited = race(
        lambda: phone.push(("visit.upsert", linked_visit, visit_fields(), None),
                           ("photo.attach", linked_id, {"record_type": "visit", "record_id": linked_visit,
                                                        "sha256": sha256(data), "bytes": len(data)}, None)),
        lambda: phone.store(uploaded_id, near), reached, release)

    assert [r["status"] for r in answers["first"]] == ["applied", "applied"] and answers["second"] == "stored"
    assert waited, "the upload's flags must wait for the push's in the same county"
    linked, uploaded = stored_photo(racing_app, linked_id), stored_photo(racing_app, uploaded_id)
    assert (linked.status, uploaded.status) == ("stored", "stored")
    assert near_ids(linked) == {uploaded_id}  # the earlier photo has the same bytes: reused, not near
    assert near_ids(uploaded) == {linked_id, earlier_id}
    assert near_ids(stored_photo(racing_app, earlier_id)) == {uploaded_id}
    assert (linked.flag_count, uploaded.flag_count) == (len(linked.flags), len(uploaded.flags))


def test_a_visit_moved_while_its_photo_is_stored_keeps_both_writes(racing_app, monkeypatch):
    phone = Phone(racing_app)
    data = generated_jpeg(seed=5, exif=gps_exif(30.2741, 120.1551, taken="2026:11:20 09:40:00"))
    visit_id, photo_id = phone.visit_with_photo(data)
    reached, release = hold(monkeypatch, "_follow", "first")

    answers, waited = race(lambda: phone.push(("visit.upsert", visit_id, {"area_code": V2}, 1)),
                           lambda: phone.store(photo_id, data), reached, release)

    assert [r["status"] for r in answers["first"]] == ["applied"] and answers["second"] == "stored"
    assert waited, "the store must wait for the move that holds the photo"
    photo = stored_photo(racing_app, photo_id)
    assert (photo.area_code, photo.status, photo.version) == (V2, "stored", 3)
    assert (photo.exif_lat is not None, photo.make, photo.width) == (True, "Xiaomi", 640)
    assert photo.flags == {} and photo.flag_count == 0
    with racing_app.app_context():
        changes = db.session.scalar(select(func.count()).select_from(Change).where(
            Change.entity == "photo", Change.record_id == uuid.UUID(photo_id)))
        db.session.remove()
    assert changes == 3  # attached, moved, stored: each a version a pull brings

"""The late commit: a pull between two concurrent writers never skips the one that commits last.

Two threads with two real connections write visits at once. The first takes its change
sequence number and waits before committing; the second must then wait for it (the
counter's row lock), so a higher number can never become visible before a lower one. A
pull in between sees neither; the next pull, from the same cursor, sees both. Marked
postgres: SQLite's single writer makes the second wait without any row lock.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from backend.accounts import service as accounts_service
from backend.extensions import db
from backend.records import writes as records_service
from backend.visits import service as visits_service
from tests.factories import bearer
from tests.sync.conftest import VILLAGE


def write_visit(app, user_id: int, record_id: uuid.UUID, flushed: threading.Event,
                release: threading.Event | None) -> None:
    with app.app_context():
        actor = accounts_service.get_user(actor=None, user_id=user_id)
        fields = records_service.clean(visits_service.SPEC, {
            "area_code": VILLAGE, "kind": "household", "visited_at": "2026-11-20T09:30:00+08:00"})
        records_service.create(visits_service.SPEC, actor=actor, writer="test", record_id=record_id, fields=fields)
        db.session.flush()  # takes the sequence number
        flushed.set()
        if release is not None:
            release.wait(timeout=30)
        db.session.commit()
        db.session.remove()


def pull_visits(app, cursor):
    """A pull through the API, as a phone makes it (a read: it waits for no writer)."""
    query = f"client_id={uuid.uuid4()}" + (f"&cursor={cursor}" if cursor else "")
    response = app.test_client().get(f"/api/sync/pull?{query}", headers=bearer(app.config["TEST_TOKEN"]))
    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    return page["cursor"], {visit["id"] for visit in page["changes"]["visits"]["upserted"]}


@pytest.mark.postgres
def test_a_pull_between_two_writers_never_skips_the_late_one(committing_app):
    cursor, seen = pull_visits(committing_app, None)
    assert seen == set()
    first, second = uuid.uuid4(), uuid.uuid4()
    first_flushed, first_release, second_flushed = threading.Event(), threading.Event(), threading.Event()
    writer_one = threading.Thread(target=write_visit, args=(committing_app, 1, first, first_flushed, first_release))
    writer_two = threading.Thread(target=write_visit, args=(committing_app, 1, second, second_flushed, None))
    writer_one.start()
    assert first_flushed.wait(timeout=10)
    writer_two.start()

    # The second writer cannot take a number while the first holds a lower one uncommitted.
    assert not second_flushed.wait(timeout=1.0)
    between_cursor, between = pull_visits(committing_app, cursor)
    assert between == set()
    assert between_cursor == cursor

    first_release.set()
    writer_one.join(timeout=10)
    writer_two.join(timeout=10)
    assert second_flushed.is_set()
    _cursor, after = pull_visits(committing_app, between_cursor)
    assert after == {str(first), str(second)}

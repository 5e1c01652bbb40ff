"""A push takes the change counter once, at its end (docs/sync.md, Cost).

The counter row's lock is held from the UPDATE that takes the numbers until commit, and it
serialises every writer: no query, flag work or county lock may run while it is held. A
push whose visit moves after a photo was attached to it, and whose household moves under
another visit with a photo, has evidence work to do (the photos follow and their flags are
computed again); that work runs before the counter is taken, not in the middle of the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from backend.extensions import db as _db
from tests.evidence.conftest import generated_jpeg, sha256
from tests.sync.conftest import cadre, household_fields, new_id, push, visit_fields  # noqa: F401


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def attach(visit_id: str, seed: int) -> dict[str, object]:
    data = generated_jpeg(seed=seed)
    return {"record_type": "visit", "record_id": visit_id, "sha256": sha256(data), "bytes": len(data),
            "captured_at": "2026-11-20T09:35:00+08:00"}


def test_a_push_with_evidence_work_takes_the_counter_once_after_every_read(client, cadre):  # noqa: F811
    household_id, visit_id, other_visit_id = new_id(), new_id(), new_id()
    push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("household.upsert", household_id, household_fields(lat=29.45, lon=119.9)),
        cadre.mutation("visit.upsert", other_visit_id, visit_fields(household_id=household_id)),
        cadre.mutation("photo.attach", new_id(), attach(other_visit_id, 1)),
    ])
    batch = [
        cadre.mutation("visit.upsert", visit_id, visit_fields()),
        cadre.mutation("photo.attach", new_id(), attach(visit_id, 2)),
        cadre.mutation("visit.upsert", visit_id, {"visited_at": "2026-11-21T09:30:00+08:00"}, base_version=1),
        cadre.mutation("household.upsert", household_id, {"lat": 29.5}, base_version=1),
        *(cadre.mutation("visit.upsert", new_id(), visit_fields()) for _ in range(5)),
    ]
    with statements() as seen:
        answer = push(client, cadre.headers, cadre.client_id, batch)
    assert {result["status"] for result in answer["results"]} == {"applied"}, answer

    taken = [index for index, statement in enumerate(seen) if statement.upper().startswith("UPDATE SYNC_COUNTER")]
    assert len(taken) == 1, taken
    after = seen[taken[0] + 1:]
    # Only the writes of that last flush follow: the change log, the audit trail, the stored results.
    assert after
    assert all(statement.upper().startswith(("INSERT", "UPDATE", "COMMIT", "RELEASE")) for statement in after), after
    assert not any("sync_counter" in statement.lower() or "photos" in statement.lower()
                   and statement.upper().startswith("SELECT") for statement in after)

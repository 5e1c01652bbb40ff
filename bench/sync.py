"""Sync benchmarks: push and pull throughput, each beside a baseline measured in the same run.

    .venv/bin/python bench/sync.py [--database-url URL] [--batches N] [--profile]

It writes and then deletes rows (audit rows, being append-only, stay): point --database-url
only at a scratch database.

- push: batches of 100 new visits (~1 KB of JSON each) through POST /api/sync/push, in
  process (Flask test client, bearer token, one commit per push as the route does), vs a
  bare SQLAlchemy Core insert of the same visit rows, one transaction per batch of 100.
  Batches of the two alternate, so both see the same database and machine state.
- pull: every pushed visit pulled back through GET /api/sync/pull in pages of 500, vs a
  bare Core select of the same rows in keyset pages of 500.

Aims: push >= 2,000 mutations/s and no worse than 1/8 of the insert baseline on SQLite, 1/4
of it on PostgreSQL (issue 17); pull >= 10,000 changes/s on SQLite; PostgreSQL's rates within
2x of SQLite's. Each line says met or MISSED.
--profile prints where the time of one push and one pull walk goes (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime

import flask_migrate
import sqlalchemy as sa

from backend import create_app
from backend.accounts import service as accounts_service
from backend.areas import service as areas_service
from backend.categories.models import Category
from backend.changes.models import SyncCounter
from backend.extensions import db
from backend.models_base import utcnow
from backend.visits.models import Visit

COUNTY, TOWNSHIP, VILLAGE, OTHER_VILLAGE = "990101000000", "990101001000", "990101001001", "990101001002"
BATCH = 100
PAGE = 500
WARM_UP = 3
VISITED_AT = "2026-11-20T09:30:00+08:00"
# ~1 KB of JSON per mutation: what a visit with a long note weighs.
SUMMARY = ("入户走访：户主反映与邻居因宅基地边界、排水沟走向发生争执，已现场查看并约定下周由村调解委员会"
           "组织双方协商。" * 3)[:130] + " notes" * 20
CONCERNS = [{"category": "neighbourhood", "description": "宅基地边界争议，双方各执一词，需要调解。"},
            {"category": "housing_homestead", "description": "排水沟改道影响邻户。"}]
KEEP = {"audit_events", "categories", "sync_counter", "alembic_version"}


def visit_fields(area_code: str = VILLAGE) -> dict:
    return {"area_code": area_code, "kind": "household", "visited_at": VISITED_AT, "lat": 29.4512, "lon": 119.8871,
            "accuracy_m": 12.0, "summary": SUMMARY, "concerns": CONCERNS, "satisfaction": 4}


def push_body(client_id: str, first_id: int) -> bytes:
    mutations = [{"id": first_id + i, "type": "visit.upsert", "record_id": str(uuid.uuid4()), "base_version": None,
                  "fields": visit_fields()} for i in range(BATCH)]
    return json.dumps({"client_id": client_id, "mutations": mutations}, ensure_ascii=False).encode()


def core_rows(user_id: int) -> list[dict]:
    """The rows the push writes, as a bare insert would write them (in another village)."""
    now = utcnow()
    fields = visit_fields(OTHER_VILLAGE)
    fields["visited_at"] = datetime.fromisoformat(VISITED_AT).astimezone(UTC)
    return [{**fields, "id": uuid.uuid4(), "version": 1, "deleted": False, "created_by_id": user_id,
             "updated_by_id": user_id, "field_versions": {name: [1, "client:bench"] for name in fields},
             "review_status": "pending", "created_at": now, "updated_at": now} for _ in range(BATCH)]


def clear_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in KEEP:
            db.session.execute(table.delete())
    db.session.commit()


def ensure_seed() -> None:
    """The counter row and the two categories the visits use (bench_foundation empties both)."""
    if db.session.get(SyncCounter, 1) is None:
        db.session.add(SyncCounter(id=1, value=0, pruned_through=0))
    for kind, code in (("visit_kind", "household"), ("dispute_type", "neighbourhood"),
                       ("dispute_type", "housing_homestead")):
        if db.session.get(Category, (kind, code)) is None:
            db.session.add(Category(kind=kind, code=code, zh=code, en=code, position=0, active=True))
    db.session.commit()


def setup() -> tuple[int, str]:
    for code, name, level, parent in [(COUNTY, "示范县", "county", None), (TOWNSHIP, "一镇", "township", COUNTY),
                                      (VILLAGE, "一村", "village", TOWNSHIP),
                                      (OTHER_VILLAGE, "二村", "village", TOWNSHIP)]:
        areas_service.create_area(actor=None, code=code, name=name, level=level, parent_code=parent)
    cadre = accounts_service.create_user(actor=None, username="bench-cadre", password="bench-password-123",
                                         roles=["cadre"], area_code=TOWNSHIP)
    token, _device = accounts_service.issue_token(cadre, "bench")
    db.session.commit()
    return cadre.id, token


def bench_push(app, headers: dict, user_id: int, batches: int) -> tuple[list[float], list[float], str]:
    """Seconds per batch of push and of Core insert, alternating; warm-up batches left out."""
    client = app.test_client()
    client_id = str(uuid.uuid4())
    push_times, insert_times = [], []
    table = Visit.__table__
    for batch in range(WARM_UP + batches):
        body = push_body(client_id, batch * BATCH + 1)
        start = time.perf_counter()
        response = client.post("/api/sync/push", data=body, headers=headers, content_type="application/json")
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["last_mutation_id"] == (batch + 1) * BATCH, response.get_json()
        rows = core_rows(user_id)
        start = time.perf_counter()
        with db.engine.begin() as connection:
            connection.execute(sa.insert(table), rows)
        insert_elapsed = time.perf_counter() - start
        if batch >= WARM_UP:
            push_times.append(elapsed)
            insert_times.append(insert_elapsed)
    return push_times, insert_times, client_id


def pull_walk(client, headers: dict) -> int:
    """Pull everything from the start in pages of 500; the number of changes."""
    client_id, cursor, pulled = str(uuid.uuid4()), None, 0
    while True:
        query = {"client_id": client_id, "limit": PAGE} | ({"cursor": cursor} if cursor else {})
        response = client.get("/api/sync/pull", headers=headers, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        pulled += sum(len(c["upserted"]) + len(c["deleted"]) for c in page["changes"].values())
        cursor = page["cursor"]
        if not page["has_more"]:
            return pulled


def core_walk() -> int:
    """The same visits in keyset pages of 500, bare Core."""
    table = Visit.__table__
    after, read = None, 0
    with db.engine.connect() as connection:
        while True:
            query = sa.select(table).where(table.c.area_code == VILLAGE).order_by(table.c.id).limit(PAGE)
            if after is not None:
                query = query.where(table.c.id > after)
            rows = [row._asdict() for row in connection.execute(query)]
            read += len(rows)
            if len(rows) < PAGE:
                return read
            after = rows[-1]["id"]


def bench_pull(app, headers: dict, repeat: int = 5) -> tuple[float, float, int]:
    """Median seconds of a whole pull walk and of a Core walk, and the number of changes."""
    client = app.test_client()
    pull_walk(client, headers)  # warm-up
    walks, core, count = [], [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = pull_walk(client, headers)
        walks.append(time.perf_counter() - start)
        start = time.perf_counter()
        read = core_walk()
        core.append(time.perf_counter() - start)
        assert read == count, (read, count)
    return statistics.median(walks), statistics.median(core), count


def profile(app, headers: dict, batches: int) -> None:
    client = app.test_client()
    client_id = str(uuid.uuid4())
    bodies = [push_body(client_id, batch * BATCH + 1) for batch in range(batches)]
    for label, run in [("push", lambda: [client.post("/api/sync/push", data=body, headers=headers,
                                                     content_type="application/json") for body in bodies]),
                       ("pull", lambda: pull_walk(client, headers))]:
        profiler = cProfile.Profile()
        profiler.runcall(run)
        print(f"\n--- profile: {label} ({batches} batches of {BATCH})" if label == "push" else "\n--- profile: pull")
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(20)
        stats.sort_stats("cumulative").print_stats(30)


def report(label: str, rate: float, unit: str, baseline_label: str, baseline: float,
           aims: list[tuple[str, bool]]) -> None:
    verdict = "; ".join(f"{aim} {'met' if met else 'MISSED'}" for aim, met in aims)
    print(f"{label:<5} {rate:8,.0f} {unit:<12} vs {baseline_label:<22} {baseline:8,.0f} {unit:<12}"
          f" ratio {rate / baseline:5.3f}   aims: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url",
                        help="a scratch database, emptied afterwards (default: a temporary SQLite file)")
    parser.add_argument("--batches", type=int, default=30, help="timed batches of 100 (after 3 warm-up ones)")
    parser.add_argument("--profile", action="store_true", help="then profile one push run and one pull walk")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="zoufang-bench-")
    url = args.database_url or f"sqlite:///{instance}/bench.sqlite3"
    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": instance})
    with app.app_context():
        flask_migrate.upgrade()
        clear_tables()
        ensure_seed()
        user_id, token = setup()
        headers = {"Authorization": f"Bearer {token}"}
        size = len(push_body(str(uuid.uuid4()), 1)) / BATCH
        print(f"database: {db.engine.dialect.name}; {args.batches} batches of {BATCH} visits "
              f"(~{size:,.0f} bytes of JSON each) after {WARM_UP} warm-up batches")

        # The aims are for SQLite; PostgreSQL may take up to twice as long.
        slack = 1 if db.engine.dialect.name == "sqlite" else 2
        push_times, insert_times, _client_id = bench_push(app, headers, user_id, args.batches)
        push_rate = BATCH / statistics.median(push_times)
        insert_rate = BATCH / statistics.median(insert_times)
        # PostgreSQL's own insert is slower, so a push must come closer to it.
        share = 8 if db.engine.dialect.name == "sqlite" else 4
        report("push", push_rate, "mutations/s", "Core insert, 100/txn", insert_rate,
               [(f">= {2000 / slack:,.0f}/s", push_rate >= 2000 / slack),
                (f">= {1 / share:.3f} of baseline", push_rate * share >= insert_rate)])

        walk, core, count = bench_pull(app, headers)
        report("pull", count / walk, "changes/s", "Core select, pages 500", count / core,
               [(f">= {10000 / slack:,.0f}/s", count / walk >= 10000 / slack)])
        print(f"      ({count:,} changes; medians: push batch {statistics.median(push_times) * 1e3:.1f} ms, "
              f"insert batch {statistics.median(insert_times) * 1e3:.1f} ms, pull walk {walk * 1e3:.0f} ms, "
              f"Core walk {core * 1e3:.0f} ms)")

        if args.profile:
            profile(app, headers, min(args.batches, 10))
        clear_tables()
        db.engine.dispose()


if __name__ == "__main__":
    main()

"""Supervisor benchmarks at county scale: coverage report, map page and ledgers beside a bare count.

    .venv/bin/python bench/metrics.py [--sqlite-only | --postgres-only] [--database-url URL]
                                      [--households N] [--visits N] [--repeat N] [--xlsx-county]
                                      [--no-exports] [--sqlite-path PATH] [--keep] [--reuse]

Data: 1 county, 20 townships (a 5 × 4 grid of cells ~8 km across), 250 villages (each a
small box of ~600 m inside its township's cell), 100,000 households (inside their
village's box) and 1,000,000 visits over the last 90 days, written in time order as a
live database receives them: nine in ten at a household (standing within ~20 m of it, in
its area), the others at an enterprise or site of a village; ~5% with a follow-up date,
review statuses as a campaign leaves them (mostly approved, a quarter pending, some
returned or rejected), 1% deleted, and one visit in 20 with a photo, a tenth of those
photos flagged. It is written with bulk inserts (SQLite:
Core executemany in batches; PostgreSQL: COPY), in well under three minutes per database,
into tables built by the migrations (``flask_migrate.upgrade``), so the indexes measured
are the migrations' own. PostgreSQL then gets VACUUM ANALYZE, as autovacuum would give it,
and SQLite a checkpoint of its write-ahead log, but no ANALYZE: the app runs none.

The databases: a temporary SQLite file, and PostgreSQL at --database-url (default: the
database ``bench_metrics`` on 127.0.0.1, created when missing). Every table there is
DROPPED and created again: point --database-url only at a scratch database. The data is
dropped at the end unless --keep (then --reuse times it again without regenerating).

Timed, through the real code path (Flask test client, a county supervisor's bearer token),
each --repeat times after one warm-up, alternating with the baseline, medians reported:

- baseline: ``SELECT count(*) FROM visits``, bare, on the same connection pool;
- coverage: ``GET /api/metrics/coverage?area=<county>`` (the last 30 days: a third of the
  visits; five grouped queries over the whole county);
- bbox page: ``GET /api/geo/visits?bbox=<one township's cell>``: ~50,000 visits match,
  the page holds the newest 5,000 and says ``truncated`` with the ``total``;
- ledgers: ``GET /api/exports/visits.xlsx?area=<township>`` (~50,000 rows) and
  ``GET /api/exports/visits.csv`` for the whole county (1,000,000 rows), once each. The
  county as xlsx would take 6-8 minutes at openpyxl's 30,000-40,000 cells a second, which
  measures openpyxl rather than the query, so it runs only with --xlsx-county.

Aims (issue 6): county coverage <= 20 × the count baseline, and under 1 s on PostgreSQL;
the bbox page under 300 ms. Each line says met or MISSED. Ledgers have no aim: their
rows/s are printed for the record.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import flask_migrate
import sqlalchemy as sa

from backend import create_app
from backend.accounts import service as accounts_service
from backend.accounts.models import User, UserRole
from backend.areas.models import Area
from backend.audit.models import AuditEvent
from backend.evidence.models import Photo
from backend.extensions import db
from backend.households.models import Household
from backend.visits.models import Visit

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_metrics"
COUNTY = "990101000000"
TOWNSHIPS, VILLAGES = 20, 250
GRID_COLUMNS, GRID_ROWS = 5, 4
WEST, SOUTH = 119.70, 29.35              # the county's south-west corner
CELL_LON, CELL_LAT = 0.08, 0.075         # one township's cell, ~8 km
VILLAGE_LON, VILLAGE_LAT = 0.006, 0.005  # one village's box, ~600 m
DAYS = 90
BATCH = 20_000
PASSWORD = "bench-password-123"
AIM_RATIO, AIM_COVERAGE_PG, AIM_BBOX = 20, 1.0, 0.3
KINDS = ["enterprise", "site", "key_person"]
DISPUTES = ["neighbourhood", "housing_homestead", "marriage_family", "labour", "village_affairs", "other"]
REVIEW = ["approved"] * 60 + ["pending"] * 27 + ["returned"] * 7 + ["rejected"] * 6
FLAGS = ["far_from_target", "exif_far_from_device", "no_exif_gps", "time_mismatch", "near_duplicate"]


# --- the county ----------------------------------------------------------------------------

def township_code(t: int) -> str:
    return f"{COUNTY[:6]}{t + 1:03d}000"


def township_box(t: int) -> tuple[float, float, float, float]:
    """minLon, minLat, maxLon, maxLat of township t's cell."""
    column, row = t % GRID_COLUMNS, t // GRID_COLUMNS
    west, south = WEST + column * CELL_LON, SOUTH + row * CELL_LAT
    return west, south, west + CELL_LON, south + CELL_LAT


def villages() -> list[tuple[str, int, float, float]]:
    """(code, township, west, south) of each village: spread over 4 × 4 slots of its township's cell."""
    found = []
    for v in range(VILLAGES):
        t, n = v % TOWNSHIPS, v // TOWNSHIPS
        west, south, _east, _north = township_box(t)
        slot_lon, slot_lat = CELL_LON / 4, CELL_LAT / 4
        found.append((f"{township_code(t)[:9]}{n + 1:03d}", t,
                      west + (n % 4) * slot_lon + (slot_lon - VILLAGE_LON) / 2,
                      south + (n // 4) * slot_lat + (slot_lat - VILLAGE_LAT) / 2))
    return found


def create_county() -> tuple[str, dict[int, int]]:
    """Areas, a county supervisor and one cadre per township; the supervisor's token and the cadres' ids."""
    now = datetime.now(UTC)
    areas = [{"code": COUNTY, "name": "示范县", "level": "county", "parent_code": None, "path": f"/{COUNTY}/"}]
    for t in range(TOWNSHIPS):
        code = township_code(t)
        areas.append({"code": code, "name": f"第{t + 1}镇", "level": "township", "parent_code": COUNTY,
                      "path": f"/{COUNTY}/{code}/"})
    for code, t, _west, _south in villages():
        parent = township_code(t)
        areas.append({"code": code, "name": f"{t + 1}镇{code[-3:]}村", "level": "village", "parent_code": parent,
                      "path": f"/{COUNTY}/{parent}/{code}/"})
    db.session.execute(sa.insert(Area), [{**area, "created_at": now, "updated_at": now} for area in areas])
    supervisor = accounts_service.create_user(actor=None, username="bench-supervisor", password=PASSWORD,
                                              roles=["supervisor"], area_code=COUNTY, display_name="督查员")
    token, _device = accounts_service.issue_token(supervisor, "bench")
    cadres = {}
    for t in range(TOWNSHIPS):
        cadre = User(username=f"bench-cadre-{t + 1}", display_name=f"干部{t + 1}",
                     password_hash=supervisor.password_hash, area_code=township_code(t), active=True)
        db.session.add(cadre)
        db.session.flush()
        db.session.add(UserRole(user_id=cadre.id, role="cadre"))
        cadres[t] = cadre.id
    db.session.commit()
    return token, cadres


# --- households, visits, photos ------------------------------------------------------------

def generate(households: int, visits: int, cadres: dict[int, int], rng: random.Random
             ) -> tuple[list[dict], Iterator[dict], list[dict]]:
    """The households, the visits (a generator: a million dicts need not sit in memory) and the photos."""
    now = datetime.now(UTC)
    places = villages()
    homes = []
    for i in range(households):
        code, t, west, south = places[i % VILLAGES]
        homes.append({"id": uuid.UUID(int=rng.getrandbits(128), version=4), "area_code": code, "township": t,
                      "address": f"{code[-3:]}村{i // VILLAGES + 1}号", "head_name": f"户主{i}",
                      "phone": None, "lat": south + rng.random() * VILLAGE_LAT,
                      "lon": west + rng.random() * VILLAGE_LON, "tags": "[]"})
    photos: list[dict] = []

    def visit_rows() -> Iterator[dict]:
        # In the order they happened, as the rows of a live database are written.
        for offset in sorted(rng.random() for _ in range(visits)):
            visited_at = now - timedelta(seconds=(1 - offset) * DAYS * 86400)
            if rng.random() < 0.9:
                home = rng.choice(homes)
                household_id, code, t = home["id"], home["area_code"], home["township"]
                lat = home["lat"] + rng.uniform(-0.0002, 0.0002)
                lon = home["lon"] + rng.uniform(-0.0002, 0.0002)
                kind = "household"
            else:
                code, t, west, south = rng.choice(places)
                household_id, kind = None, rng.choice(KINDS)
                lat, lon = south + rng.random() * VILLAGE_LAT, west + rng.random() * VILLAGE_LON
            concerns = ([{"category": rng.choice(DISPUTES), "description": "反映邻里排水沟纠纷，需村调委会协调。"}]
                        if rng.random() < 0.3 else [])
            follow_up = (visited_at + timedelta(days=rng.randint(3, 30))).date() if rng.random() < 0.05 else None
            row = {"id": uuid.UUID(int=rng.getrandbits(128), version=4), "household_id": household_id,
                   "kind": kind, "visited_at": visited_at, "lat": lat, "lon": lon,
                   "accuracy_m": rng.uniform(4, 40), "summary": "入户走访，了解家庭情况。",
                   "concerns": json.dumps(concerns, ensure_ascii=False), "satisfaction": rng.randint(3, 5),
                   "follow_up_due": follow_up, "area_code": code, "version": 1, "deleted": rng.random() < 0.01,
                   "created_by_id": cadres[t], "updated_by_id": cadres[t], "field_versions": "{}",
                   "created_at": visited_at, "updated_at": visited_at, "review_status": rng.choice(REVIEW),
                   "review_comment": None, "reviewed_by_id": None, "reviewed_at": None}
            if rng.random() < 0.05:
                photos.append(photo_row(row, rng))
            yield row

    return homes, visit_rows(), photos


def photo_row(visit: dict, rng: random.Random) -> dict:
    flags = {rng.choice(FLAGS): {"distance_m": 350.0}} if rng.random() < 0.1 else {}
    return {"id": uuid.UUID(int=rng.getrandbits(128), version=4), "record_type": "visit", "record_id": visit["id"],
            "sha256": f"{rng.getrandbits(256):064x}", "bytes": 400_000, "captured_at": visit["visited_at"],
            "lat": visit["lat"], "lon": visit["lon"], "accuracy_m": 10.0, "phase": None, "status": "stored",
            "rejected_code": None, "rejected_message": None, "stored_at": visit["visited_at"], "width": 1600,
            "height": 1200, "mime": "image/jpeg", "exif_lat": visit["lat"], "exif_lon": visit["lon"],
            "exif_alt_m": None, "exif_taken_at": None, "make": None, "model": None, "software": None, "phash": None,
            "flags": json.dumps(flags), "flag_count": len(flags), "area_code": visit["area_code"], "version": 1,
            "deleted": False, "created_by_id": visit["created_by_id"], "updated_by_id": visit["created_by_id"],
            "field_versions": "{}", "created_at": visit["visited_at"], "updated_at": visit["visited_at"]}


def household_rows(homes: list[dict], cadres: dict[int, int]) -> Iterator[dict]:
    for home in homes:
        t = home["township"]
        yield {key: value for key, value in home.items() if key != "township"} | {
            "version": 1, "deleted": False, "created_by_id": cadres[t], "updated_by_id": cadres[t],
            "field_versions": "{}", "created_at": home.get("created_at", datetime.now(UTC)),
            "updated_at": datetime.now(UTC)}


def load(table: sa.Table, rows: Iterator[dict]) -> int:
    """Bulk-write rows whose JSON columns are already text: COPY on PostgreSQL, executemany on SQLite."""
    columns = [column.name for column in table.columns]
    count = 0
    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cursor, \
                    cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[name] for name in columns])
                    count += 1
            raw.driver_connection.commit()
        finally:
            raw.close()
        return count
    # Core would JSON-encode the already encoded text again: insert those columns as plain strings.
    plain = sa.table(table.name, *(sa.column(name, sa.String if isinstance(column.type, sa.JSON) else column.type)
                                   for name, column in table.columns.items()))
    batch: list[dict] = []
    with db.engine.begin() as connection:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                connection.execute(sa.insert(plain), batch)
                count += len(batch)
                batch = []
        if batch:
            connection.execute(sa.insert(plain), batch)
            count += len(batch)
    return count


# --- the database --------------------------------------------------------------------------

def ensure_postgres_database(url: str) -> None:
    """Create the default database when it is missing."""
    target = sa.engine.make_url(url)
    engine = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": target.database}) is None:
                connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        engine.dispose()


def drop_everything() -> None:
    """Every table, and what else the revisions made (PostgreSQL's audit trigger function)."""
    if "alembic_version" in sa.inspect(db.engine).get_table_names():
        flask_migrate.downgrade(revision="base")
    db.metadata.drop_all(db.engine)
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def generated(households: int, visits: int) -> bool:
    """Whether a kept database already holds data of this size."""
    inspector = sa.inspect(db.engine)
    if "visits" not in inspector.get_table_names():
        return False
    with db.engine.connect() as connection:
        return (connection.scalar(sa.text("SELECT count(*) FROM households")) == households
                and connection.scalar(sa.text("SELECT count(*) FROM visits")) == visits)


def settle() -> None:
    """What a database that has been running a while has: PostgreSQL's autovacuum has vacuumed and
    analysed, SQLite's write-ahead log has been checkpointed into the database file."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("areas", "users", "households", "visits", "photos"):
                connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
        return
    raw = db.engine.raw_connection()  # outside any transaction: the app's connections begin one
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def prepare(households: int, visits: int, reuse: bool) -> str:
    """Tables by the migrations and the county's data in them; the supervisor's token."""
    if reuse and generated(households, visits):
        flask_migrate.upgrade()  # a kept database gets revisions added since
        settle()
        supervisor = db.session.scalar(sa.select(User).where(User.username == "bench-supervisor"))
        token, _device = accounts_service.issue_token(supervisor, "bench")
        db.session.commit()
        print("  reusing the data already there")
        return token
    drop_everything()
    flask_migrate.upgrade()
    start = time.perf_counter()
    rng = random.Random(6)
    token, cadres = create_county()
    homes, visit_rows, photos = generate(households, visits, cadres, rng)
    counts = {"households": load(Household.__table__, household_rows(homes, cadres)),
              "visits": load(Visit.__table__, visit_rows),
              "photos": load(Photo.__table__, iter(photos))}
    written = time.perf_counter() - start
    settle()
    print(f"  generated {', '.join(f'{n:,} {name}' for name, n in counts.items())} in {written:.0f} s "
          f"(+ {time.perf_counter() - start - written:.0f} s to settle)")
    return token


# --- timing --------------------------------------------------------------------------------

def count_visits() -> None:
    with db.engine.connect() as connection:
        connection.scalar(sa.text("SELECT count(*) FROM visits"))


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def alternate(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median seconds of ``run`` and of the count baseline, alternating, after one warm-up of each."""
    run()
    count_visits()
    runs, counts = [], []
    for _ in range(repeat):
        runs.append(timed(run))
        counts.append(timed(count_visits))
    return statistics.median(runs), statistics.median(counts)


def verdict(aims: list[tuple[str, bool]]) -> str:
    return "; ".join(f"{aim} {'met' if met else 'MISSED'}" for aim, met in aims)


def bench(app, token: str, repeat: int, xlsx_county: bool, exports: bool) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    postgres = db.engine.dialect.name == "postgresql"

    def get(url: str) -> bytes:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response.get_data()

    checks = {}

    def coverage() -> None:
        checks["coverage"] = json.loads(get(f"/api/metrics/coverage?area={COUNTY}"))

    bbox = ",".join(f"{value:.6f}" for value in township_box(0))

    def bbox_page() -> None:
        checks["bbox"] = json.loads(get(f"/api/geo/visits?bbox={bbox}"))

    cover, baseline = alternate(coverage, repeat)
    total = checks["coverage"]["total"]
    ratio = cover / baseline
    aims = [(f"<= {AIM_RATIO} x count", ratio <= AIM_RATIO)]
    if postgres:
        aims.append((f"< {AIM_COVERAGE_PG:.0f} s", cover < AIM_COVERAGE_PG))
    print(f"  count(*) visits       {baseline * 1e3:8.1f} ms   (baseline)")
    print(f"  county coverage       {cover * 1e3:8.1f} ms   {ratio:6.1f} x count   aims: {verdict(aims)}")
    print(f"      ({total['visits']:,} visits and {total['visited_households']:,} of "
          f"{total['households']:,} households visited in the last 30 days, "
          f"{total['overdue_follow_ups']:,} follow-ups overdue, {len(checks['coverage']['children'])} townships)")

    def per_day() -> None:
        checks["per_day"] = json.loads(get(f"/api/metrics/visits-per-day?area={COUNTY}"))

    trend, baseline = alternate(per_day, repeat)
    days = checks["per_day"]["days"]
    print(f"  visits per day        {trend * 1e3:8.1f} ms   {trend / baseline:6.1f} x count   "
          f"({len(days)} days, {sum(day['visits'] for day in days):,} visits, "
          f"{sum(day['flagged_visits'] for day in days):,} flagged; the dashboard's trend, no aim)")

    page, baseline = alternate(bbox_page, repeat)
    collection = checks["bbox"]
    print(f"  bbox page (township)  {page * 1e3:8.1f} ms   {page / baseline:6.1f} x count   "
          f"aims: {verdict([(f'< {AIM_BBOX * 1e3:.0f} ms', page < AIM_BBOX)])}")
    print(f"      ({len(collection['features']):,} features of {collection['total']:,}, "
          f"truncated {collection['truncated']})")

    ledgers = [("visits.xlsx, township", f"/api/exports/visits.xlsx?area={township_code(0)}"),
               ("visits.csv, county", "/api/exports/visits.csv")]
    if xlsx_county:
        ledgers.append(("visits.xlsx, county", "/api/exports/visits.xlsx"))
    for label, url in ledgers if exports else ():
        start = time.perf_counter()
        body = get(url)
        elapsed = time.perf_counter() - start
        rows = (body.count(b"\r\n") - 1) if url.split("?")[0].endswith(".csv") else ledger_rows()
        print(f"  {label:<21} {elapsed:8.1f} s    {elapsed / baseline:6.0f} x count   "
              f"{rows:,} rows, {rows / elapsed:,.0f} rows/s, {len(body) / 2**20:.1f} MiB")


def ledger_rows() -> int:
    """Rows of the last visits ledger, as its audit event says."""
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export.visits")
                              .order_by(AuditEvent.id.desc()).limit(1))
    return event.after["rows"]


def run(label: str, url: str, args: argparse.Namespace) -> None:
    instance = tempfile.mkdtemp(prefix="zoufang-bench-")
    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": instance})
    with app.app_context():
        print(f"{label}: {db.engine.url.render_as_string(hide_password=True)} "
              f"({'kept data reused, else ' if args.reuse else ''}tables dropped and created again"
              f"{'' if args.keep else ', and dropped at the end'})")
        token = prepare(args.households, args.visits, args.reuse)
        bench(app, token, args.repeat, args.xlsx_county, not args.no_exports)
        if not args.keep:
            db.session.remove()
            drop_everything()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite-only", action="store_true")
    which.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--database-url", help=f"a scratch PostgreSQL database (default {DEFAULT_POSTGRES}, "
                                               "created when missing); its tables are dropped")
    parser.add_argument("--sqlite-path", help="the SQLite file (default: a temporary one)")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each query (median)")
    parser.add_argument("--xlsx-county", action="store_true", help="also export the whole county as xlsx (minutes)")
    parser.add_argument("--no-exports", action="store_true", help="time the coverage and the bbox page only")
    parser.add_argument("--keep", action="store_true", help="leave the data in place (to EXPLAIN, or to --reuse)")
    parser.add_argument("--reuse", action="store_true", help="time data a --keep run left, if of the same size")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when piped, too
    print(f"{TOWNSHIPS} townships, {VILLAGES} villages, {args.households:,} households, {args.visits:,} visits; "
          f"medians of {args.repeat} runs")
    if not args.postgres_only:
        path = args.sqlite_path or os.path.join(tempfile.mkdtemp(prefix="zoufang-bench-"), "bench.sqlite3")
        run("SQLite", f"sqlite:///{path}", args)
        if not args.keep and not args.sqlite_path:
            os.remove(path)
    if not args.sqlite_only:
        url = args.database_url or DEFAULT_POSTGRES
        if not args.database_url:
            try:
                ensure_postgres_database(url)
            except sa.exc.OperationalError as exc:
                print(f"PostgreSQL: skipped, {DEFAULT_POSTGRES} does not answer ({exc.orig})")
                return
        run("PostgreSQL", url, args)


if __name__ == "__main__":
    main()

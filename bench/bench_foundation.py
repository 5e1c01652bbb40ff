"""Foundation benchmarks: each prints a ratio against a baseline measured in the same run.

    .venv/bin/python bench/bench_foundation.py [--database-url URL]

It writes and then deletes rows: point --database-url only at a scratch database.

- area import (validation, materialised paths, one audit row per area) vs a bare
  SQLAlchemy Core bulk insert of the same rows;
- an authenticated, scope-limited request vs GET /api/health through the same stack;
- a scope-limited user list vs the same select without the scope condition;
- a full sign-in (POST /api/auth/login, production argon2id) vs one bare argon2 verify.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

import flask_migrate
import sqlalchemy as sa
from argon2 import PasswordHasher

from backend import create_app
from backend.accounts import service as accounts_service
from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.extensions import db
from backend.models_base import utcnow

COUNTY = "990101000000"


def county_rows() -> list[tuple[str, str, str, str]]:
    """A county shaped like 浦江县: 15 townships, 244 villages."""
    rows = [(COUNTY, "示范县", "county", "")]
    for t, village_count in enumerate([17] * 4 + [16] * 11, start=1):
        township = f"990101{t:03d}000"
        rows.append((township, f"镇{t}", "township", COUNTY))
        rows += [(f"990101{t:03d}{v:03d}", f"村{t}-{v}", "village", township) for v in range(1, village_count + 1)]
    return rows


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of one call."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def clear_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "audit_events":
            db.session.execute(table.delete())
    db.session.commit()


def bench_import(rows) -> tuple[float, float]:
    def service_import():
        areas_service.import_areas(actor=None, header=["code", "name", "level", "parent_code"],
                                   rows=[(i + 2, list(r)) for i, r in enumerate(rows)])
        db.session.rollback()

    def core_insert():
        paths: dict[str, str] = {}
        values = []
        now = utcnow()
        for code, name, level, parent in rows:
            paths[code] = (paths[parent] if parent else "/") + code + "/"
            values.append({"code": code, "name": name, "level": level, "parent_code": parent or None,
                           "path": paths[code], "created_at": now, "updated_at": now})
        db.session.execute(sa.insert(Area.__table__), values)
        db.session.rollback()

    return timed(service_import, 5), timed(core_insert, 5)


def bench_requests(app, token: str) -> tuple[float, float]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    scoped = timed(lambda: client.get(f"/api/areas?parent={COUNTY}", headers=headers), 300)
    health = timed(lambda: client.get("/api/health"), 300)
    return scoped, health


def bench_user_list(admin: User) -> tuple[float, float]:
    def scoped():
        accounts_service.list_users(actor=admin, limit=200)

    def unscoped():
        db.session.scalars(sa.select(User).order_by(User.id).limit(201)).unique().all()

    return timed(scoped, 200), timed(unscoped, 200)


def bench_login(app, password: str) -> tuple[float, float]:
    client = app.test_client()
    body = {"username": "bench-admin", "password": password, "device_name": "bench"}
    login = timed(lambda: client.post("/api/auth/login", json=body), 15)
    hasher = PasswordHasher()
    stored = hasher.hash(password)
    verify = timed(lambda: hasher.verify(stored, password), 15)
    return login, verify


def report(label: str, seconds: float, baseline_label: str, baseline: float) -> None:
    print(f"{label:<18} {seconds * 1e3:8.2f} ms   vs {baseline_label:<20} {baseline * 1e3:8.2f} ms"
          f"   ratio {seconds / baseline:6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url",
                        help="a scratch database, emptied afterwards (default: a temporary SQLite file)")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="zoufang-bench-")
    url = args.database_url or f"sqlite:///{instance}/bench.sqlite3"
    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": instance})
    rows = county_rows()
    with app.app_context():
        flask_migrate.upgrade()
        clear_tables()
        print(f"database: {db.engine.dialect.name}; county of {len(rows)} areas")
        service, core = bench_import(rows)
        report("area import", service, "Core bulk insert", core)

        areas_service.import_areas(actor=None, header=["code", "name", "level", "parent_code"],
                                   rows=[(i + 2, list(r)) for i, r in enumerate(rows)])
        password = "bench-password-123"
        admin = accounts_service.create_user(actor=None, username="bench-admin", password=password,
                                             roles=["admin"], area_code=COUNTY)
        villages = [code for code, _name, level, _parent in rows if level == "village"]
        for i, code in enumerate(villages[:40]):
            accounts_service.create_user(actor=None, username=f"cadre{i}", password=password,
                                         roles=["cadre"], area_code=code)
        token, _device = accounts_service.issue_token(admin, "bench")
        db.session.commit()

        scoped, health = bench_requests(app, token)
        report("scoped request", scoped, "GET /api/health", health)
        admin = db.session.get(User, admin.id)
        listed, plain = bench_user_list(admin)
        report("scoped user list", listed, "unscoped select", plain)
        login, verify = bench_login(app, password)
        report("sign-in", login, "bare argon2 verify", verify)
        clear_tables()
        db.engine.dispose()


if __name__ == "__main__":
    main()

"""The zoufang command: users create, seed-demo."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from backend.accounts.models import User
from backend.areas.models import Area
from backend.seed_records import FIELD_USERS


def test_users_create_reads_the_password_from_stdin(cli, db, tree):
    result = cli.invoke(args=["users", "create", "Wang.Wu", "--role", "cadre", "--role", "inspector",
                              "--area", tree.V1, "--display-name", "王五", "--phone", "13800138000"],
                        input="a-long-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "wang.wu"))
    assert (user.display_name, list(user.roles), user.area_code, user.phone) == \
           ("王五", ["cadre", "inspector"], tree.V1, "13800138000")
    assert "a-long-password" not in result.output


def test_users_create_refuses_short_passwords_unknown_areas_and_duplicates(cli, db, tree):
    short = cli.invoke(args=["users", "create", "wang", "--role", "cadre", "--area", tree.V1], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    nowhere = cli.invoke(args=["users", "create", "wang", "--role", "cadre", "--area", "990109000000"],
                         input="a-long-password\n")
    assert nowhere.exit_code == 1 and "990109000000 does not exist" in nowhere.output
    cli.invoke(args=["users", "create", "wang", "--role", "cadre", "--area", tree.V1], input="a-long-password\n")
    again = cli.invoke(args=["users", "create", "WANG", "--role", "cadre", "--area", tree.V1],
                       input="a-long-password\n")
    assert again.exit_code == 1 and "taken" in again.output
    assert db.session.scalars(select(User.username)).all() == ["wang"]


def test_seed_demo_is_idempotent_and_prints_passwords_once(cli, client, db):
    first = cli.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    passwords = dict(re.findall(r"^\s+\w+\s+(demo-\w+)\s+(\S+)\s+area", first.output, re.MULTILINE))
    assert set(passwords) == {"demo-admin", "demo-supervisor", "demo-inspector", "demo-cadre"}
    levels = {a.level for a in db.session.scalars(select(Area).where(Area.code.startswith("990101")))}
    assert levels == {"county", "township", "village", "grid"}

    second = cli.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert not any(password in second.output for password in passwords.values())
    assert "Demo field work written" in first.output and "Demo field work" not in second.output
    # the demo accounts, and the township cadres and teams who wrote the demo month
    assert len(db.session.scalars(select(User)).all()) == 4 + len(FIELD_USERS)

    login = client.post("/api/auth/login", json={"username": "demo-cadre", "password": passwords["demo-cadre"]})
    assert login.status_code == 200
    assert login.get_json()["user"]["roles"] == ["cadre"]

    reset = cli.invoke(args=["seed-demo", "--reset-passwords"])
    new_password = dict(re.findall(r"^\s+\w+\s+(demo-\w+)\s+(\S+)\s+area", reset.output, re.MULTILINE))["demo-cadre"]
    assert new_password != passwords["demo-cadre"]
    relogin = client.post("/api/auth/login", json={"username": "demo-cadre", "password": new_password})
    assert relogin.status_code == 200


def test_seed_demo_without_records_seeds_areas_and_accounts_only(cli, db):
    from backend.changes.models import Change
    from backend.hotspots.models import Hotspot, Inspection
    from backend.households.models import Household
    from backend.visits.models import Visit

    result = cli.invoke(args=["seed-demo", "--no-records"])

    assert result.exit_code == 0, result.output
    assert {a.level for a in db.session.scalars(select(Area).where(Area.code.startswith("990101")))} == \
        {"county", "township", "village", "grid"}
    assert sorted(db.session.scalars(select(User.username))) == \
        ["demo-admin", "demo-cadre", "demo-inspector", "demo-supervisor"]
    for model in (Household, Visit, Hotspot, Inspection, Change):
        assert db.session.scalars(select(model)).first() is None, model.__name__
    assert "Demo field work" not in result.output


def test_sync_prune_days_drops_what_is_older_and_keeps_what_is_younger(cli, client, db, tree):
    from datetime import timedelta

    from sqlalchemy import update

    from backend.changes.models import Change
    from backend.models_base import utcnow
    from tests.sync.conftest import device, new_id, push, visit_fields

    cadre = device("cadre-prune", tree.V1, "cadre")
    old, young = new_id(), new_id()
    push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("visit.upsert", old, visit_fields()), cadre.mutation("visit.upsert", young, visit_fields()),
        cadre.mutation("visit.upsert", old, {"summary": "已回访"}, base_version=1),
        cadre.mutation("visit.upsert", young, {"summary": "已回访"}, base_version=1)])

    def entries(record_id: str) -> list[int]:
        return list(db.session.scalars(select(Change.seq).where(Change.record_id == uuid.UUID(record_id))
                                       .order_by(Change.seq)))

    old_entries, young_entries = entries(old), entries(young)
    assert len(old_entries) == len(young_entries) == 2
    now = utcnow()
    # Both visits' first entries are superseded; one is a day past the window, one a day inside it.
    db.session.execute(update(Change).where(Change.seq == old_entries[0]).values(at=now - timedelta(days=8)))
    db.session.execute(update(Change).where(Change.seq == young_entries[0]).values(at=now - timedelta(days=6)))

    default = cli.invoke(args=["sync", "prune"])
    assert default.exit_code == 0, default.output
    assert (entries(old), entries(young)) == (old_entries, young_entries)  # 90 days keep both

    result = cli.invoke(args=["sync", "prune", "--days", "7"])

    assert result.exit_code == 0, result.output
    assert "Dropped 1 change-log entries older than 7 days" in result.output
    assert entries(old) == old_entries[1:]
    assert entries(young) == young_entries

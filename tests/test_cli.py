"""The zoufang command: users create, seed-demo."""

from __future__ import annotations

import re

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

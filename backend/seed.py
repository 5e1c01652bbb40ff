"""The demo county 示范县: a few townships, villages and grids, and one user per role.

Province code 99 does not exist in the national list, so the demo never collides with
a real county imported beside it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from backend.accounts import service as accounts_service
from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.extensions import db

DEMO_COUNTY = "990101000000"

DEMO_AREAS = [
    (DEMO_COUNTY, "示范县", "county", ""),
    ("990101001000", "城关街道", "township", DEMO_COUNTY),
    ("990101100000", "东岭镇", "township", DEMO_COUNTY),
    ("990101200000", "西溪乡", "township", DEMO_COUNTY),
    ("990101001001", "南门社区", "village", "990101001000"),
    ("990101001002", "北门社区", "village", "990101001000"),
    ("990101100201", "东岭村", "village", "990101100000"),
    ("990101100202", "上坞村", "village", "990101100000"),
    ("990101200201", "西溪村", "village", "990101200000"),
    ("990101200202", "石桥村", "village", "990101200000"),
    ("990101001901", "南门社区第一网格", "grid", "990101001001"),
    ("990101001902", "南门社区第二网格", "grid", "990101001001"),
    ("990101100901", "东岭村第一网格", "grid", "990101100201"),
]

# (username, display name, role, area)
DEMO_USERS = [
    ("demo-admin", "县综治中心管理员", "admin", DEMO_COUNTY),
    ("demo-supervisor", "县督查室 李督查", "supervisor", DEMO_COUNTY),
    ("demo-inspector", "东岭镇整治队 王队员", "inspector", "990101100000"),
    ("demo-cadre", "东岭村 张网格员", "cadre", "990101100201"),
]


@dataclass
class DemoAccount:
    username: str
    role: str
    area_code: str
    password: str | None  # None: the account existed and kept its password


def seed_demo(*, reset_passwords: bool = False) -> list[DemoAccount]:
    """Create the demo county and accounts where missing; idempotent."""
    areas_service.import_areas(
        actor=None, header=["code", "name", "level", "parent_code"],
        rows=[(line, list(row)) for line, row in enumerate(DEMO_AREAS, start=2)],
    )
    accounts = []
    for username, display_name, role, area_code in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        password = secrets.token_urlsafe(9) if user is None or reset_passwords else None
        if password is not None and user is None:
            accounts_service.create_user(actor=None, username=username, password=password, roles=[role],
                                         area_code=area_code, display_name=display_name)
        elif password is not None and user is not None:
            accounts_service.set_password(actor=None, user_id=user.id, password=password)
        accounts.append(DemoAccount(username, role, area_code, password))
    return accounts

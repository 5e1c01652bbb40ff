"""Small builders for test data, written straight through the services.

They commit: in tests that only ends a savepoint, and it keeps the data when a
request or command rolls its own work back.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.accounts import service as accounts_service
from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.extensions import db

PASSWORD = "correct-horse-battery"


def _password_hash() -> str:
    # Hashed once: a test with twenty users should not spend its time in argon2.
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = accounts_service.hash_password(PASSWORD)
    return _PASSWORD_HASH


_PASSWORD_HASH: str | None = None


@dataclass
class Tree:
    """Two counties. A has townships T1 and T2 with villages V1 (in T1) and V2 (in T2);
    V1 has a grid G1. B has township BT with village BV."""

    A: str = "990101000000"
    T1: str = "990101001000"
    V1: str = "990101001001"
    G1: str = "990101001901"
    T2: str = "990101100000"
    V2: str = "990101100201"
    B: str = "990102000000"
    BT: str = "990102001000"
    BV: str = "990102001001"


def build_tree() -> Tree:
    tree = Tree()
    for code, name, level, parent in [
        (tree.A, "甲县", "county", None), (tree.T1, "一镇", "township", tree.A),
        (tree.V1, "一村", "village", tree.T1), (tree.G1, "一村第一网格", "grid", tree.V1),
        (tree.T2, "二镇", "township", tree.A), (tree.V2, "二村", "village", tree.T2),
        (tree.B, "乙县", "county", None), (tree.BT, "乙镇", "township", tree.B),
        (tree.BV, "乙村", "village", tree.BT),
    ]:
        areas_service.create_area(actor=None, code=code, name=name, level=level, parent_code=parent)
    db.session.commit()
    return tree


def make_user(username: str, area_code: str, *roles: str, active: bool = True) -> User:
    user = User(username=username, display_name=username, password_hash=_password_hash(),
                area_code=area_code, active=active)
    user.roles = list(roles or ("cadre",))
    db.session.add(user)
    db.session.commit()
    return user


def token_for(user: User, device_name: str = "test phone") -> str:
    token, _device = accounts_service.issue_token(user, device_name)
    db.session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login_headers(username: str, area_code: str, *roles: str) -> dict[str, str]:
    """A new user with these roles, and the header of a live token of theirs."""
    return bearer(token_for(make_user(username, area_code, *roles)))

"""Users, passwords, device tokens and login lockout."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, or_, select, update

from backend.accounts.models import ROLES, DeviceToken, LoginThrottle, User
from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.audit import service as audit_service
from backend.database import upsert_statement
from backend.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthorized
from backend.extensions import db
from backend.models_base import utcnow
from backend.pagination import Page, decode_cursor, paginate

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.@-]{2,63}$")
# Mainland mobile numbers: 11 digits starting 13-19.
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
TOKEN_PREFIX = "zf_"
# last_used_at is written at most this often, so reads do not turn into writes.
TOUCH_INTERVAL = timedelta(minutes=1)

_hasher = PasswordHasher()  # argon2id with the RFC 9106 low-memory parameters
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

USER_FIELDS = ("username", "display_name", "phone", "roles", "area_code", "active")


# --- passwords, usernames, phones -----------------------------------------------

def normalize_username(username: str) -> str:
    return username.strip().lower()


def normalize_phone(phone: str) -> str:
    """A mainland mobile number as 11 digits; +86, spaces and dashes are dropped.

    Raises ValueError with a sentence for anything else.
    """
    digits = re.sub(r"[\s-]", "", phone)
    digits = re.sub(r"^(\+86|0086)", "", digits)
    if not MOBILE_PATTERN.match(digits):
        raise ValueError("Not a mainland China mobile number (11 digits starting 13-19).")
    return digits


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
                           reason="password_too_short",
                           errors={"json": {"password": [f"Shorter than {MIN_PASSWORD_LENGTH} characters."]}})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.",
                           errors={"json": {"password": [f"Longer than {MAX_PASSWORD_LENGTH} characters."]}})


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- users ------------------------------------------------------------------------

def _snapshot(user: User) -> dict[str, Any]:
    return {field: (list(user.roles) if field == "roles" else getattr(user, field)) for field in USER_FIELDS}


def _check_roles(roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    unknown = [role for role in roles if role not in ROLES]
    if not roles or unknown:
        problems = [f"Unknown role: {role}" for role in unknown] or ["At least one role."]
        raise InvalidInput(f"Roles must be one or more of {', '.join(ROLES)}.", errors={"json": {"roles": problems}})
    return roles


def _area_for(actor: User | None, code: str) -> Area:
    try:
        return areas_service.get_area(actor=actor, code=code)
    except NotFound as exc:
        exc.errors = {"json": {"area_code": [exc.message]}}
        raise


def create_user(*, actor: User | None, username: str, password: str, roles: Iterable[str],
                area_code: str, display_name: str | None = None, phone: str | None = None) -> User:
    """Create an account in an area inside the actor's scope."""
    username = normalize_username(username)
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("A username has 3-64 letters, digits or . _ @ -, starting with a letter or digit.",
                           errors={"json": {"username": ["Invalid username."]}})
    area = _area_for(actor, area_code)
    roles = _check_roles(roles)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The username {username} is taken.", reason="username_taken",
                       errors={"json": {"username": ["Already taken."]}})
    user = User(username=username, display_name=(display_name or username).strip(),
                phone=normalize_phone(phone) if phone else None, password_hash=hash_password(password),
                area_code=area.code, active=True, area=area)
    user.roles = roles
    db.session.add(user)
    db.session.flush()
    audit_service.record(actor=actor, action="user.create", entity="user", entity_id=user.id,
                         area_code=user.area_code, after=_snapshot(user))
    return user


def get_user(*, actor: User | None, user_id: int) -> User:
    """The user, or NotFound when absent or outside the actor's scope."""
    user = db.session.get(User, user_id)
    if user is None or not areas_service.in_scope(actor, user.area):
        raise NotFound(f"User {user_id} does not exist or is outside your area.")
    return user


def list_users(*, actor: User, role: str | None = None, area: str | None = None,
               active: bool | None = None, q: str | None = None,
               cursor: str | None = None, limit: int = 50) -> Page[User]:
    """Users whose home area is in the actor's scope (or in ``area``'s subtree)."""
    query = select(User).where(areas_service.scope_clause(actor, User.area_code))
    if area:
        subtree_root = areas_service.get_area(actor=actor, code=area)
        query = query.where(areas_service.subtree_clause(subtree_root, User.area_code))
    if role:
        query = query.where(User.role_rows.any(role=role))
    if active is not None:
        query = query.where(User.active.is_(active))
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(or_(User.username.ilike(pattern), User.display_name.ilike(pattern),
                                User.phone.like(pattern)))
    after_id = decode_cursor(cursor)
    if after_id is not None:
        query = query.where(User.id > after_id)
    rows = db.session.scalars(query.order_by(User.id).limit(limit + 1)).unique().all()
    return paginate(list(rows), limit, key=lambda user: user.id)


def update_user(*, actor: User, user_id: int, changes: dict[str, Any]) -> User:
    """Change a user's name, phone, roles, area or active flag.

    Deactivating signs the user out of every device. Admins cannot deactivate
    themselves or drop their own admin role: someone must be left to undo it.
    """
    user = get_user(actor=actor, user_id=user_id)
    before = _snapshot(user)
    if user.id == actor.id and (changes.get("active") is False or
                                ("roles" in changes and "admin" not in changes["roles"])):
        raise Forbidden("You cannot deactivate yourself or remove your own admin role.", reason="self_lockout")
    if "display_name" in changes:
        user.display_name = changes["display_name"].strip()
    if "phone" in changes:
        user.phone = normalize_phone(changes["phone"]) if changes["phone"] else None
    if "roles" in changes:
        user.roles = _check_roles(changes["roles"])
    if "area_code" in changes:
        user.area = _area_for(actor, changes["area_code"])
        user.area_code = user.area.code
    if "active" in changes:
        user.active = bool(changes["active"])
        if not user.active:
            _revoke_all(user, actor=actor)
    db.session.flush()
    old, new = audit_service.changed_fields(before, _snapshot(user))
    if new:
        audit_service.record(actor=actor, action="user.update", entity="user", entity_id=user.id,
                             area_code=user.area_code, before=old, after=new)
    return user


def set_password(*, actor: User | None, user_id: int, password: str) -> User:
    """An admin sets a new password; the user is signed out everywhere."""
    user = get_user(actor=actor, user_id=user_id)
    user.password_hash = hash_password(password)
    _revoke_all(user, actor=actor)
    audit_service.record(actor=actor, action="user.set_password", entity="user", entity_id=user.id,
                         area_code=user.area_code)
    return user


def change_own_password(*, user: User, device: DeviceToken, current_password: str, new_password: str) -> User:
    """The user changes their password; their other devices are signed out."""
    if not _verify(user.password_hash, current_password):
        raise Forbidden("The current password is wrong.", reason="wrong_password",
                        errors={"json": {"current_password": ["Wrong password."]}})
    user.password_hash = hash_password(new_password)
    _revoke_all(user, actor=user, keep=device)
    audit_service.record(actor=user, action="user.change_password", entity="user", entity_id=user.id,
                         area_code=user.area_code)
    return user


# --- tokens -------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    # The token carries 256 random bits, so a fast hash is enough to make a leaked
    # table useless; a slow one would only slow every request.
    return hashlib.sha256(token.encode()).hexdigest()


def token_expires_at(device: DeviceToken) -> datetime:
    config = current_app.config
    return min(device.last_used_at + timedelta(days=config["TOKEN_IDLE_DAYS"]),
               device.created_at + timedelta(days=config["TOKEN_MAX_DAYS"]))


def issue_token(user: User, device_name: str) -> tuple[str, DeviceToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    device = DeviceToken(user=user, user_id=user.id, name=device_name.strip()[:64] or "unnamed device",
                         token_hash=_token_hash(token), created_at=now, last_used_at=now)
    db.session.add(device)
    db.session.flush()
    return token, device


def authenticate_token(token: str) -> DeviceToken:
    """The live device token for this bearer token, or Unauthorized saying why."""
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthorized("The token is malformed; sign in again.", reason="token_invalid")
    device = db.session.scalar(select(DeviceToken).where(DeviceToken.token_hash == _token_hash(token)))
    if device is None:
        raise Unauthorized("The token is not known; sign in again.", reason="token_invalid")
    if device.revoked_at is not None:
        raise Unauthorized("This device was signed out; sign in again.", reason="token_revoked")
    now = utcnow()
    if now >= token_expires_at(device):
        raise Unauthorized("The sign-in has expired; sign in again.", reason="token_expired")
    if not device.user.active:
        raise Unauthorized("The account is deactivated.", reason="account_inactive")
    if now - device.last_used_at >= TOUCH_INTERVAL:
        device.last_used_at = now
    return device


@dataclass
class LoginResult:
    """Either a token and its device, or the error to answer with after committing."""

    token: str | None = None
    device: DeviceToken | None = None
    error: AppError | None = None


def login(*, username: str, password: str, device_name: str) -> LoginResult:
    """Check a password and issue a device token, counting failures per username.

    A failure is recorded and must be committed even though the answer is an error,
    so it is returned rather than raised.
    """
    name = normalize_username(username)[:64]
    now = utcnow()
    locked_until = db.session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.username == name))
    if locked_until is not None and locked_until > now:
        return LoginResult(error=_locked(locked_until - now))

    user = db.session.scalar(select(User).where(User.username == name))
    if not _verify(user.password_hash if user else _DUMMY_HASH, password) or user is None:
        return LoginResult(error=_record_failure(name, user, now))
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == name))
    if not user.active:
        return LoginResult(error=Forbidden("This account is deactivated; ask your administrator.",
                                           reason="account_inactive"))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token, device = issue_token(user, device_name)
    audit_service.record(actor=user, action="auth.login", entity="device_token", entity_id=device.id,
                         area_code=user.area_code, after={"name": device.name})
    return LoginResult(token=token, device=device)


def _record_failure(name: str, user: User | None, now: datetime) -> AppError:
    config = current_app.config
    failures = _count_failure(name, now)
    area_code = user.area_code if user else None
    audit_service.record(actor=None, action="auth.login_failed", entity="login", entity_id=name,
                         area_code=area_code, after={"failures": failures})
    if failures < config["LOGIN_MAX_FAILURES"]:
        return Unauthorized("Wrong username or password.", reason="invalid_credentials")
    lock = timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    db.session.execute(update(LoginThrottle).where(LoginThrottle.username == name)
                       .values(failures=0, locked_until=now + lock))
    audit_service.record(actor=None, action="auth.locked", entity="login", entity_id=name,
                         area_code=area_code, after={"locked_until": now + lock})
    return _locked(lock)


def _count_failure(name: str, now: datetime) -> int:
    """Add one failure for this name in a single statement, so parallel guesses all count."""
    statement = upsert_statement(db.session, LoginThrottle).values(username=name, failures=1, last_failure_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.username],
        set_={"failures": LoginThrottle.failures + 1, "last_failure_at": now},
    ).returning(LoginThrottle.failures)
    return db.session.execute(statement, execution_options={"synchronize_session": False}).scalar_one()


def _locked(remaining: timedelta) -> TooManyRequests:
    seconds = max(1, math.ceil(remaining.total_seconds()))
    minutes = math.ceil(seconds / 60)
    return TooManyRequests(f"Too many failed sign-ins: try again in {minutes} minute(s).",
                           reason="account_locked", headers={"Retry-After": str(seconds)})


def logout(*, device: DeviceToken) -> None:
    """Revoke the token the request came with."""
    _revoke(device, actor=device.user)


def list_devices(*, actor: User, user_id: int | None = None) -> list[DeviceToken]:
    """Live device tokens: the caller's own, or (for admins) a user's in their scope."""
    owner = actor if user_id is None or user_id == actor.id else _admin_target(actor, user_id)
    query = (select(DeviceToken).where(DeviceToken.user_id == owner.id, DeviceToken.revoked_at.is_(None))
             .order_by(DeviceToken.id))
    now = utcnow()
    return [device for device in db.session.scalars(query) if token_expires_at(device) > now]


def revoke_device(*, actor: User, device_id: int) -> None:
    """Sign out one device: your own, or as an admin any device of a user in scope."""
    device = db.session.get(DeviceToken, device_id)
    if device is None or (device.user_id != actor.id and not _may_manage(actor, device.user)):
        raise NotFound(f"Device {device_id} does not exist or is not yours to sign out.")
    if device.revoked_at is None:
        _revoke(device, actor=actor)


def _may_manage(actor: User, user: User) -> bool:
    return actor.has_role("admin") and areas_service.in_scope(actor, user.area)


def _admin_target(actor: User, user_id: int) -> User:
    if not actor.has_role("admin"):
        raise Forbidden("Only an admin may look at another user's devices.")
    return get_user(actor=actor, user_id=user_id)


def _revoke(device: DeviceToken, *, actor: User | None) -> None:
    device.revoked_at = utcnow()
    db.session.flush()
    audit_service.record(actor=actor, action="device.revoke", entity="device_token", entity_id=device.id,
                         area_code=device.user.area_code, before={"revoked_at": None},
                         after={"revoked_at": device.revoked_at})


def _revoke_all(user: User, *, actor: User | None, keep: DeviceToken | None = None) -> None:
    query = select(DeviceToken).where(DeviceToken.user_id == user.id, DeviceToken.revoked_at.is_(None))
    for device in db.session.scalars(query):
        if keep is None or device.id != keep.id:
            _revoke(device, actor=actor)


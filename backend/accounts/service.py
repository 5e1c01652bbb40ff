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

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.engine import CursorResult

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
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.@-]{2,63}\Z")
# Mainland mobile numbers: 11 ASCII digits starting 13-19 (\d would also take fullwidth digits).
MOBILE_PATTERN = re.compile(r"^1[3-9][0-9]{9}\Z")
TOKEN_PREFIX = "zf_"
# last_used_at is written at most this often, so reads do not turn into writes.
TOUCH_INTERVAL = timedelta(minutes=1)

# Unknown names that fail are not audited one by one; each old throttle row a failure meets
# (up to this many) is dropped as it is counted, so the table holds about one lock window.
PRUNE_BATCH = 100


def production_hasher() -> PasswordHasher:
    """argon2id with RFC 9106's low-memory profile (3 passes, 64 MiB, 4 lanes), pinned here
    rather than left to the library's default, which may change under an upgrade."""
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


_hasher = production_hasher()
_dummy: tuple[PasswordHasher, str] | None = None

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


def _dummy_hash() -> str:
    """A hash by the hasher in use, verified against when the username is unknown, so that an
    unknown name costs the same work as a wrong password."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


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


def change_own_password(*, user: User, device: DeviceToken, current_password: str,
                        new_password: str) -> AppError | None:
    """The user changes their password; their other devices are signed out.

    A wrong current password counts toward the username's sign-in lockout (a stolen token
    must not be a way round it), and a locked username cannot change its password either.
    That count must be committed though the answer is an error, so the error is returned.
    """
    check_password(new_password)
    now = utcnow()
    throttle = _throttle_for_update(user.username, now)
    if throttle.locked_until is not None:
        return _locked(throttle.locked_until - now)
    if not _verify(user.password_hash, current_password):
        return _count_failure(throttle, user, now) or Forbidden(
            "The current password is wrong.", reason="wrong_password",
            errors={"json": {"current_password": ["Wrong password."]}})
    db.session.delete(throttle)
    user.password_hash = hash_password(new_password)
    _revoke_all(user, actor=user, keep=device)
    audit_service.record(actor=user, action="user.change_password", entity="user", entity_id=user.id,
                         area_code=user.area_code)
    return None


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
    throttle = _throttle_for_update(name, now)
    if throttle.locked_until is not None:
        return LoginResult(error=_locked(throttle.locked_until - now))

    user = db.session.scalar(select(User).where(User.username == name))
    # The hash is verified whether or not the user exists: an unknown name costs the same work.
    if not _verify(user.password_hash if user else _dummy_hash(), password) or user is None:
        return LoginResult(error=_count_failure(throttle, user, now) or
                           Unauthorized("Wrong username or password.", reason="invalid_credentials"))
    db.session.delete(throttle)
    if not user.active:
        return LoginResult(error=Forbidden("This account is deactivated; ask your administrator.",
                                           reason="account_inactive"))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token, device = issue_token(user, device_name)
    audit_service.record(actor=user, action="auth.login", entity="device_token", entity_id=device.id,
                         area_code=user.area_code, after={"name": device.name})
    return LoginResult(token=token, device=device)


def _throttle_for_update(name: str, now: datetime) -> LoginThrottle:
    """The name's throttle row, created if absent and locked to the end of the transaction.

    Checking the lock, verifying the password and counting the failure are one step per
    name: parallel guesses queue on this row, so with a threshold of N exactly N wrong
    passwords are verified and every later guess is refused as locked. A served lock, or
    failures older than the lock window, start the count again.
    """
    db.session.execute(upsert_statement(db.session, LoginThrottle).values(username=name, failures=0)
                       .on_conflict_do_nothing(index_elements=[LoginThrottle.username]))
    throttle = db.session.scalars(select(LoginThrottle).where(LoginThrottle.username == name)
                                  .with_for_update().execution_options(populate_existing=True)).one()
    if throttle.locked_until is not None and throttle.locked_until > now:
        return throttle
    window = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    if throttle.locked_until is not None or (throttle.last_failure_at is not None
                                             and throttle.last_failure_at <= now - window):
        throttle.failures, throttle.locked_until = 0, None
    return throttle


def _count_failure(throttle: LoginThrottle, user: User | None, now: datetime) -> TooManyRequests | None:
    """Count a wrong password on the locked throttle row; the lock error once it reaches the threshold.

    Failures of an existing account are audited one by one (the lockout bounds them). An
    unknown name is audited once, when it locks, with its count: guessed names must not
    grow the trail by a row a request.
    """
    config = current_app.config
    throttle.failures += 1
    throttle.last_failure_at = now
    area_code = user.area_code if user else None
    if user is not None:
        audit_service.record(actor=None, action="auth.login_failed", entity="login", entity_id=throttle.username,
                             area_code=area_code, after={"failures": throttle.failures})
    db.session.flush()  # this row's new failure time first: it must not look stale to the prune
    prune_login_throttles(now=now, limit=PRUNE_BATCH)
    if throttle.failures < config["LOGIN_MAX_FAILURES"]:
        return None
    lock = timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    throttle.locked_until = now + lock
    audit_service.record(actor=None, action="auth.locked", entity="login", entity_id=throttle.username,
                         area_code=area_code, after={"failures": throttle.failures, "known": user is not None,
                                                     "locked_until": throttle.locked_until})
    return _locked(lock)


def prune_login_throttles(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Drop throttle rows that hold nothing: no lock in force, no failure within the lock window.

    Rows another transaction holds are skipped (PostgreSQL), so pruning never waits on a sign-in.
    Returns how many were dropped.
    """
    now = now or utcnow()
    cutoff = now - timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    stale = (select(LoginThrottle.username)
             .where(LoginThrottle.last_failure_at < cutoff,
                    or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
             .order_by(LoginThrottle.last_failure_at).limit(limit).with_for_update(skip_locked=True))
    result = db.session.execute(delete(LoginThrottle).where(LoginThrottle.username.in_(stale)),
                                execution_options={"synchronize_session": False})
    return result.rowcount if isinstance(result, CursorResult) else 0


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


"""The HTTP side of accounts: who is calling, and may they call this."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, request
from sqlalchemy.exc import OperationalError

from backend.accounts import service as accounts_service
from backend.accounts.models import DeviceToken, User
from backend.errors import Forbidden, Unauthorized
from backend.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User:
    return cast(User, g.user)


def current_device() -> DeviceToken:
    return cast(DeviceToken, g.device)


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("Sign in first: send Authorization: Bearer <token>.", reason="token_missing")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.", reason="token_invalid")
    return token.strip()


def _save_last_use() -> None:
    """Commit the token's last-used time, even when the request itself fails later.

    Best-effort: a busy database skips it, and the next request a minute on retries.
    """
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()


def login_required(*roles: str) -> Callable[[F], F]:
    """Authenticate the bearer token before anything else; with roles, require one of them."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            device = accounts_service.authenticate_token(_bearer_token())
            if db.session.is_modified(device):
                _save_last_use()
            g.device, g.user = device, device.user
            if roles and not device.user.has_role(*roles):
                raise Forbidden(f"This needs the role {' or '.join(roles)}.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator

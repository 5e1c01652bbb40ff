"""The sign-in rate limit per client address, and its counters in the app's own database.

Flask-Limiter counts; where it keeps the counts decides whether the limit holds across
gunicorn workers and machines. ``memory://`` is per process, Redis is one more server to
run; the embedded default is this storage, fixed-window counters in a table of the app's
database. A counter is written in the request's own transaction (the sign-in routes commit
even when they refuse), so it costs no extra connection, and a request that fails before
its commit (malformed input) is not counted: it tested no password.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import current_app
from flask_limiter import RequestLimit
from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.exc import SQLAlchemyError

from backend.accounts.models import RateLimitCounter
from backend.database import upsert_statement
from backend.errors import TooManyRequests
from backend.extensions import db

DATABASE_STORAGE_URI = "zoufang+database://"
SIGN_IN_SCOPE = "sign-in"
# Ended windows are deleted a few at a time as new ones open, so the table holds about one
# window's worth of addresses.
PRUNE_BATCH = 100


def sign_in_rate() -> str:
    return str(current_app.config["LOGIN_RATE"])


def refuse(limit: RequestLimit) -> None:
    """Flask-Limiter's breach callback: answer in the one error shape, with Retry-After."""
    reset_at, _remaining = limit.window
    seconds = max(1, math.ceil(reset_at - time.time()))
    raise TooManyRequests(f"Too many sign-in attempts from your network address ({limit.limit}): "
                          f"try again in {seconds} second(s).",
                          reason="rate_limited", headers={"Retry-After": str(seconds)})


def prune_counters(*, limit: int | None = None) -> int:
    """Delete counters whose window has ended (rows another transaction holds are skipped); how many."""
    ended = (select(RateLimitCounter.key).where(RateLimitCounter.expires_at < time.time())
             .limit(limit).with_for_update(skip_locked=True))
    return _rowcount(db.session.execute(delete(RateLimitCounter).where(RateLimitCounter.key.in_(ended)),
                                        execution_options={"synchronize_session": False}))


class DatabaseStorage(Storage):
    """A ``limits`` storage for the fixed-window strategy on the app's database (SQLite or PostgreSQL)."""

    STORAGE_SCHEME = ["zoufang+database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the key's window, opening a new window when the last one ended."""
        now = time.time()
        ended = RateLimitCounter.expires_at <= now
        statement = upsert_statement(db.session, RateLimitCounter).values(key=key, count=amount,
                                                                          expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[RateLimitCounter.key],
            set_={"count": case((ended, amount), else_=RateLimitCounter.count + amount),
                  "expires_at": case((ended, now + expiry), else_=RateLimitCounter.expires_at)},
        ).returning(RateLimitCounter.count)
        count: int = db.session.execute(statement, execution_options={"synchronize_session": False}).scalar_one()
        prune_counters(limit=PRUNE_BATCH)
        return int(count)

    def get(self, key: str) -> int:
        count = db.session.scalar(select(RateLimitCounter.count).where(
            RateLimitCounter.key == key, RateLimitCounter.expires_at > time.time()))
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        expires_at = db.session.scalar(select(RateLimitCounter.expires_at).where(RateLimitCounter.key == key))
        return float(expires_at) if expires_at is not None else time.time()

    def check(self) -> bool:
        try:
            db.session.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        return _rowcount(db.session.execute(delete(RateLimitCounter),
                                            execution_options={"synchronize_session": False}))

    def clear(self, key: str) -> None:
        db.session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key),
                           execution_options={"synchronize_session": False})


def _rowcount(result: Result[Any]) -> int:
    """The rows a DELETE or UPDATE matched (its result is a CursorResult)."""
    return result.rowcount if isinstance(result, CursorResult) else 0

"""Users, their roles, device tokens, the login throttle and the sign-in rate counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.areas.models import Area
from backend.extensions import Model
from backend.models_base import Timestamps, utcnow

ROLES = ("cadre", "inspector", "supervisor", "admin")


class User(Timestamps, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case so that "Wang" and "wang" are one account.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(11))
    password_hash: Mapped[str] = mapped_column(String(255))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    area: Mapped[Area] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )
    roles: AssociationProxy[list[str]] = association_proxy(
        "role_rows", "role", creator=lambda role: UserRole(role=role)
    )

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserRole(Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint("role IN ('cadre', 'inspector', 'supervisor', 'admin')", name="role"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class DeviceToken(Model):
    """One logged-in app install. Only the SHA-256 of the token is kept."""

    __tablename__ = "device_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Model):
    """Failed logins in a row, per username typed, whether or not such a user exists.

    Keyed by the name rather than the user row so that a locked name and an
    unknown name answer alike. A row that holds neither a lock nor a failure
    within the lock window means nothing and is pruned.
    """

    __tablename__ = "login_throttles"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None] = mapped_column(index=True)


class RateLimitCounter(Model):
    """One fixed-window counter of the sign-in rate limit (a client address and a window).

    Kept in the database so that every app process counts against the same number.
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int]
    # Seconds since the epoch, as the rate-limit library reads and writes window ends.
    expires_at: Mapped[float] = mapped_column(Float, index=True)

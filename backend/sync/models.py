"""Sync clients (one per installed app) and the results of their mutations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import Model
from backend.models_base import utcnow


class SyncClient(Model):
    """An installed app: the mutation ids it has had processed, in order."""

    __tablename__ = "sync_clients"

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    last_mutation_id: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_push_at: Mapped[datetime | None]


class SyncResult(Model):
    """What a processed mutation answered, returned again when the client retries it."""

    __tablename__ = "sync_results"

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_clients.client_id"), primary_key=True)
    mutation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

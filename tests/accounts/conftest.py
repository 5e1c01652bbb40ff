"""A password hasher that counts its verifications, for tests of what the lockout lets through."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from backend.accounts import service as accounts_service


class CountingHasher(PasswordHasher):
    """The test-speed argon2id hasher, counting verify() calls across threads."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self._lock = threading.Lock()
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 (the library's name)
        with self._lock:
            self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingHasher]:
    counting = CountingHasher()
    monkeypatch.setattr(accounts_service, "_hasher", counting)
    yield counting

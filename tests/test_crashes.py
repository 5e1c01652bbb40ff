"""kill -9 in the middle of a write, then a restart: the phone's retry converges.

The app runs under gunicorn in its own process group, as in production. A gunicorn worker
(the master starts another) or the whole server (master and workers, then started again) is
killed with SIGKILL at one of two moments:

- while the request's body is still arriving (both databases): the server has read half a
  push, or half a tus chunk;
- while its transaction is open and has written (PostgreSQL): the push has inserted its
  visits and their changes and waits to write its results behind a row this test holds
  uncommitted under the same key; the last tus chunk
  has stored its bytes and the photo's files and inserted the blob, and waits for the
  county's flag lock, which this test holds. The lock is let go only after the kill.

Then the phone does what the app does: it sends the same push again (same client id, same
mutation ids), or asks HEAD where the upload stands and sends the rest. Afterwards the
server holds exactly what the phone sent, once.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from backend.evidence.service import flag_lock_key
from tests.evidence.conftest import generated_jpeg, metadata, sha256
from tests.sync.conftest import VILLAGE, committing_app, visit_fields  # noqa: F401

TUS = {"Tus-Resumable": "1.0.0"}
START_S = 60
VICTIMS = ["worker", "server"]


# --- the server ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Gunicorn:
    """gunicorn serving the app on ``port`` with one worker, in a process group of its own."""

    database_url: str
    instance_dir: Path
    port: int = field(default_factory=_free_port)
    master: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "ZOUFANG_DATABASE_URL": self.database_url, "ZOUFANG_INSTANCE_DIR": str(self.instance_dir),
               "ZOUFANG_LOG_LEVEL": "WARNING"}
        self.master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--graceful-timeout", "2", "backend:create_app()"],
            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_until_serving(exclude=None)

    def worker(self) -> int:
        assert self.master is not None
        children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def kill_worker(self) -> None:
        """SIGKILL the worker; the master starts a new one."""
        old = self.worker()
        os.kill(old, signal.SIGKILL)
        self._wait_until_serving(exclude=old)

    def kill_server(self) -> None:
        """SIGKILL the master and its workers at once, as a power cut or the OOM killer would."""
        assert self.master is not None
        os.killpg(self.master.pid, signal.SIGKILL)
        self.master.wait(timeout=10)
        self.master = None

    def kill(self, victim: str) -> None:
        if victim == "worker":
            self.kill_worker()
        else:
            self.kill_server()
            self.start()

    def stop(self) -> None:
        if self.master is not None:
            os.killpg(self.master.pid, signal.SIGTERM)
            try:
                self.master.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.master.pid, signal.SIGKILL)
                self.master.wait()
            self.master = None

    def _wait_until_serving(self, exclude: int | None) -> None:
        assert self.master is not None
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.master.poll() is not None:
                errors = self.master.stderr.read().decode() if self.master.stderr else ""
                raise AssertionError(f"gunicorn exited: {errors}")
            try:
                if self.worker() != exclude and requests.get(f"{self.url}/api/health", timeout=2).ok:
                    return
            except (AssertionError, OSError, requests.RequestException):
                pass
            time.sleep(0.1)
        raise AssertionError("gunicorn did not start serving")


@pytest.fixture
def server(committing_app, empty_database_url, tmp_path) -> Iterator[Gunicorn]:  # noqa: F811
    """The committing app's database and instance directory (its secret key, its photo store), served."""
    gunicorn = Gunicorn(empty_database_url, tmp_path)
    gunicorn.start()
    try:
        yield gunicorn
    finally:
        gunicorn.stop()


@pytest.fixture
def headers(committing_app) -> dict[str, str]:  # noqa: F811
    return {"Authorization": f"Bearer {committing_app.config['TEST_TOKEN']}"}


@pytest.fixture
def database(committing_app, empty_database_url) -> Iterator[sa.Engine]:  # noqa: F811
    engine = sa.create_engine(empty_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- what the phone does ----------------------------------------------------------------

@dataclass
class Phone:
    """A phone's outbox of new visits, sent as one push until the server answers it."""

    url: str
    headers: dict[str, str]
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    visit_ids: list[str] = field(default_factory=lambda: [str(uuid.uuid4()) for _ in range(40)])

    def body(self) -> bytes:
        return json.dumps({"client_id": self.client_id, "mutations": [
            {"id": n, "type": "visit.upsert", "record_id": visit_id, "base_version": None,
             "fields": visit_fields(summary=f"走访记录 {n}")}
            for n, visit_id in enumerate(self.visit_ids, start=1)]}).encode()

    def push(self) -> requests.Response:
        return requests.post(f"{self.url}/api/sync/push", data=self.body(), timeout=60,
                             headers={**self.headers, "Content-Type": "application/json"})

    def push_until_answered(self) -> dict[str, Any]:
        """What the app's sync engine does after a failed push: send the same mutations again."""
        for _ in range(20):
            try:
                response = self.push()
            except requests.ConnectionError:
                time.sleep(0.5)
                continue
            assert response.status_code == 200, response.text
            return response.json()
        raise AssertionError("the push was never answered")


def half_sent(url: str, method: str, path: str, headers: dict[str, str], body: bytes) -> http.client.HTTPConnection:
    """A request whose headers and first half of the body have left; the rest never will."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest(method, path)
    for name, value in {**headers, "Content-Length": str(len(body))}.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(body[:len(body) // 2])
    return connection


def broken(connection: http.client.HTTPConnection) -> bool:
    """The request got no answer: its connection died with the process serving it."""
    try:
        connection.getresponse().read()
    except (ConnectionError, http.client.HTTPException, OSError):
        return True
    finally:
        connection.close()
    return False


@contextmanager
def in_thread(work: Callable[[], Any]) -> Iterator[dict[str, Any]]:
    """Run ``work`` in a thread (a request that will block); its outcome or error after the block."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except Exception as error:  # noqa: BLE001  (the request's failure is what the test checks)
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield outcome
    finally:
        thread.join(timeout=60)
        assert not thread.is_alive(), "the blocked request never ended"


def wait_for_lock_wait(engine: sa.Engine, what: str) -> None:
    """Until one of the app's connections waits for a lock this test holds."""
    deadline = time.monotonic() + 30
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar()
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError(f"the app never reached {what}")


def counts(engine: sa.Engine) -> dict[str, int]:
    """What the server holds of pushes (one phone pushes in these tests)."""
    with engine.connect() as connection:
        def one(sql: str) -> int:
            return connection.execute(sa.text(sql)).scalar_one()
        return {
            "visits": one("SELECT count(*) FROM visits"),
            "changes": one("SELECT count(*) FROM changes WHERE entity = 'visit'"),
            "creates": one("SELECT count(*) FROM audit_events WHERE action = 'visit.create'"),
            "results": one("SELECT count(*) FROM sync_results"),
        }


def assert_held_once(engine: sa.Engine, phone: Phone, answered: dict[str, Any]) -> None:
    """The server holds each of the phone's visits once, under the phone's ids."""
    assert answered["last_mutation_id"] == len(phone.visit_ids)
    assert [(r["status"], r["record_id"]) for r in answered["results"]] == [
        ("applied", visit_id) for visit_id in phone.visit_ids]
    n = len(phone.visit_ids)
    assert counts(engine) == {"visits": n, "changes": n, "creates": n, "results": n}
    with engine.connect() as connection:
        held = set(connection.execute(sa.text("SELECT id FROM visits")).scalars())
    assert {str(uuid.UUID(str(value))) for value in held} == set(phone.visit_ids)


# --- a push -----------------------------------------------------------------------------

@pytest.mark.parametrize("victim", VICTIMS)
def test_a_push_killed_while_its_body_arrives_is_sent_again_and_applied_once(server, headers, database, victim):
    phone = Phone(server.url, headers)
    connection = half_sent(server.url, "POST", "/api/sync/push",
                           {**headers, "Content-Type": "application/json"}, phone.body())
    time.sleep(0.5)  # the worker is reading the body

    server.kill(victim)

    assert broken(connection)
    assert counts(database)["visits"] == 0
    answered = phone.push_until_answered()
    assert_held_once(database, phone, answered)
    # The answer to the retry was lost too: the third send gets the stored results, writes nothing.
    again = phone.push_until_answered()
    assert again["results"] == answered["results"]
    assert_held_once(database, phone, again)


@pytest.mark.postgres
@pytest.mark.parametrize("victim", VICTIMS)
def test_a_push_killed_inside_its_transaction_leaves_nothing_and_its_retry_applies_once(server, headers, database,
                                                                                      victim):
    phone = Phone(server.url, headers)
    assert requests.post(f"{server.url}/api/sync/push", headers=headers, timeout=30,
                         json={"client_id": phone.client_id, "mutations": []}).status_code == 200
    with database.connect() as holder:
        # The push's results are written after its records and change log: an uncommitted row
        # under the first result's key makes it wait there, its records inserted.
        holder.execute(sa.text("INSERT INTO sync_results (client_id, mutation_id, result, at) "
                               "VALUES (:client, 1, '{}', now())"), {"client": phone.client_id})
        with in_thread(phone.push) as outcome:
            wait_for_lock_wait(database, "its results, with its visits and changes inserted")
            server.kill(victim)
            holder.rollback()  # the lock goes: the killed worker's transaction may now try to end
        assert isinstance(outcome.get("error"), requests.ConnectionError), outcome

    assert counts(database) == {"visits": 0, "changes": 0, "creates": 0, "results": 0}
    assert_held_once(database, phone, phone.push_until_answered())


# --- a tus chunk ------------------------------------------------------------------------

@dataclass
class Upload:
    """A visit with one photo attached, and its tus upload started with nothing sent."""

    url: str
    headers: dict[str, str]
    photo_id: str
    data: bytes
    location: str = ""

    def start(self) -> None:
        created = requests.post(f"{self.url}/api/uploads", timeout=30, headers={
            **self.headers, **TUS, "Upload-Length": str(len(self.data)),
            "Upload-Metadata": metadata(photo_id=self.photo_id, sha256=sha256(self.data))})
        assert created.status_code == 201, created.text
        self.location = created.headers["Location"]

    def chunk_headers(self, offset: int) -> dict[str, str]:
        return {**self.headers, **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}

    def offset(self) -> int:
        asked = requests.head(self.location, headers={**self.headers, **TUS}, timeout=30)
        assert asked.status_code == 200, asked.text
        return int(asked.headers["Upload-Offset"])

    def send_from(self, offset: int) -> requests.Response:
        return requests.patch(self.location, data=self.data[offset:], headers=self.chunk_headers(offset), timeout=60)

    def resume(self) -> None:
        """What tus-js-client does after a failure: HEAD for the server's offset, send the rest."""
        offset = self.offset()
        sent = self.send_from(offset)
        assert sent.status_code == 204, sent.text
        assert sent.headers["Upload-Offset"] == str(len(self.data))


def _new_upload(server: Gunicorn, headers: dict[str, str]) -> Upload:
    phone = Phone(server.url, headers, visit_ids=[str(uuid.uuid4())])
    assert phone.push_until_answered()["results"][0]["status"] == "applied"
    data = generated_jpeg(1200, 900, seed=7)
    photo_id = str(uuid.uuid4())
    attached = requests.post(f"{server.url}/api/sync/push", timeout=30, headers=headers, json={
        "client_id": phone.client_id, "mutations": [{
            "id": 2, "type": "photo.attach", "record_id": photo_id, "base_version": None,
            "fields": {"record_type": "visit", "record_id": phone.visit_ids[0], "sha256": sha256(data),
                       "bytes": len(data), "captured_at": "2026-11-20T09:35:00+08:00"}}]})
    assert attached.json()["results"][0]["status"] == "applied", attached.text
    upload = Upload(server.url, headers, photo_id, data)
    upload.start()
    return upload


def assert_stored_once(server: Gunicorn, database: sa.Engine, upload: Upload) -> None:
    photo = requests.get(f"{server.url}/api/photos/{upload.photo_id}", headers=upload.headers, timeout=30).json()
    assert (photo["status"], photo["sha256"], photo["bytes"]) == ("stored", sha256(upload.data), len(upload.data))
    with database.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM blobs")).scalar_one() == 1
        assert connection.execute(sa.text("SELECT count(*) FROM photos")).scalar_one() == 1
    original = requests.get(f"{server.url}/api/photos/{upload.photo_id}/thumb", headers=upload.headers, timeout=30)
    assert original.status_code == 200 and original.headers["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("victim", VICTIMS)
def test_a_chunk_killed_while_it_arrives_resumes_from_the_servers_offset(server, headers, database, victim):
    upload = _new_upload(server, headers)
    first = len(upload.data) // 3
    sent = requests.patch(upload.location, data=upload.data[:first], headers=upload.chunk_headers(0), timeout=30)
    assert sent.status_code == 204, sent.text
    connection = half_sent(server.url, "PATCH", upload.location.removeprefix(server.url),
                           upload.chunk_headers(first), upload.data[first:])
    time.sleep(0.5)  # the worker is reading the chunk

    server.kill(victim)

    assert broken(connection)
    assert upload.offset() == first  # what was committed before the kill, not what was half read
    upload.resume()
    assert_stored_once(server, database, upload)


@pytest.mark.postgres
@pytest.mark.parametrize("victim", VICTIMS)
def test_the_last_chunk_killed_inside_its_transaction_is_sent_again_and_stored_once(server, headers, database,
                                                                                   victim):
    upload = _new_upload(server, headers)
    first = len(upload.data) // 2
    assert requests.patch(upload.location, data=upload.data[:first], headers=upload.chunk_headers(0),
                          timeout=30).status_code == 204
    with database.connect() as holder:
        holder.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": flag_lock_key(VILLAGE[:6])})
        with in_thread(lambda: upload.send_from(first)) as outcome:
            wait_for_lock_wait(database, "the county's flag lock with the photo's blob and files written")
            server.kill(victim)
            holder.rollback()
        assert isinstance(outcome.get("error"), requests.ConnectionError), outcome

    with database.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM blobs")).scalar_one() == 0
    assert upload.offset() == first
    upload.resume()
    assert_stored_once(server, database, upload)

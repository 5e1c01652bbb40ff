"""The app's huey: where jobs wait, the one task that runs any job, and the schedule.

Embedded default: a SQLite file in the instance directory (``jobs.sqlite3``), so nothing else
needs installing. ``ZOUFANG_REDIS_URL`` moves the queue to Redis, for app processes on several
machines. Each app builds its own huey (``init_app``), so an app in a test and an app in a
worker process never share a queue by accident.

The worker is ``zoufang jobs worker`` (huey's Consumer, bound to the app). This module is the
worker's edge, as routes are the request's: it commits; the services only flush.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Task
from huey.exceptions import CancelExecution

from backend import database
from backend.extensions import db
from backend.jobs import service
from backend.jobs.models import Job

RETRIES = 2           # a failing job runs three times in all
RETRY_DELAY = 60      # seconds between runs: long enough for a database restart to end
log = logging.getLogger(__name__)


class JobQueue:
    """One app's huey, its ``run_job`` task and its periodic tasks."""

    def __init__(self, app: Flask):
        self.app = app
        self.huey = _make_huey(app)
        self.run_job = self.huey.task(context=True, name="run_job")(self._run_job)
        from backend.jobs import periodic

        for kind, schedule in periodic.SCHEDULE.items():
            self.huey.periodic_task(schedule, name=f"start_{kind}")(self._starter(kind))

    def submit(self, job_id: uuid.UUID) -> None:
        self.huey.enqueue(self.run_job.s(str(job_id), retries=RETRIES, retry_delay=RETRY_DELAY))

    @contextlib.contextmanager
    def _context(self) -> Iterator[None]:
        # Immediate mode runs inside the request that submitted: keep its context and session.
        if has_app_context() and current_app._get_current_object() is self.app:  # type: ignore[attr-defined]
            yield
        else:
            with self.app.app_context():
                yield

    def _run_job(self, job_id: str, task: Task | None = None) -> None:
        with self._context():
            run_job(uuid.UUID(job_id), final=task is None or not task.retries,
                    separately=not self.huey.immediate)

    def _starter(self, kind: str) -> Any:
        def start() -> None:
            with self._context():
                job = service.start(actor=None, kind=kind, params={}, area_code=None)
                db.session.commit()
                self.submit(job.id)

        start.__name__ = f"start_{kind}"
        return start


def _make_huey(app: Flask) -> Huey:
    name = app.config.get("JOBS_QUEUE_NAME", "zoufang")
    if app.config.get("JOBS_IMMEDIATE"):
        # Tests of the logic: each job runs inside the request that submits it.
        return MemoryHuey(name, immediate=True, utc=True)
    if app.config["REDIS_URL"]:
        return RedisHuey(name, url=app.config["REDIS_URL"], utc=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(Path(app.instance_path) / "jobs.sqlite3"), utc=True)


def init_app(app: Flask) -> None:
    app.extensions["zoufang_jobs"] = JobQueue(app)


def queue() -> JobQueue:
    queue: JobQueue = current_app.extensions["zoufang_jobs"]
    return queue


class _Run:
    """A job's view of the worker: progress, and a long read kept apart from its writes."""

    def __init__(self, job: Job, *, separately: bool):
        self.job, self.separately = job, separately

    def progress(self, done: int, total: int, text: str) -> None:
        service.report_progress(self.job, done=done, total=total, text=text, separately=self.separately)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        # A ledger reads for seconds: on SQLite it must not hold the write lock meanwhile, and
        # its read transaction cannot turn into a write once a phone's push has committed since
        # it began. So the read begins deferred and ends here, before the job's writes.
        with database.reading():
            yield
        db.session.commit()


def run_job(job_id: uuid.UUID, *, final: bool, separately: bool = True) -> None:
    """Run one attempt of a job, commit its result, or keep its error and re-raise for huey's retry."""
    job = db.session.get(Job, job_id)
    if job is None or job.state in ("done", "failed"):
        return  # gone, or a second delivery of work already settled
    kind = service.KINDS[job.kind]
    service.begin_attempt(job)
    db.session.commit()
    try:
        # Nothing of the job is read here: after the commit that would begin a transaction
        # (a writing one, on SQLite) before the work could say it only reads.
        result = kind.work(job, _Run(job, separately=separately))
        service.finish(job, result)
        db.session.commit()
    except Exception as exc:
        final = final or isinstance(exc, service.JobRefused)
        db.session.rollback()
        log.warning("job_failed: %s %s%s: %s", job_id, kind.name, "" if final else " (will retry)", exc)
        job = db.session.get(Job, job_id)
        if job is not None:
            service.fail(job, exc, final=final)
            db.session.commit()
        if isinstance(exc, service.JobRefused):
            raise CancelExecution(retry=False) from exc
        raise

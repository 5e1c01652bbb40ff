"""Jobs: starting one, reading it in scope, its progress, its end, an admin's retry.

A room declares a kind of job with ``register``: the function that does the work, given
the job and a ``Run`` (progress, and a read-only stretch that ends its own transaction).
The worker's edge (``backend.jobs.tasks``) commits around it; these functions flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import or_, select, update

from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.audit import service as audit_service
from backend.errors import AppError, Conflict, NotFound
from backend.extensions import db
from backend.jobs.models import Job
from backend.models_base import utcnow
from backend.storage import delete_after_commit, get_storage

ERROR_TEXT = 2000            # characters of a failure kept for the admin
RESULT_DAYS = 7              # a finished job's file (residents' data) is kept this long
STALLED_HOURS = 6            # a run this old that never ended lost its worker


class JobRefused(AppError):
    """The job cannot be done however often it is tried (its starter was deactivated, …): no retry."""

    status = 409
    reason = "job_refused"


class Run(Protocol):
    """What a job's work may ask of the worker running it."""

    def progress(self, done: int, total: int, text: str) -> None: ...
    def reading(self) -> AbstractContextManager[None]: ...


Work = Callable[[Job, Run], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    name: str
    work: Work
    label: str               # Chinese first, for the admin's list


KINDS: dict[str, JobKind] = {}


def register(name: str, work: Work, *, label: str) -> JobKind:
    """Declare a kind of job; its room does this when imported."""
    kind = KINDS[name] = JobKind(name, work, label)
    return kind


def start(*, actor: User | None, kind: str, params: dict[str, Any], area_code: str | None) -> Job:
    """A new queued job; the caller commits, then hands it to ``submit``."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(id=uuid.uuid4(), kind=kind, params=params, created_by_id=actor.id if actor else None,
              area_code=area_code, state="queued", progress=0, progress_text="", attempts=0)
    db.session.add(job)
    db.session.flush()
    return job


def submit(job: Job) -> None:
    """Put a committed job on the queue (in immediate mode, run it here and now).

    After the commit, never before: a worker on another connection must find the row.
    """
    current_app.extensions["zoufang_jobs"].submit(job.id)


def get_job(*, actor: User, job_id: uuid.UUID) -> Job:
    """The job if the actor started it, or is an admin over its area; else NotFound."""
    job = db.session.get(Job, job_id)
    if job is None or not _visible(actor, job):
        raise NotFound("This job does not exist or is not yours.")
    return job


def _visible(actor: User, job: Job) -> bool:
    if job.created_by_id == actor.id:
        return True
    if not actor.has_role("admin"):
        return False
    if job.area_code is None:
        return True  # the scheduler's housekeeping: every admin watches it
    area = areas_service.find_area(job.area_code)
    return area is not None and areas_service.in_scope(actor, area)


def list_jobs(*, actor: User, state: str | None = None, kind: str | None = None, limit: int = 50) -> list[Job]:
    """Recent jobs in the admin's area (and the scheduler's), newest first."""
    in_area = areas_service.scope_clause(actor, Job.area_code)
    query = select(Job).where(or_(Job.area_code.is_(None), in_area))
    if state:
        query = query.where(Job.state == state)
    if kind:
        query = query.where(Job.kind == kind)
    return list(db.session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit)))


def retry(*, actor: User, job_id: uuid.UUID) -> Job:
    """Queue a failed job again (admins); the caller commits, then ``submit``s it."""
    job = get_job(actor=actor, job_id=job_id)
    locked = db.session.execute(update(Job).where(Job.id == job.id, Job.state == "failed")
                                .values(state="queued", progress=0, progress_text="", finished_at=None))
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Only a failed job can be retried; this one is {job.state}.", reason="job_not_failed")
    db.session.refresh(job)
    audit_service.record(actor=actor, action="job.retry", entity="job", entity_id=str(job.id),
                         area_code=job.area_code, after={"kind": job.kind, "attempts": job.attempts})
    return job


@dataclass(frozen=True)
class Download:
    data: bytes
    filename: str
    ascii_filename: str
    mimetype: str


def download(*, actor: User, job_id: uuid.UUID) -> Download:
    """The file a finished job stored, for the user who started it or an admin over its area."""
    job = get_job(actor=actor, job_id=job_id)
    if job.state != "done" or not job.result:
        raise Conflict("The job has no file yet: wait until it is done.", reason="job_not_done")
    expired = NotFound(f"The file of this job is removed {RESULT_DAYS} days after it; start the export again.",
                       reason="job_file_expired")
    if not job.result_key:
        raise expired
    try:
        data = get_storage().get(job.result_key)
    except KeyError:
        raise expired from None
    return Download(data=data, filename=job.result["filename"], ascii_filename=job.result["ascii_filename"],
                    mimetype=job.result["mimetype"])


# --- the worker's side ----------------------------------------------------------------

def begin_attempt(job: Job) -> None:
    job.state = "running"
    job.attempts += 1
    job.started_at = utcnow()
    job.progress, job.progress_text = 0, ""
    db.session.flush()


def finish(job: Job, result: dict[str, Any]) -> None:
    job.state = "done"
    job.progress, job.progress_text = 100, job.progress_text or ""
    job.result = result
    job.finished_at = utcnow()
    db.session.flush()


def fail(job: Job, error: BaseException, *, final: bool) -> None:
    """Keep the error for the admin; with retries left the job waits in the queue again."""
    text = error.message if isinstance(error, AppError) else f"{type(error).__name__}: {error}"
    job.last_error = text[:ERROR_TEXT]
    job.state = "failed" if final else "queued"
    job.finished_at = utcnow() if final else None
    db.session.flush()


def report_progress(job: Job, *, done: int, total: int, text: str, separately: bool) -> None:
    """Progress as a share of ``total``, kept below 100 until the job is done.

    ``separately``: written and committed on a connection of its own, so the API sees it while
    the job's own transaction is still reading; otherwise only set on the job (immediate mode,
    where nobody can look until the run is over).
    """
    percent = min(99, (done * 100 // total) if total else 0)
    text = text[:200]
    if separately:
        with db.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job.id).values(progress=percent, progress_text=text))
    else:
        job.progress, job.progress_text = percent, text


def store_result(job: Job, data: bytes, *, extension: str) -> str:
    """Put a job's file in the object store the photos use; returns its key."""
    key = f"jobs/{job.id}.{extension}"
    get_storage().put(key, data)
    job.result_key = key
    return key


def prune(*, now: datetime | None = None) -> dict[str, int]:
    """Drop the files of jobs older than RESULT_DAYS; fail runs whose worker never came back."""
    now = now or utcnow()
    old = list(db.session.scalars(select(Job).where(Job.result_key.is_not(None),
                                                    Job.created_at < now - timedelta(days=RESULT_DAYS))))
    delete_after_commit(db.session, [job.result_key for job in old if job.result_key])
    for job in old:
        job.result_key = None
    stalled = list(db.session.scalars(select(Job).where(Job.state == "running",
                                                        Job.started_at < now - timedelta(hours=STALLED_HOURS))))
    for job in stalled:
        job.state, job.finished_at = "failed", now
        job.last_error = f"No word from the worker for {STALLED_HOURS} hours: it stopped during the run."
    db.session.flush()
    return {"files_removed": len(old), "stalled_failed": len(stalled)}

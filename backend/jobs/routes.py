"""/api/jobs: a job's progress, its file, and the admins' list and retry."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from flask import Response
from flask_smorest import Blueprint

from backend.auth import current_user, login_required
from backend.errors import ErrorSchema
from backend.extensions import db
from backend.jobs import service
from backend.jobs.schemas import JobListArgsSchema, JobSchema

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Background jobs 后台任务")
ERROR = {"description": "Error", "content": {"application/json": {"schema": ErrorSchema}}}


@blp.route("")
@login_required("admin")
@blp.arguments(JobListArgsSchema, location="query")
@blp.response(200, JobSchema(many=True))
def list_jobs(args):
    """Recent jobs in your area and the scheduler's, newest first (admins); `state=failed` for the failures."""
    return service.list_jobs(actor=current_user(), **args)


@blp.route("/<uuid:job_id>")
@login_required()
@blp.response(200, JobSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_job(job_id: uuid.UUID):
    """A job you started (or, for admins, one in your area): its state and progress."""
    return service.get_job(actor=current_user(), job_id=job_id)


@blp.route("/<uuid:job_id>/download")
@login_required()
@blp.doc(responses={200: {"description": "The job's file, as an attachment",
                          "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                              "format": "binary"}}}},
                    404: ERROR, 409: ERROR})
def download(job_id: uuid.UUID):
    """The file a finished job made, for the user who started it or an admin over its area."""
    found = service.download(actor=current_user(), job_id=job_id)
    response = Response(found.data, mimetype=found.mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{found.ascii_filename}"; filename*=UTF-8\'\'{quote(found.filename)}')
    return response


@blp.route("/<uuid:job_id>/retry", methods=["POST"])
@login_required("admin")
@blp.response(202, JobSchema)
@blp.alt_response(409, schema=ErrorSchema)
def retry(job_id: uuid.UUID):
    """Run a failed job again (admins)."""
    job = service.retry(actor=current_user(), job_id=job_id)
    db.session.commit()
    service.submit(job)  # after the commit: the worker must find the row
    return job

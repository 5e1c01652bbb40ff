"""What /api/jobs answers."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from backend.jobs.models import STATES


class JobSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "ledger, sync_prune, rates_snapshot, …"})
    params = ma.fields.Dict(required=True, metadata={"description": "What the job was asked to do"})
    created_by_id = ma.fields.Integer(allow_none=True, metadata={"description": "Empty: the scheduler"})
    area_code = ma.fields.String(allow_none=True)
    state = ma.fields.String(required=True, metadata={"description": " | ".join(STATES)})
    progress = ma.fields.Integer(required=True, metadata={"description": "0-100"})
    progress_text = ma.fields.String(required=True)
    attempts = ma.fields.Integer(required=True)
    last_error = ma.fields.String(allow_none=True, metadata={"description": "The latest failure, for admins"})
    result = ma.fields.Dict(allow_none=True, metadata={"description": "Counts; a file's name, size and rows"})
    download_url = ma.fields.Method("_download_url", allow_none=True,
                                    metadata={"description": "Where the finished file is fetched, else empty"})
    created_at = ma.fields.AwareDateTime(required=True)
    started_at = ma.fields.AwareDateTime(allow_none=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)

    def _download_url(self, job) -> str | None:
        if job.state != "done" or not job.result_key:
            return None
        return url_for("jobs.download", job_id=job.id)


class JobListArgsSchema(ma.Schema):
    state = ma.fields.String(validate=ma.validate.OneOf(STATES))
    kind = ma.fields.String()
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))

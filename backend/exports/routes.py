"""/api/exports: ledgers as Excel and CSV, written by a background job."""

from __future__ import annotations

from flask_smorest import Blueprint

from backend.auth import current_user, login_required
from backend.exports import service
from backend.exports.schemas import ExportArgsSchema, start_doc
from backend.extensions import db
from backend.jobs import service as jobs_service
from backend.jobs.schemas import JobSchema
from backend.records.writes import REVIEWER_ROLES

blp = Blueprint("exports", __name__, url_prefix="/api/exports", description="Ledgers 台账导出")

SUMMARIES = {"visits": "Visits ledger 走访台账: one row per live visit in your area matching the list filters "
                       "(status: review status)",
             "hotspots": "Hotspots ledger 乱点整治台账: one row per live hotspot in your area matching the list "
                         "filters (status: hotspot status; since/until: last change)"}


def _register(name: str, fmt: str) -> None:
    @blp.route(f"/{name}.{fmt}", endpoint=f"{name}_{fmt}", methods=["POST"])
    @login_required(*REVIEWER_ROLES)
    @blp.doc(summary=f"{SUMMARIES[name]}, as {fmt.upper()}: starts a job", description=start_doc(fmt))
    @blp.arguments(ExportArgsSchema, location="query")
    @blp.response(202, JobSchema)
    def export(args):
        job = service.start_ledger(actor=current_user(), name=name, fmt=fmt, filters=args)
        db.session.commit()
        jobs_service.submit(job)  # after the commit: the worker must find the row
        return job, 202, {"Location": f"/api/jobs/{job.id}"}


for _name in service.KINDS:
    for _fmt in service.FORMATS:
        _register(_name, _fmt)

"""/api/exports: ledgers as Excel and CSV."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, request
from flask_smorest import Blueprint
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.wsgi import wrap_file

from backend.auth import current_user, login_required
from backend.exports import service
from backend.exports.schemas import MIMETYPES, ExportArgsSchema, download_doc
from backend.extensions import db
from backend.records.writes import REVIEWER_ROLES

blp = Blueprint("exports", __name__, url_prefix="/api/exports", description="Ledgers 台账导出")

CHUNK = 64 * 1024
SUMMARIES = {"visits": "Visits ledger 走访台账: one row per live visit in your area matching the list filters "
                       "(status: review status)",
             "hotspots": "Hotspots ledger 乱点整治台账: one row per live hotspot in your area matching the list "
                         "filters (status: hotspot status; since/until: last change)"}


def _download(ledger: service.Ledger) -> Response:
    """The file in chunks, with its length (a browser can show progress) and its name."""
    response = Response(wrap_file(request.environ, ledger.file, CHUNK), mimetype=MIMETYPES[ledger.fmt],
                        direct_passthrough=True)
    response.content_length = ledger.size
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{ledger.ascii_filename}"; filename*=UTF-8\'\'{quote(ledger.filename)}')
    return response


def _export(name: str, fmt: str, args: dict) -> Response:
    actor = current_user()
    ledger = service.write_ledger(actor=actor, name=name, fmt=fmt, **args)
    # End the long read before writing the audit: on SQLite a read transaction cannot turn into a
    # write once another request has committed since it began, and a ledger takes seconds to read.
    try:
        db.session.commit()
        service.record_export(actor=actor, ledger=ledger)
        db.session.commit()
    except BaseException:
        ledger.file.close()
        raise
    return _download(ledger)


def _register(name: str, fmt: str) -> None:
    @blp.route(f"/{name}.{fmt}", endpoint=f"{name}_{fmt}")
    @login_required(*REVIEWER_ROLES)
    @blp.doc(summary=f"{SUMMARIES[name]}, as {fmt.upper()}; written to the audit", responses=download_doc(fmt))
    @blp.arguments(ExportArgsSchema, location="query")
    def export(args):
        if request.method == "HEAD":
            # Flask answers HEAD with the GET view; a ledger's size is only known once built,
            # and building one (seconds, audited) for a HEAD would be waste.
            raise MethodNotAllowed(valid_methods=["GET"], description="A ledger is built when fetched: use GET.")
        return _export(name, fmt, args)


for _name in service.KINDS:
    for _fmt in service.FORMATS:
        _register(_name, _fmt)

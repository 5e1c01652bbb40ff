"""/api/sync/push and /api/sync/pull."""

from __future__ import annotations

from flask import current_app, request
from flask_smorest import Blueprint

from backend.auth import current_user, login_required
from backend.extensions import db
from backend.sync import service
from backend.sync.schemas import MAX_MUTATIONS, PullArgsSchema, PullResultSchema, PushResultSchema, PushSchema

PUSH_MAX_BYTES = 1024 * 1024

blp = Blueprint("sync", __name__, url_prefix="/api/sync", description="Offline sync: push mutations, pull changes")


@blp.before_request
def _limit_push_body() -> None:
    if request.endpoint == "sync.push":
        request.max_content_length = PUSH_MAX_BYTES


@blp.route("/push", methods=["POST"])
@login_required()
@blp.arguments(PushSchema)
@blp.response(200, PushResultSchema)
def push(args):
    """Apply this client's queued mutations (at most 100 and 1 MiB per push), each exactly once."""
    result = service.push(actor=current_user(), client_id=args["client_id"], mutations=args["mutations"],
                          limit=MAX_MUTATIONS)
    db.session.commit()
    return result


@blp.route("/pull")
@login_required()
@blp.arguments(PullArgsSchema, location="query")
@blp.response(200, PullResultSchema)
def pull(args):
    """The next page of changes in your area since the cursor (at most 500)."""
    # Built as JSON by the service: dumping a page through marshmallow would double its cost.
    return current_app.json.response(service.pull(actor=current_user(), **args))

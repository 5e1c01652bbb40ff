"""/api/review: the supervisors' review queue."""

from __future__ import annotations

from flask_smorest import Blueprint

from backend.auth import current_user, login_required
from backend.extensions import db
from backend.records.writes import REVIEWER_ROLES
from backend.review import service
from backend.review.schemas import BulkApproveResultSchema, BulkApproveSchema, QueueArgsSchema, QueuePageSchema

blp = Blueprint("review", __name__, url_prefix="/api/review", description="Review queue 审核")


@blp.route("/queue")
@login_required(*REVIEWER_ROLES)
@blp.arguments(QueueArgsSchema, location="query")
@blp.response(200, QueuePageSchema)
def queue(args):
    """Pending visits and inspections in your area, most-flagged first, then oldest first."""
    return service.queue(actor=current_user(), **args)


@blp.route("/bulk-approve", methods=["POST"])
@login_required(*REVIEWER_ROLES)
@blp.arguments(BulkApproveSchema)
@blp.response(200, BulkApproveResultSchema)
def bulk_approve(args):
    """Approve each listed record that is pending, unchanged since `version` and has no flagged photo."""
    result = service.bulk_approve(actor=current_user(), items=args["items"])
    db.session.commit()
    return result

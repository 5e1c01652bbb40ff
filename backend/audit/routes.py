"""/api/audit: the trail of writes in the caller's area (admins)."""

from __future__ import annotations

from flask_smorest import Blueprint

from backend.audit import service
from backend.audit.schemas import AuditPageSchema, AuditQueryArgsSchema
from backend.auth import current_user, login_required

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit trail (admins)")


@blp.route("")
@login_required("admin")
@blp.arguments(AuditQueryArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
def list_events(args):
    """Events about your area, newest first."""
    return service.list_events(actor=current_user(), **args)

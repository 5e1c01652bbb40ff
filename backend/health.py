"""GET /api/health: is the app up and can it reach its database."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.extensions import db

blp = Blueprint("health", __name__, url_prefix="/api", description="Liveness and database reachability")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ok or error"})
    database = ma.fields.String(required=True, metadata={"description": "ok or error"})


@blp.route("/health")
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database cannot be reached")
def health():
    """Report whether the app can query its database."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        current_app.logger.error("health check: database unreachable: %s", exc)
        db.session.rollback()
        return {"status": "error", "database": "error"}, 503
    return {"status": "ok", "database": "ok"}

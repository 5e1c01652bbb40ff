"""/api/metrics: coverage and rectification rates, computed from records."""

from __future__ import annotations

from flask_smorest import Blueprint

from backend.auth import current_user, login_required
from backend.metrics import service
from backend.metrics.schemas import (
    CoverageArgsSchema,
    CoverageSchema,
    MetricsAreaArgsSchema,
    RectificationSchema,
    VisitsPerDaySchema,
)
from backend.records.writes import REVIEWER_ROLES

blp = Blueprint("metrics", __name__, url_prefix="/api/metrics", description="Campaign rates 指标")


@blp.route("/coverage")
@login_required(*REVIEWER_ROLES)
@blp.arguments(CoverageArgsSchema, location="query")
@blp.response(200, CoverageSchema)
def coverage(args):
    """Visit coverage of an area and each child area over a period of days (county time)."""
    return service.coverage(actor=current_user(), **args)


@blp.route("/rectification")
@login_required(*REVIEWER_ROLES)
@blp.arguments(MetricsAreaArgsSchema, location="query")
@blp.response(200, RectificationSchema)
def rectification(args):
    """Hotspot rectification of an area and each child area, as of today (county time)."""
    return service.rectification(actor=current_user(), **args)


@blp.route("/visits-per-day")
@login_required(*REVIEWER_ROLES)
@blp.arguments(CoverageArgsSchema, location="query")
@blp.response(200, VisitsPerDaySchema)
def visits_per_day(args):
    """Visits, and flagged visits, in an area on each day of a period (county days, at most 366)."""
    return service.visits_per_day(actor=current_user(), **args)

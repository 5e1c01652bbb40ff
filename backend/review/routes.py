"""/api/review: the supervisors' review queue."""

from flask_smorest import Blueprint

blp = Blueprint("review", __name__, url_prefix="/api/review", description="Review queue 审核")

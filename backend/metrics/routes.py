"""/api/metrics: coverage and rectification rates, computed from records."""

from flask_smorest import Blueprint

blp = Blueprint("metrics", __name__, url_prefix="/api/metrics", description="Campaign rates 指标")

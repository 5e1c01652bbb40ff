"""/api/geo: records as GeoJSON (RFC 7946) for the supervisors' map."""

from flask_smorest import Blueprint

blp = Blueprint("geo", __name__, url_prefix="/api/geo", description="Map layers (GeoJSON)")

"""/api/hotspots and /api/inspections."""

from flask_smorest import Blueprint

from backend.auth import login_required
from backend.hotspots import lifecycle
from backend.hotspots.schemas import (
                                      HotspotCreateSchema,
                                      HotspotPageSchema,
                                      HotspotSchema,
                                      InspectionCreateSchema,
                                      InspectionPageSchema,
                                      InspectionSchema,
                                      LifecycleSchema,
)
from backend.hotspots.service import HOTSPOT, INSPECTION
from backend.records.routes import register_record_routes

hotspots_blp = Blueprint("hotspots", __name__, url_prefix="/api/hotspots", description="Hotspots 治安乱点")
register_record_routes(hotspots_blp, HOTSPOT, create_schema=HotspotCreateSchema, out_schema=HotspotSchema,
                       page_schema=HotspotPageSchema)


@hotspots_blp.route("/lifecycle")
@login_required()
@hotspots_blp.response(200, LifecycleSchema)
def hotspot_lifecycle():
    """The statuses a hotspot moves through and the steps between them: who may take each, with its labels."""
    return lifecycle.as_answer()


inspections_blp = Blueprint("inspections", __name__, url_prefix="/api/inspections",
                            description="Rectification inspections 整治检查")
register_record_routes(inspections_blp, INSPECTION, create_schema=InspectionCreateSchema,
                       out_schema=InspectionSchema, page_schema=InspectionPageSchema)

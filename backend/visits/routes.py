"""/api/visits."""

from flask_smorest import Blueprint

from backend.records.routes import register_record_routes
from backend.visits.schemas import VisitCreateSchema, VisitPageSchema, VisitSchema
from backend.visits.service import SPEC

blp = Blueprint("visits", __name__, url_prefix="/api/visits", description="Visits 走访")
register_record_routes(blp, SPEC, create_schema=VisitCreateSchema, out_schema=VisitSchema,
                       page_schema=VisitPageSchema)

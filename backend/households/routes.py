"""/api/households."""

from flask_smorest import Blueprint

from backend.households.schemas import HouseholdCreateSchema, HouseholdPageSchema, HouseholdSchema
from backend.households.service import SPEC
from backend.records.routes import register_record_routes

blp = Blueprint("households", __name__, url_prefix="/api/households", description="Households 户")
register_record_routes(blp, SPEC, create_schema=HouseholdCreateSchema, out_schema=HouseholdSchema,
                       page_schema=HouseholdPageSchema)

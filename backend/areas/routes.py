"""/api/areas: the administrative tree, limited to the caller's area."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.areas import service
from backend.areas.schemas import AreaCreateSchema, AreaQueryArgsSchema, AreaSchema, AreaUpdateSchema
from backend.auth import current_user, login_required
from backend.extensions import db

blp = Blueprint("areas", __name__, url_prefix="/api/areas", description="Administrative areas (行政区划)")


@blp.route("")
class Areas(MethodView):
    @login_required()
    @blp.arguments(AreaQueryArgsSchema, location="query")
    @blp.response(200, AreaSchema(many=True))
    def get(self, args):
        """Children of an area in your scope, or your own area."""
        return service.describe(service.list_areas(actor=current_user(), **args))

    @login_required("admin")
    @blp.arguments(AreaCreateSchema)
    @blp.response(201, AreaSchema)
    def post(self, args):
        """Add a township, village or grid under an area in your scope."""
        area = service.create_area(actor=current_user(), **args)
        db.session.commit()
        return service.describe([area])[0]


@blp.route("/<code>")
class AreaByCode(MethodView):
    @login_required()
    @blp.response(200, AreaSchema)
    def get(self, code):
        """One area in your scope."""
        return service.describe([service.get_area(actor=current_user(), code=code)])[0]

    @login_required("admin")
    @blp.arguments(AreaUpdateSchema)
    @blp.response(200, AreaSchema)
    def patch(self, args, code):
        """Rename an area in your scope."""
        area = service.rename_area(actor=current_user(), code=code, **args)
        db.session.commit()
        return service.describe([area])[0]

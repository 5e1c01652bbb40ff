"""/api/categories: the lists the forms pick from (cached by the PWA for offline use)."""

from __future__ import annotations

from flask_smorest import Blueprint

from backend.auth import login_required
from backend.categories import service
from backend.categories.schemas import CategoryListsSchema

blp = Blueprint("categories", __name__, url_prefix="/api/categories", description="Category lists")


@blp.route("")
@login_required()
@blp.response(200, CategoryListsSchema)
def list_categories():
    """Dispute types, hotspot types and visit kinds, each with code, 中文 and English labels."""
    return service.list_categories()

"""/api/exports: ledgers as Excel and CSV."""

from flask_smorest import Blueprint

blp = Blueprint("exports", __name__, url_prefix="/api/exports", description="Ledgers 台账导出")

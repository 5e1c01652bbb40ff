"""Query arguments and response documentation of /api/exports."""

from __future__ import annotations

from backend.errors import ErrorSchema
from backend.records.schemas import RecordQueryArgsSchema

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
MIMETYPES = {"xlsx": XLSX, "csv": CSV}


class ExportArgsSchema(RecordQueryArgsSchema):
    """The filters of the record lists, without paging: a ledger holds every matching record."""

    class Meta:
        exclude = ("limit", "cursor")


ERROR = {"description": "Error", "content": {"application/json": {"schema": ErrorSchema}}}
BINARY = {"schema": {"type": "string", "format": "binary"}}


def download_doc(fmt: str) -> dict:
    """The OpenAPI responses of one ledger format."""
    return {200: {"description": "The ledger, as an attachment (Content-Disposition names it)",
                  "content": {MIMETYPES[fmt]: BINARY}},
            403: ERROR, 404: ERROR}

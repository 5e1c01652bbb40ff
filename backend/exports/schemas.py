"""Query arguments and documentation of /api/exports."""

from __future__ import annotations

from backend.records.schemas import RecordQueryArgsSchema

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
MIMETYPES = {"xlsx": XLSX, "csv": CSV}


class ExportArgsSchema(RecordQueryArgsSchema):
    """The filters of the record lists, without paging: a ledger holds every matching record."""

    class Meta:
        exclude = ("limit", "cursor")


def start_doc(fmt: str) -> str:
    """What a client does after starting a ledger of this format."""
    return (f"Answers 202 with the job (and its URL in Location). Poll GET /api/jobs/{{id}} for its progress; "
            f"when its state is done, GET its download_url for the {fmt.upper()} file ({MIMETYPES[fmt]}). "
            "The export is written to the audit when the file is.")

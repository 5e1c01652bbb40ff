"""Writing ledger rows to a temporary file, as an Excel workbook or as CSV, one row at a time.

Neither writer keeps rows: openpyxl's write-only workbook streams each row into its sheet
file (strings inline, no shared-string table) and zips it on save; csv writes as it goes.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

EXCEL_MAX_TEXT = 32_767  # characters in one cell; Excel calls a longer one corrupt
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
# A CSV cell starting with one of these is a formula to Excel (CSV injection): it gets a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    width: float                     # Excel character widths; a Chinese character takes about 2
    kind: str = "text"               # text | number | datetime | date


def write_xlsx(*, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> tuple[IO[bytes], int]:
    """A workbook of one sheet: bold frozen header, column widths, date cells, a filter over the data.

    Returns the file (positioned at its start) and the number of data rows.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    out = tempfile.TemporaryFile()
    try:
        # Views and widths go before the first row, the filter after the last (openpyxl writes it at the end).
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        bold = Font(bold=True)
        centred = Alignment(horizontal="center", vertical="center")
        sheet.append([_styled(sheet, column.header, font=bold, alignment=centred) for column in columns])
        count = 0
        for row in rows:
            sheet.append([_xlsx_value(sheet, column, value) for column, value in zip(columns, row, strict=True)])
            count += 1
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
        workbook.save(out)
    except BaseException:
        out.close()
        _discard(sheet)
        raise
    out.seek(0)
    return out, count


def write_csv(*, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> tuple[IO[bytes], int]:
    """UTF-8 with a BOM (so Excel reads the Chinese right), CRLF lines, times as YYYY-MM-DD HH:MM.

    Returns the file (positioned at its start) and the number of data rows.
    """
    out = tempfile.TemporaryFile()
    try:
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow([column.header for column in columns])
        count = 0
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
            count += 1
        text.flush()
        text.detach()
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, count


def _styled(sheet: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _xlsx_value(sheet: WriteOnlyWorksheet, column: Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _styled(sheet, value, number_format=DATETIME_FORMAT)
    if isinstance(value, date):
        return _styled(sheet, value, number_format=DATE_FORMAT)
    if isinstance(value, str):
        text = excel_text(value)
        if text.startswith("="):
            # openpyxl reads a string starting with = as a formula; a cadre's note stays text.
            cell = WriteOnlyCell(sheet, value=text)
            cell.data_type = "s"
            return cell
        return text
    return value


def excel_text(value: str) -> str:
    """The text without the control characters an xlsx cannot hold, cut to Excel's cell limit."""
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    return text if len(text) <= EXCEL_MAX_TEXT else text[:EXCEL_MAX_TEXT - 1] + "…"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _discard(sheet: WriteOnlyWorksheet) -> None:
    """Remove the sheet's own temporary file after a failed export: it holds residents' data."""
    writer = getattr(sheet, "_writer", None)
    if writer is not None:
        try:
            writer.cleanup()
        except (OSError, ValueError):
            pass

"""Reading ledgers back as a county office would: open the workbook, read the CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

VISIT_HEADERS = ["序号", "乡镇(街道)", "村(社区)", "户主", "地址", "走访时间", "走访人", "走访类型", "反映问题",
                 "问题类别", "满意度", "是否需跟踪", "跟踪期限", "审核状态", "照片数", "核验提示"]
HOTSPOT_HEADERS = ["序号", "乡镇(街道)", "村(社区)", "名称", "类别", "风险等级", "状态", "整改期限", "是否逾期",
                   "检查次数", "最近检查时间", "最近检查结果", "照片数"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(client, headers: dict[str, str], path: str, **query: Any):
    """Start the ledger's job, see it done, fetch its file; the response after checking it is a complete
    attachment. The app's jobs run inside the request that starts them (tests/conftest.py)."""
    started = client.post(f"/api/exports/{path}", headers=headers, query_string=query)
    assert started.status_code == 202, started.get_data(as_text=True)
    assert started.headers["Location"] == f"/api/jobs/{started.json['id']}"
    job = client.get(started.headers["Location"], headers=headers).json
    assert (job["state"], job["progress"]) == ("done", 100), job
    response = client.get(job["download_url"], headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert int(response.headers["Content-Length"]) == len(response.data)
    return response


def sheet(response) -> Worksheet:
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.data)).worksheets[0]


def rows(worksheet: Worksheet) -> list[dict[str, Any]]:
    """Data rows by header; None for empty cells."""
    values = list(worksheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def csv_rows(response) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the data rows of a CSV ledger, after checking its BOM."""
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf"), response.data[:20]
    reader = csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""))
    header, *data = list(reader)
    return header, [dict(zip(header, row, strict=True)) for row in data]

"""A 100,000-row visits ledger is written and sent without the rows ever sitting whole in memory.

The test samples this process's resident set (/proc/self/statm) while the request runs and
prints the numbers for the record. tracemalloc would count Python allocations exactly, but
slows openpyxl's writing about fivefold (over two minutes here), so RSS it is: it also counts
what tracemalloc cannot see (SQLite's page cache, the database driver's buffers).
"""

from __future__ import annotations

import ctypes
import gc
import os
import re
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from backend.audit.models import AuditEvent
from backend.households.models import Household
from backend.visits.models import Visit
from tests.factories import login_headers, make_user

ROWS = 100_000
HOUSEHOLDS = 10_000
BATCH = 5_000
# A ledger held in memory would take several hundred MB (openpyxl's normal workbook keeps about
# half a kilobyte per cell, and this one has 1.6 million); streamed, it takes a few tens.
BOUND_MB = 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakRss:
    """The highest resident set seen, sampled every few milliseconds in a thread."""

    def __init__(self) -> None:
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def release_free_memory() -> None:
    """Hand memory freed by earlier work back to the system, so that the baseline is honest."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def bulk_records(db, tree, author_id: int) -> None:
    """10,000 households and 100,000 visits in three areas, written by a bulk Core insert.

    Not the write path, on purpose: that path is tested in tests/sync and tests/records, and
    100,000 visits pushed through sync (1,000 pushes of 100 mutations) would take minutes.
    The ledger reads visits as rows, so rows written this way are exactly what it meets.
    """
    now = datetime.now(UTC)
    base = {"version": 1, "deleted": False, "created_by_id": author_id, "updated_by_id": author_id,
            "field_versions": {}, "created_at": now, "updated_at": now}
    household_ids = [uuid.uuid4() for _ in range(HOUSEHOLDS)]
    db.session.execute(insert(Household.__table__), [
        {**base, "id": household_id, "area_code": tree.V1, "address": f"一村{i // 100 + 1}组{i % 100 + 1}号",
         "head_name": f"户主{i:05d}", "tags": []} for i, household_id in enumerate(household_ids)])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    areas = (tree.V1, tree.G1, tree.V2)
    for offset in range(0, ROWS, BATCH):
        db.session.execute(insert(Visit.__table__), [
            {**base, "id": uuid.uuid4(), "area_code": areas[i % 3], "kind": "household",
             "household_id": household_ids[i % HOUSEHOLDS] if i % 3 == 0 else None,
             "visited_at": start + timedelta(minutes=5 * i), "lat": 29.45, "lon": 119.89,
             "summary": "入户走访，了解家庭情况。", "satisfaction": 1 + i % 5, "review_status": "pending",
             "concerns": [{"category": "neighbourhood", "description": f"第{i}号走访反映的邻里纠纷"}],
             "follow_up_due": (start + timedelta(days=i % 90)).date() if i % 4 == 0 else None}
            for i in range(offset, min(ROWS, offset + BATCH))])
    db.session.commit()


def sheet_rows_and_filter(path: str) -> tuple[int, str]:
    """Rows in the sheet and its filter range, read by streaming the zipped XML (loading it is slow)."""
    rows, tail = 0, b""
    with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as xml:
        while chunk := xml.read(1 << 20):
            text = tail + chunk
            rows += text.count(b"<row ") - tail.count(b"<row ")
            tail = text[-4096:]  # the filter is written after the last row
    found = re.search(rb'<autoFilter ref="([A-Z]+\d+:[A-Z]+\d+)"', tail)
    return rows, found.group(1).decode() if found else ""


def test_a_100000_row_visits_ledger_is_streamed_with_bounded_memory(client, db, tree, capsys):
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("samples the resident set from /proc (Linux)")
    author = make_user("cadre-bulk", tree.V1, "cadre")
    bulk_records(db, tree, author.id)
    headers = login_headers("supervisor-bulk", tree.A, "supervisor")
    release_free_memory()
    baseline = rss_bytes()

    started = time.perf_counter()
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as received, PeakRss() as rss:
        job = client.post("/api/exports/visits.xlsx", headers=headers).json  # run here (tests/conftest.py)
        assert job["state"] == "done", job
        response = client.get(job["download_url"], headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        for chunk in response.response:  # as a browser receives it, never whole
            received.write(chunk)
        response.close()
        received.flush()
        seconds = time.perf_counter() - started
        size = received.tell()
        rows, filter_ref = sheet_rows_and_filter(received.name)

    growth_mb = (rss.peak - baseline) / 2**20
    with capsys.disabled():
        print(f"\n[visits.xlsx] rows={ROWS} file={size / 2**20:.1f} MiB seconds={seconds:.1f} "
              f"rss_baseline={baseline / 2**20:.0f} MiB rss_peak_growth={growth_mb:.1f} MiB (bound {BOUND_MB})")
    assert int(response.headers["Content-Length"]) == size > 3 * 2**20
    assert rows == ROWS + 1 and filter_ref == f"A1:P{ROWS + 1}"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.visits")).one()
    assert event.after["rows"] == ROWS
    assert growth_mb < BOUND_MB

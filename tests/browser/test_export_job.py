"""A ledger asked for while no worker runs waits as a job; the page shows it generating, and
the file arrives once a worker takes the job — nothing in the request waits for the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.extensions import db
from backend.jobs.models import Job
from tests.browser.conftest import demo_passwords, in_db, served, sign_in
from tests.jobs.worker import consuming

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent / "artifacts"


def test_the_exports_page_polls_the_job_and_downloads_the_file_when_a_worker_has_written_it(
        empty_database_url, tmp_path, browser):
    with served(empty_database_url, tmp_path, worker=False) as server:
        app, url = server.app, server.url
        password = demo_passwords(app)["demo-supervisor"]
        context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN", accept_downloads=True)
        page = context.new_page()
        sign_in(page, url, "demo-supervisor", password)
        page.goto(url + "/supervise/exports")
        page.click("[data-test=export-format-csv]")

        page.click("[data-test=export-download]")

        progress = page.locator("[data-test=export-progress]")
        expect(progress).to_have_attribute("data-phase", "generating")
        expect(page.locator("[data-test=export-job-percent]")).to_contain_text("0%")
        expect(page.locator("[data-test=export-download]")).to_be_disabled()
        page.screenshot(path=str(ARTIFACTS / "export-job-waiting-360.png"), full_page=True)
        assert in_db(app, lambda: db.session.scalars(select(Job.state)).all()) == ["queued"]

        with consuming(app), page.expect_download(timeout=30_000) as downloading:
            pass  # a worker starts; the page, polling, fetches the file once the job is done
        download = downloading.value
        name = download.suggested_filename
        assert name.startswith("走访台账-示范县-") and name.endswith(".csv")
        expect(progress).to_have_attribute("data-phase", "done")
        page.screenshot(path=str(ARTIFACTS / "export-job-done-360.png"), full_page=True)
        page.set_viewport_size({"width": 1366, "height": 768})
        page.screenshot(path=str(ARTIFACTS / "export-job-done-1366.png"), full_page=True)
        assert in_db(app, lambda: db.session.scalars(select(Job.state)).all()) == ["done"]
        context.close()

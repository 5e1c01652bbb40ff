"""A live server on a scratch database, and Debian's Chromium driven by Playwright.

Browser tests skip where Chromium or the built PWA is missing; in CI that skip is a
failure (tests/conftest.py).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import flask_migrate
import pytest
from werkzeug.serving import make_server

from backend import create_app
from backend.extensions import db
from backend.web import PWA_DIST

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class LiveServer:
    url: str
    app: object


@pytest.fixture
def live_server(empty_database_url, tmp_path) -> Iterator[LiveServer]:
    if not (PWA_DIST / "index.html").is_file():
        pytest.skip("pwa/dist is not built (make pwa)")
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path)})
    with app.app_context():
        flask_migrate.upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    yield page
    context.close()

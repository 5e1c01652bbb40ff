"""A live server on a scratch database, and Debian's Chromium driven by Playwright.

Browser tests skip where Chromium or the built PWA is missing; in CI that skip is a
failure (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from werkzeug.serving import make_server

from backend import create_app
from backend.extensions import db
from backend.seed import seed_demo
from backend.web import PWA_DIST
from tests.jobs.worker import consuming
from tests.sync.conftest import Device

# Where the phone says it is: 东岭村, the demo cadre's village.
PHONE_POSITION = {"latitude": 29.4512, "longitude": 119.8871, "accuracy": 8}
SYNC_WAIT_S = 30

# ZOUFANG_HEADED=1 shows the browser (on a desktop, or under xvfb-run) to watch a test.
HEADED = os.environ.get("ZOUFANG_HEADED") == "1"
CHROMIUM_ARGS = [*([] if HEADED else ["--headless"]), "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@dataclass
class LiveServer:
    url: str
    app: object


@pytest.fixture
def live_server(empty_database_url, tmp_path) -> Iterator[LiveServer]:
    with served(empty_database_url, tmp_path) as server:
        yield server


@contextmanager
def served(database_url: str, instance_dir: Path, *, worker: bool = True, **settings: Any) -> Iterator[LiveServer]:
    """A live app with these settings on a free port, serving the built PWA; with ``worker``, its jobs'
    queue is worked by a consumer in this process, as `make run` starts one beside gunicorn."""
    if not (PWA_DIST / "index.html").is_file():
        pytest.skip("pwa/dist is not built (make pwa)")
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_DIR": str(instance_dir), **settings})
    with app.app_context():
        flask_migrate.upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        if worker:
            with consuming(app):
                yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
        else:
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
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=not HEADED)
        yield browser
        browser.close()


def watch_csp(page):
    """``page``, whose ``csp_violations`` list collects the console's Content Security Policy messages."""
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    return page


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    yield watch_csp(context.new_page())
    context.close()


def desktop(browser, **context_options):
    """A page in a new 1366×768 context that watches the CSP; the caller closes ``page.context``."""
    context = browser.new_context(**{"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN",
                                     **context_options})
    return watch_csp(context.new_page())


@pytest.fixture
def phone(browser):
    """A phone-sized browser context at the cadre's village, with location allowed."""
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN", geolocation=PHONE_POSITION,
                                  permissions=["geolocation"], service_workers="allow")
    yield context
    context.close()


def demo_passwords(app) -> dict[str, str]:
    """The demo accounts of the live server's database, by username (new passwords each time)."""
    with app.app_context():
        made = seed_demo()
        db.session.commit()
    return {account.username: account.password for account in made}


def sign_in(page, url: str, username: str, password: str) -> None:
    """Sign in through the login screen and wait until the app has left it."""
    page.goto(url + "/login")
    page.fill("[data-test=login-username] input", username)
    page.fill("[data-test=login-password] input", password)
    page.click("[data-test=login-submit]")
    page.wait_for_url(lambda address: "/login" not in address)


def api_sign_in(client, username: str, password: str) -> Device:
    """A phone of ``username``, signed in through the API of ``client`` (the live app's test client)."""
    response = client.post("/api/auth/login", json={"username": username, "password": password,
                                                    "device_name": "pytest"})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    return Device(answer["user"], {"Authorization": f"Bearer {answer['token']}"})


def in_db(app, query):
    """``query()`` against the live server's database."""
    with app.app_context():
        try:
            return query()
        finally:
            db.session.remove()


def add_demo_hotspot(app, hotspot_id) -> None:
    """A hotspot in the demo inspector's village, written by them as the server writes records."""
    def add() -> bool:
        from sqlalchemy import select

        from backend.accounts.models import User
        from backend.hotspots import service as hotspots_service
        from backend.records import writes

        inspector = db.session.scalar(select(User).where(User.username == "demo-inspector"))
        writes.create(hotspots_service.HOTSPOT, actor=inspector, writer="user:seed", record_id=hotspot_id,
                      fields={"area_code": "990101100201", "name": "东岭村出租房集中区",
                              "category": "rental_cluster", "lat": 29.4515, "lon": 119.8869})
        db.session.commit()
        return True

    in_db(app, add)


def wait_for(app, query, what: str, timeout: float = SYNC_WAIT_S):
    """Poll the server's database until ``query`` is truthy; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = in_db(app, query)
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"after {timeout:.0f} s the server still lacks {what}")

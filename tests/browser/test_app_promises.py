"""What the field app promises a cadre (docs/pwa.md), each checked in a real browser.

A half-filled visit comes back the same after a reload; the browser is asked to keep the
app's storage after sign-in; a new version of the app waits for the user's click; two tabs
never sync at once; a hotspot's deadline is judged by the phone's own date (UTC+8), also
just after midnight. The engine's Retry-After wait and the sync triggers are Vitest tests
(pwa/tests/triggers.test.js), where fake timers stand in for minutes of waiting.
"""

from __future__ import annotations

import re
import shutil
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

import backend.web
from backend.extensions import db
from backend.visits.models import Visit
from tests.browser.conftest import PHONE_POSITION, demo_passwords, in_db, sign_in, wait_for, watch_csp

pytestmark = pytest.mark.browser

SHANGHAI = timezone(timedelta(hours=8))


def wait_until(page, script: str, what: str, timeout: float = 15) -> None:
    """Poll ``script`` in the page (wait_for_function would need eval, which the CSP forbids),
    across reloads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if page.evaluate(script):
                return
        except PlaywrightError:
            pass  # the page is navigating (the reload this test waits for): ask the next one
        page.wait_for_timeout(200)
    pytest.fail(f"after {timeout:.0f} s, still not: {what}")


def phone_in_shanghai(browser, **options):
    """A phone-sized context on the cadres' clock (UTC+8), at the demo village, location allowed."""
    return browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN", timezone_id="Asia/Shanghai",
                               geolocation=PHONE_POSITION, permissions=["geolocation"], **options)


def pick(page, field, label: str) -> None:
    """Choose ``label`` in the category picker opened from the field (a locator)."""
    field.click()
    picker = page.locator(".van-popup--bottom:visible")
    picker.locator(".van-picker-column__item", has_text=label).click()
    page.wait_for_timeout(400)  # the column settles on the clicked item before the confirm reads it
    picker.locator(".van-picker__confirm").click()
    expect(field.locator("input")).to_have_value(label)


# --- a draft survives a reload ---------------------------------------------------------

SUMMARY = "入户走访：两户因宅基地边界争执，\n已约定周五到村委会调解。“暂不上报”"


def expect_the_visit_as_typed(page) -> None:
    expect(page.locator("[data-test=draft-restored]")).to_be_visible()
    expect(page.locator("[data-test=visit-kind] input")).to_have_value("企业走访")
    expect(page.locator("[data-test=visit-time] input")).to_have_value("2025-03-01T23:30")
    expect(page.locator("[data-test=concern]")).to_have_count(2)
    categories = page.locator("[data-test=concern-category] input")
    descriptions = page.locator("[data-test=concern-description] textarea")
    expect(categories.nth(0)).to_have_value("房屋宅基地")
    expect(descriptions.nth(0)).to_have_value("宅基地边界纠纷")
    expect(categories.nth(1)).to_have_value("劳动争议（含拖欠农民工工资）")
    expect(descriptions.nth(1)).to_have_value("")
    expect(page.locator("[data-test=visit-summary] textarea")).to_have_value(SUMMARY)
    expect(page.locator("[data-test=visit-satisfaction] .van-rate__item[aria-checked=true]")).to_have_count(4)
    expect(page.locator("[data-test=visit-follow-up] input")).to_have_value("2025-03-08")


def test_a_half_filled_visit_comes_back_the_same_after_a_reload(live_server, browser):
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-cadre"]
    context = phone_in_shanghai(browser)
    page = watch_csp(context.new_page())
    sign_in(page, url, "demo-cadre", password)
    page.goto(url + "/visits/new")
    expect(page.locator("[data-test=visit-form]")).to_be_visible()

    pick(page, page.locator("[data-test=visit-kind]"), "企业走访")
    page.fill("[data-test=visit-time] input", "2025-03-01T23:30")
    page.click("[data-test=concern-add]")
    pick(page, page.locator("[data-test=concern-category]").nth(0), "房屋宅基地")
    page.locator("[data-test=concern-description] textarea").nth(0).fill("宅基地边界纠纷")
    page.click("[data-test=concern-add]")
    pick(page, page.locator("[data-test=concern-category]").nth(1), "劳动争议（含拖欠农民工工资）")
    page.fill("[data-test=visit-summary] textarea", SUMMARY)
    page.locator("[data-test=visit-satisfaction] .van-rate__item").nth(3).click()
    page.fill("[data-test=visit-follow-up] input", "2025-03-08")

    # Reloaded at once: the last keystrokes were kept as the page unloaded…
    page.reload()
    expect_the_visit_as_typed(page)
    # …and a moment later the autosave has it in IndexedDB: a new tab opened while this one
    # never unloads (as after a crash) finds the same form there.
    page.wait_for_timeout(1000)
    crashed, page = page, watch_csp(context.new_page())
    page.goto(url + "/visits/new")
    expect_the_visit_as_typed(page)
    crashed.close()
    page.click("[data-test=visit-save]")
    page.wait_for_url(lambda address: "/visits/new" not in address)

    visit = wait_for(app, lambda: db.session.scalar(select(Visit)), "the visit")
    assert visit.kind == "enterprise"
    assert visit.visited_at == datetime(2025, 3, 1, 23, 30, tzinfo=SHANGHAI)
    assert visit.concerns == [{"category": "housing_homestead", "description": "宅基地边界纠纷"},
                              {"category": "labour", "description": ""}]
    assert (visit.summary, visit.satisfaction, visit.follow_up_due) == (SUMMARY, 4, date(2025, 3, 8))
    assert page.csp_violations == []
    context.close()


# --- storage the browser keeps ------------------------------------------------------------

# Records when the app asks for persistent storage, and grants it (headless Chromium would
# decide by its own heuristics). Kept in sessionStorage, so reloads do not reset it.
PERSIST_SPY = """
(() => {
  const calls = () => JSON.parse(sessionStorage.getItem('persist-calls') || '[]')
  navigator.storage.persist = async () => {
    const signedIn = Boolean(localStorage.getItem('zoufang.session'))
    sessionStorage.setItem('persist-calls', JSON.stringify([...calls(), signedIn ? 'signed-in' : 'signed-out']))
    return true
  }
  navigator.storage.persisted = async () => calls().length > 0
})()
"""


def test_persistent_storage_is_asked_for_once_signed_in(live_server, browser):
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-cadre"]
    context = phone_in_shanghai(browser)
    context.add_init_script(PERSIST_SPY)
    page = context.new_page()
    calls = lambda: page.evaluate("JSON.parse(sessionStorage.getItem('persist-calls') || '[]')")  # noqa: E731

    page.goto(url + "/login")
    expect(page.locator("[data-test=login-submit]")).to_be_visible()
    assert calls() == []
    sign_in(page, url, "demo-cadre", password)
    # Asked once, with the session already stored: a wiped IndexedDB would lose the work.
    assert calls() == ["signed-in"]
    expect(page.locator("[data-test=home-storage]")).to_contain_text("已受保护")
    page.reload()
    expect(page.locator("[data-test=home-storage]")).to_contain_text("已受保护")
    assert calls() == ["signed-in"]
    context.close()


# --- an update waits for the user --------------------------------------------------------


def test_a_new_version_waits_for_the_users_click(live_server, browser, tmp_path, monkeypatch):
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-cadre"]
    # The server serves a copy of the build, so that a new version can be published mid-test.
    dist = tmp_path / "dist"
    shutil.copytree(backend.web.PWA_DIST, dist)
    monkeypatch.setattr(backend.web, "PWA_DIST", dist)
    context = phone_in_shanghai(browser, service_workers="allow")
    page = watch_csp(context.new_page())
    sign_in(page, url, "demo-cadre", password)
    wait_until(page, "() => navigator.serviceWorker.getRegistration().then(r => Boolean(r && r.active))",
               "the service worker is installed")
    expect(page.locator("[data-test=update-prompt]")).to_have_count(0)

    # A new version is published; the phone finds it on its next start.
    sw = dist / "sw.js"
    sw.write_text(sw.read_text() + "\n// the next version\n")
    page.goto(url + "/visits/new")
    page.fill("[data-test=visit-summary] textarea", "走访中途，新版本到了。")
    prompt = page.locator("[data-test=update-prompt]")
    expect(prompt).to_be_visible(timeout=20000)
    page.evaluate("window.__samePage = true")

    # Half-filled form: the reload is offered but cannot be taken, and nothing reloads by itself.
    reload = prompt.locator("button", has_text="立即更新")
    expect(reload).to_be_disabled()
    expect(prompt).to_contain_text("请先保存正在填写的表单")
    page.wait_for_timeout(3000)
    assert page.evaluate("window.__samePage === true")
    waiting = "() => navigator.serviceWorker.getRegistration().then(r => Boolean(r && r.waiting))"
    assert page.evaluate(waiting), "the new version should wait, not take over"

    # Saved (the prompt leaves room to scroll the Save button clear of it): the user may
    # now take the update, and only their click reloads the app.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.click("[data-test=visit-save]")
    page.wait_for_url(lambda address: "/visits/new" not in address)
    expect(reload).to_be_enabled()
    page.wait_for_timeout(2000)
    assert page.evaluate("window.__samePage === true")
    reload.click()
    wait_until(page, "() => window.__samePage === undefined", "the app reloaded after the click")
    wait_until(page, "() => navigator.serviceWorker.getRegistration().then(r => Boolean(r && r.active && !r.waiting))",
               "the new version took over")
    expect(page.locator("[data-test=update-prompt]")).to_have_count(0)
    wait_for(app, lambda: db.session.scalar(select(Visit.id).where(Visit.summary == "走访中途，新版本到了。")),
             "the visit saved before the update")
    assert page.csp_violations == []
    context.close()


# --- one sync at a time across tabs -----------------------------------------------------


def test_two_tabs_never_sync_at_once(live_server, browser):
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-cadre"]
    context = phone_in_shanghai(browser)
    first = context.new_page()
    sign_in(first, url, "demo-cadre", password)
    second = context.new_page()
    second.goto(url + "/")
    expect(second.locator("[data-test=home-unsynced]")).to_be_visible()
    for page in (first, second):  # the start-up syncs of both tabs are over
        expect(page.locator("[data-test=home-sync-now]")).not_to_have_class(re.compile("van-button--loading"))

    # Every pull is answered slowly, so the first tab's run still holds the lock when the
    # second tab asks; a second run overlapping it would send its own pull.
    def slow_pull(route):
        time.sleep(1.5)
        route.continue_()

    pulls = []
    context.on("request", lambda request: "/api/sync/pull" in request.url and pulls.append(request.url))
    context.route("**/api/sync/pull*", slow_pull)
    for page in (first, second):
        assert page.evaluate("document.visibilityState") == "visible"  # so both tabs ask to sync
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    first.wait_for_timeout(4000)
    context.unroute("**/api/sync/pull*")
    assert len(pulls) == 1, f"both tabs pulled: {pulls}"
    context.close()


# --- deadlines by the phone's date ------------------------------------------------------


def add_hotspot(app, deadline: date) -> uuid.UUID:
    """A hotspot in the demo inspector's village with this deadline, still open."""
    hotspot_id = uuid.uuid4()

    def create():
        from backend.accounts.models import User
        from backend.hotspots import service as hotspots_service
        from backend.records import writes as records_service

        inspector = db.session.scalar(select(User).where(User.username == "demo-inspector"))
        records_service.create(hotspots_service.HOTSPOT, actor=inspector, writer="user:seed", record_id=hotspot_id,
                               fields={"area_code": "990101100201", "name": "东岭村出租房集中区",
                                       "category": "rental_cluster", "lat": 29.4515, "lon": 119.8869,
                                       "deadline": deadline})
        db.session.commit()
        return True

    in_db(app, create)
    return hotspot_id


@pytest.mark.parametrize(("clock", "overdue"), [
    pytest.param(datetime(2025, 3, 1, 23, 30, tzinfo=SHANGHAI), False, id="23:30 on the deadline"),
    pytest.param(datetime(2025, 3, 2, 0, 30, tzinfo=SHANGHAI), True, id="00:30 the day after"),
])
def test_a_deadline_is_overdue_from_the_phones_midnight(live_server, browser, clock, overdue):
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-inspector"]
    hotspot_id = add_hotspot(app, date(2025, 3, 1))
    context = phone_in_shanghai(browser)
    page = context.new_page()
    page.clock.set_fixed_time(clock)
    sign_in(page, url, "demo-inspector", password)

    page.goto(url + "/hotspots")
    item = page.locator(f"[data-test=hotspot-item][data-id='{hotspot_id}']")
    expect(item).to_be_visible(timeout=15000)
    expect(item.locator("[data-test=hotspot-deadline]")).to_contain_text("2025-03-01")
    shown = expect(item.locator("[data-test=hotspot-deadline]"))
    (shown.to_contain_text if overdue else shown.not_to_contain_text)("已逾期")

    page.goto(url + f"/hotspots/{hotspot_id}")
    detail = expect(page.locator("[data-test=hotspot-deadline]"))
    detail.to_contain_text("2025-03-01")
    (detail.to_contain_text if overdue else detail.not_to_contain_text)("已逾期")
    context.close()

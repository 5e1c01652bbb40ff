"""What users type is shown as text on every screen: markup in a name, an address or a summary
is never parsed (no link, no image, no refresh, no script), on the phone and on the desktop."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE_POSITION, api_sign_in, demo_passwords, desktop, sign_in, watch_csp
from tests.sync.conftest import Device, hotspot_fields, household_fields, new_id, push, visit_fields

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
VILLAGE = "990101100201"  # 东岭村, the demo cadre's village
HOME = (PHONE_POSITION["latitude"], PHONE_POSITION["longitude"])

# Each would do something if parsed as HTML: a working link, a script run by an error
# handler, the whole app sent to the sign-in screen, a script.
LINK = '<a href="/login" id="x-link">重新登录</a>'
IMG = '<img src=x onerror="window.__xss=1">'
META = '<meta http-equiv="refresh" content="0;url=/login">'
SCRIPT = "<script>window.__xss=2</script>"
HEAD_NAME = META  # 户主 holds at most 64 characters: the payload that navigates
ADDRESS = f"东岭村3组{LINK}{IMG}"
SUMMARY = f"入户走访{SCRIPT}{META}"
HOTSPOT = f"集贸市场{LINK}{IMG}{META}{SCRIPT}"

# Markup from user text, had any of it become elements, and what its scripts would set.
PARSED = """() => ({
  links: document.querySelectorAll('#x-link, a[href="/login"]').length,
  images: document.querySelectorAll('img[src="x"]').length,
  refresh: document.querySelectorAll('meta[http-equiv]').length,
  scripts: [...document.scripts].filter((node) => node.textContent.includes('__xss')).length,
  ran: typeof window.__xss,
})"""
NOTHING = {"links": 0, "images": 0, "refresh": 0, "scripts": 0, "ran": "undefined"}


def push_one(client, device: Device, type_: str, record_id: str, fields: dict) -> None:
    result = push(client, device.headers, device.client_id, [device.mutation(type_, record_id, fields)])
    assert result["results"][-1]["status"] == "applied", result


def assert_inert(page, address: str) -> None:
    """Nothing of the user text on ``page`` became markup, ran, navigated or broke the CSP."""
    page.wait_for_timeout(500)  # a parsed refresh of 0 s would have left by now
    assert page.evaluate(PARSED) == NOTHING
    assert page.url == address
    assert page.csp_violations == []


def phone_page(browser):
    """A 360×780 phone at the village; the caller closes ``page.context``."""
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN",
                                  geolocation=PHONE_POSITION, permissions=["geolocation"])
    return watch_csp(context.new_page())


@pytest.fixture
def marked_up(live_server):
    """A household, its visit and a hotspot whose words are markup; their ids and the passwords."""
    app = live_server.app
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    supervisor = api_sign_in(client, "demo-supervisor", passwords["demo-supervisor"])
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0)
    household, visit, hotspot = new_id(), new_id(), new_id()
    push_one(client, cadre, "household.upsert", household, household_fields(
        area_code=VILLAGE, address=ADDRESS, head_name=HEAD_NAME, lat=HOME[0], lon=HOME[1]))
    push_one(client, cadre, "visit.upsert", visit, visit_fields(
        area_code=VILLAGE, household_id=household, visited_at=(now - timedelta(hours=1)).isoformat(),
        summary=SUMMARY, lat=HOME[0], lon=HOME[1], accuracy_m=8))
    push_one(client, supervisor, "hotspot.upsert", hotspot, hotspot_fields(
        area_code=VILLAGE, name=HOTSPOT, lat=HOME[0] + 0.003, lon=HOME[1] + 0.003,
        deadline=(date.today() - timedelta(days=3)).isoformat()))
    return {"household": household, "visit": visit, "hotspot": hotspot, "passwords": passwords}


def test_a_cadre_sees_markup_in_households_and_visits_as_text(live_server, browser, marked_up):
    url = live_server.url
    page = phone_page(browser)
    sign_in(page, url, "demo-cadre", marked_up["passwords"]["demo-cadre"])

    page.goto(url + "/households")
    item = page.locator("[data-test=household-item]")
    expect(item).to_have_count(1, timeout=15000)
    expect(item).to_contain_text(HEAD_NAME)
    expect(item).to_contain_text(ADDRESS)
    assert_inert(page, url + "/households")

    item.click()
    page.wait_for_url(f"**/households/{marked_up['household']}")
    expect(page.locator("[data-test=household-head]")).to_contain_text(HEAD_NAME)
    expect(page.locator("[data-test=household-address]")).to_contain_text(ADDRESS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "user-text-360.png"), full_page=True)
    assert_inert(page, f"{url}/households/{marked_up['household']}")

    page.goto(url + "/records")
    record = page.locator("[data-test=record-item]", has_text=SUMMARY)
    expect(record).to_have_count(1, timeout=15000)
    expect(record).to_contain_text(HEAD_NAME)
    assert_inert(page, url + "/records")

    page.goto(f"{url}/visits/{marked_up['visit']}")
    expect(page.locator("[data-test=visit-summary] textarea")).to_have_value(SUMMARY, timeout=15000)
    expect(page.locator("[data-test=visit-household] input")).to_have_value(re.compile(re.escape(ADDRESS)))
    page.click("[data-test=visit-household]")
    option = page.locator("[data-test=household-option]")
    expect(option).to_contain_text(ADDRESS)
    expect(option).to_contain_text(HEAD_NAME)
    assert_inert(page, f"{url}/visits/{marked_up['visit']}")
    page.context.close()


def test_an_inspector_sees_a_marked_up_hotspot_as_text_in_the_list_map_and_detail(live_server, browser, marked_up):
    url = live_server.url
    page = phone_page(browser)
    sign_in(page, url, "demo-inspector", marked_up["passwords"]["demo-inspector"])

    page.goto(url + "/hotspots")
    item = page.locator("[data-test=hotspot-item]")
    expect(item).to_have_count(1, timeout=15000)
    expect(item).to_contain_text(HOTSPOT)
    assert_inert(page, url + "/hotspots")

    # The map: the name beside the marker, and in its popup.
    page.get_by_role("tab", name="地图").click()
    tooltip = page.locator(".leaflet-tooltip", has_text="集贸市场")
    expect(tooltip).to_have_text(HOTSPOT, timeout=15000)
    page.locator(".leaflet-interactive").first.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(HOTSPOT)
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "user-text-map-360.png"))
    assert_inert(page, url + "/hotspots")

    popup.locator("[data-test=map-open-hotspot]").click()
    page.wait_for_url(f"**/hotspots/{marked_up['hotspot']}")
    expect(page.locator("[data-test=hotspot-detail]")).to_contain_text(HOTSPOT)
    expect(page.locator(".van-nav-bar__title")).to_have_text(HOTSPOT)
    assert_inert(page, f"{url}/hotspots/{marked_up['hotspot']}")
    page.context.close()


def test_a_supervisor_sees_the_marked_up_records_as_text_on_the_desktop(live_server, browser, marked_up):
    url = live_server.url
    page = desktop(browser)
    sign_in(page, url, "demo-supervisor", marked_up["passwords"]["demo-supervisor"])

    page.goto(url + "/supervise/map")
    hotspot = page.locator(f"[data-test=map-marker][data-layer=hotspots][data-id='{marked_up['hotspot']}']")
    expect(hotspot).to_have_count(1, timeout=15000)
    hotspot.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text(HOTSPOT)
    assert_inert(page, page.url)

    page.goto(url + "/supervise/review")
    expect(page.locator(f"[data-test=queue-item][data-id='{marked_up['visit']}']")).to_have_count(1, timeout=15000)
    panel = page.locator("[data-test=evidence-panel]")
    expect(panel).to_contain_text(SUMMARY, timeout=15000)
    expect(page.locator("[data-test=evidence-target]")).to_contain_text(ADDRESS)
    assert_inert(page, page.url)

    address = f"{url}/supervise/visits/{marked_up['visit']}"
    page.goto(address)
    expect(page.locator("[data-test=evidence-target]")).to_contain_text(HEAD_NAME, timeout=15000)
    expect(page.locator("[data-test=evidence-target]")).to_contain_text(ADDRESS)
    expect(page.locator("[data-test=evidence-panel]")).to_contain_text(SUMMARY)
    # The household on the evidence map, named on hover.
    page.locator("[data-test=evidence-map] .leaflet-interactive").last.hover()
    expect(page.locator(".leaflet-tooltip", has_text=HEAD_NAME)).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "user-text-1366.png"), full_page=True)
    assert_inert(page, address)
    page.context.close()

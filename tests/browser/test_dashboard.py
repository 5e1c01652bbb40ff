"""A supervisor reads the dashboard of the demo county, opens a township, and downloads the visits ledger."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import api_sign_in, demo_passwords, desktop, in_db, sign_in
from tests.sync.conftest import device, new_id, push

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
DONGLING, DONGLING_VILLAGE = "990101100000", "990101100201"  # 东岭镇, 东岭村
XIXI, XIXI_VILLAGE = "990101200000", "990101200201"          # 西溪乡, 西溪村
NAMES = {DONGLING_VILLAGE: "东岭", XIXI_VILLAGE: "西溪"}
FAR = 0.02  # degrees of latitude, about 2.2 km: a photo taken this far from the household is flagged


def write_campaign(app) -> None:
    """东岭村: 4 households, 3 visited (one twice, one with an overdue follow-up), and an overdue
    hotspot. 西溪村: 2 households, 1 visited, with a photo taken far away. 城关街道: nothing."""
    cadres = in_db(app, lambda: {area: device(f"dash-cadre-{area}", area, "cadre")
                                 for area in (DONGLING_VILLAGE, XIXI_VILLAGE)})
    inspector = in_db(app, lambda: device("dash-inspector", DONGLING, "inspector"))
    client = app.test_client()
    now = datetime.now(UTC)
    households = {DONGLING_VILLAGE: 4, XIXI_VILLAGE: 2}
    # (village, household index, days ago, follow-up due days ago or None)
    visits = [(DONGLING_VILLAGE, 0, 5, None), (DONGLING_VILLAGE, 0, 2, None), (DONGLING_VILLAGE, 1, 4, 2),
              (DONGLING_VILLAGE, 2, 1, None), (XIXI_VILLAGE, 0, 3, None)]
    for village, count in households.items():
        cadre = cadres[village]
        ids = [new_id() for _ in range(count)]
        mutations = [cadre.mutation("household.upsert", household_id, {
            "area_code": village, "address": f"{village[-3:]}-{n}号", "head_name": f"{NAMES[village]}户{n}",
            "lat": 29.45 + n * 0.001, "lon": 119.88}) for n, household_id in enumerate(ids)]
        for area, index, days_ago, due_ago in visits:
            if area != village:
                continue
            visit_id = new_id()
            due = (date.today() - timedelta(days=due_ago)).isoformat() if due_ago else None
            mutations.append(cadre.mutation("visit.upsert", visit_id, {
                "household_id": ids[index], "kind": "household", "follow_up_due": due,
                "visited_at": (now - timedelta(days=days_ago)).isoformat(timespec="seconds")}))
            if village == XIXI_VILLAGE:
                mutations.append(cadre.mutation("photo.attach", new_id(), {
                    "record_type": "visit", "record_id": visit_id, "sha256": "ab" * 32, "bytes": 1000,
                    "lat": 29.45 + FAR, "lon": 119.88, "accuracy_m": 10}))
        result = push(client, cadre.headers, cadre.client_id, mutations)
        assert {outcome["status"] for outcome in result["results"]} == {"applied"}, result
    result = push(client, inspector.headers, inspector.client_id, [inspector.mutation("hotspot.upsert", new_id(), {
        "area_code": DONGLING_VILLAGE, "name": "东岭村菜市场", "category": "market",
        "deadline": (date.today() - timedelta(days=3)).isoformat()})])
    assert result["results"][0]["status"] == "applied", result


def server_numbers(app, password: str, area: str | None = None) -> tuple[dict, dict]:
    """The numbers the server gives the demo supervisor, for the county or ``area``."""
    client = app.test_client()
    headers = api_sign_in(client, "demo-supervisor", password).headers
    query = {"area": area} if area else {}
    coverage = client.get("/api/metrics/coverage", headers=headers, query_string=query).get_json()
    rectification = client.get("/api/metrics/rectification", headers=headers, query_string=query).get_json()
    return coverage, rectification


def card(page, key: str):
    return page.locator(f"[data-test=dash-card-{key}] .dash-card__value")


def red_pixels(png: bytes) -> int:
    """Pixels of the coverage bars' red (#c8102e) in a screenshot."""
    data = Image.open(io.BytesIO(png)).convert("RGB").tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if abs(r - 200) < 12 and g < 40 and abs(b - 46) < 16)


def test_the_dashboard_and_the_visits_ledger(live_server, browser, tmp_path):
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-supervisor"]
    write_campaign(app)
    coverage, rectification = server_numbers(app, password)
    total, rect = coverage["total"], rectification["total"]
    # Counted by hand from write_campaign; the server must agree before the screen is checked.
    assert (total["households"], total["visited_households"], total["visits"], total["flagged_visits"],
            total["pending_visits"], total["overdue_follow_ups"]) == (6, 4, 5, 1, 5, 1)
    assert (rect["listed"], rect["due"], rect["closed_after_inspection"], rect["overdue"], rect["relapsed"]) == (
        1, 1, 0, 1, 0)

    page = desktop(browser, accept_downloads=True)
    sign_in(page, url, "demo-supervisor", password)

    page.goto(url + "/supervise/dashboard")
    expect(card(page, "households")).to_have_text("6")
    expect(card(page, "visited")).to_have_text("4")
    expect(card(page, "coverage")).to_have_text("66.7% (4 / 6)")
    expect(card(page, "visits")).to_have_text("5")
    expect(card(page, "flagged")).to_have_text("1")
    expect(card(page, "pending")).to_have_text("5")
    expect(card(page, "overdueFollowUps")).to_have_text("1")
    expect(card(page, "rectification")).to_have_text("0.0% (0 / 1)")
    expect(card(page, "listed")).to_have_text("1")
    expect(card(page, "overdueHotspots")).to_have_text("1")
    expect(card(page, "relapsed")).to_have_text("0")
    # Townships, the lowest coverage first; 城关街道 has no households, so no rate, last.
    rows = page.locator("[data-test=dash-coverage-table] tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("th")).to_have_text(["西溪乡", "东岭镇", "城关街道"])
    expect(rows.locator("[data-test=dash-child-coverage]")).to_have_text(["50.0%", "75.0%", "—"])
    expect(page.locator(f"[data-test=dash-overdue-{DONGLING}]")).to_contain_text("1")
    expect(page.locator("[data-test=dash-overdue] li")).to_have_count(1)

    chart = page.locator("[data-test=dash-coverage-chart] [role=img]")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(page.locator("[data-test=dash-visits-chart] [role=img]")).to_have_attribute("data-drawn", "true")
    assert chart.locator("canvas").count() == 1
    assert red_pixels(chart.screenshot()) > 500  # the bars are drawn
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-1366.png"), full_page=True)

    # The worst township's bar is at the top; a click on it opens that township.
    box = chart.bounding_box()
    chart.click(position={"x": box["width"] * 0.3, "y": 40})
    expect(page.locator("[data-test=dash-crumb]")).to_have_text(["示范县", "西溪乡"])
    expect(card(page, "households")).to_have_text("2")
    expect(card(page, "flagged")).to_have_text("1")

    # Back up the trail, then down into 东岭镇 from the table.
    page.locator("[data-test=dash-crumb]").first.click()
    expect(card(page, "households")).to_have_text("6")
    page.locator(f"[data-test=dash-child-{DONGLING}] [data-test=dash-drill]").click()
    expect(page.locator("[data-test=dash-crumb]")).to_have_text(["示范县", "东岭镇"])
    township, township_rect = server_numbers(app, password, DONGLING)
    expect(card(page, "households")).to_have_text(str(township["total"]["households"]))
    expect(card(page, "coverage")).to_have_text("75.0% (3 / 4)")
    expect(card(page, "overdueHotspots")).to_have_text(str(township_rect["total"]["overdue"]))
    expect(rows.locator("th")).to_have_text(["东岭村", "上坞村"])
    page.screenshot(path=str(ARTIFACTS / "dashboard-township-1366.png"), full_page=True)

    # The ledger of the whole county.
    page.click("[data-test=supervise-nav-exports]")
    expect(page.locator("[data-test=export-area-0]")).to_be_visible()
    with page.expect_download() as downloading:
        page.click("[data-test=export-download]")
    download = downloading.value
    assert download.suggested_filename == f"走访台账-示范县-{coverage['today']}.xlsx"
    expect(page.locator("[data-test=export-progress]")).to_have_attribute("data-phase", "done")
    expect(page.locator("[data-test=export-percent]")).to_contain_text("100%")
    saved = tmp_path / "visits.xlsx"
    download.save_as(saved)
    sheet = load_workbook(saved, read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    header, lines = table[0], table[1:]
    assert header[:5] == ("序号", "乡镇(街道)", "村(社区)", "户主", "地址")
    assert len(lines) == 5
    assert sorted((line[1], line[2]) for line in lines) == [("东岭镇", "东岭村")] * 4 + [("西溪乡", "西溪村")]
    assert sorted(line[3] for line in lines) == ["东岭户0", "东岭户0", "东岭户1", "东岭户2", "西溪户0"]
    page.screenshot(path=str(ARTIFACTS / "exports-1366.png"), full_page=True)

    # A phone: the same screen in one column.
    page.set_viewport_size({"width": 360, "height": 740})
    page.click("[data-test=supervise-nav-dashboard]")
    expect(card(page, "coverage")).to_have_text("66.7% (4 / 6)")
    expect(page.locator("[data-test=dash-coverage-chart] [role=img]")).to_have_attribute("data-drawn", "true")
    assert page.locator("[data-test=dashboard]").bounding_box()["width"] <= 360
    page.screenshot(path=str(ARTIFACTS / "dashboard-360.png"), full_page=True)

    assert page.csp_violations == []
    page.context.close()

"""A supervisor finds a flagged visit on the map, weighs its evidence and returns it, on a desktop."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.audit.models import AuditEvent
from backend.evidence.models import Photo
from backend.extensions import db
from backend.visits.models import Visit
from tests.browser.conftest import PHONE_POSITION, api_sign_in, demo_passwords, desktop, in_db, sign_in, wait_for
from tests.evidence.conftest import generated_jpeg, gps_exif, sha256, upload
from tests.sync.conftest import Device, household_fields, new_id, push, visit_fields

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
VILLAGE = "990101100201"  # 东岭村, the demo cadre's village
HOME = (PHONE_POSITION["latitude"], PHONE_POSITION["longitude"])
COMMENT = "照片定位离住户两公里，请补拍现场照片"


def push_one(client, cadre: Device, type_: str, record_id: str, fields: dict) -> None:
    result = push(client, cadre.headers, cadre.client_id, [cadre.mutation(type_, record_id, fields)])
    assert result["results"][-1]["status"] == "applied", result


def visit_at_home(client, cadre: Device, lat: float, lon: float, head_name: str, visited_at: datetime) -> str:
    household_id, visit_id = new_id(), new_id()
    push_one(client, cadre, "household.upsert", household_id, household_fields(
        area_code=VILLAGE, address=f"东岭村{head_name}家", head_name=head_name, lat=lat, lon=lon))
    push_one(client, cadre, "visit.upsert", visit_id, visit_fields(
        area_code=VILLAGE, household_id=household_id, visited_at=visited_at.isoformat(), lat=lat, lon=lon,
        accuracy_m=8))
    return visit_id


def test_a_supervisor_returns_a_flagged_visit_from_the_map(live_server, browser):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0)

    # A visit whose photo was taken about 2 km north of the household, and an honest one
    # at a neighbour's 200 m east without photos.
    flagged = visit_at_home(client, cadre, *HOME, "陈大伯", now - timedelta(hours=2))
    clean = visit_at_home(client, cadre, HOME[0], HOME[1] + 0.002, "李大妈", now - timedelta(hours=1))
    taken = (now - timedelta(hours=2)).strftime("%Y:%m:%d %H:%M:%S")
    image = generated_jpeg(seed=3, exif=gps_exif(HOME[0] + 0.018, HOME[1], taken=taken, offset="+08:00"))
    photo_id = str(uuid.uuid4())
    push_one(client, cadre, "photo.attach", photo_id, {
        "record_type": "visit", "record_id": flagged, "sha256": sha256(image), "bytes": len(image),
        "captured_at": (now - timedelta(hours=2)).isoformat(), "lat": HOME[0], "lon": HOME[1], "accuracy_m": 8})
    upload(client, cadre.headers, photo_id, image)
    stored = wait_for(app, lambda: db.session.scalar(select(Photo).where(Photo.status == "stored")), "the photo")
    metres = stored.flags["far_from_target"]["exif_distance_m"]
    assert 1900 < metres < 2100

    page = desktop(browser)
    sign_in(page, url, "demo-supervisor", passwords["demo-supervisor"])

    # The map fits the county's records: both visits, the flagged one ringed and listed.
    page.goto(url + "/supervise/map")
    markers = page.locator("[data-test=map-marker]")
    expect(markers).to_have_count(2, timeout=15000)
    flagged_marker = page.locator(f"[data-test=map-marker][data-id='{flagged}']")
    expect(flagged_marker).to_have_class(re.compile(r"map-pin--flagged"))
    expect(page.locator(f"[data-test=map-marker][data-id='{clean}']")).not_to_have_class(re.compile("flagged"))
    listed = page.locator("[data-test=map-feature]")
    expect(listed).to_have_count(1)
    expect(listed).to_have_attribute("data-id", flagged)
    expect(page.locator("[data-test=map-count]").first).to_contain_text("2")

    # "Flagged only" leaves the flagged visit alone on the map.
    page.select_option("[data-test=map-flag]", "any")
    expect(markers).to_have_count(1)
    expect(markers).to_have_attribute("data-id", flagged)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "supervise-map-1366.png"))

    listed.click()
    page.click("[data-test=map-open-evidence]")
    page.wait_for_url(f"**/supervise/visits/{flagged}")
    distance = page.locator("[data-test=evidence-distance]", has_text="照片位置距走访对象")
    expect(distance).to_have_count(1)
    shown = float(re.search(r"([\d,]+) 米", distance.inner_text()).group(1).replace(",", ""))
    assert abs(shown - metres) <= 1
    far_flag = page.locator("[data-test=evidence-flag][data-code=far_from_target]")
    expect(far_flag).to_contain_text(f"{round(metres):,} 米")
    expect(page.locator("[data-test=evidence-target]")).to_contain_text("陈大伯")
    expect(page.locator("[data-test=evidence-photo-display]")).to_be_visible(timeout=15000)
    expect(page.locator("[data-test=evidence-status]")).to_have_attribute("data-status", "pending")
    page.screenshot(path=str(ARTIFACTS / "supervise-evidence-1366.png"), full_page=True)

    page.click("[data-test=review-return]")
    page.fill("[data-test=review-comment] textarea", COMMENT)
    page.click(".van-dialog__confirm")
    expect(page.locator("[data-test=evidence-status]")).to_have_attribute("data-status", "returned")
    expect(page.locator("[data-test=evidence-comment]")).to_have_text(COMMENT)

    visit = in_db(app, lambda: db.session.get(Visit, uuid.UUID(flagged)))
    assert (visit.review_status, visit.review_comment) == ("returned", COMMENT)
    audit = in_db(app, lambda: db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "visit.review", AuditEvent.entity_id == flagged)).all())
    assert len(audit) == 1

    # Back on the map, as it was left, the visit now shows as returned.
    page.click("[data-test=evidence-back]")
    page.wait_for_url("**/supervise/map?**")
    expect(page.locator(f"[data-test=map-marker][data-id='{flagged}']")).to_have_class(
        re.compile(r"map-pin--returned"))
    assert page.csp_violations == []
    page.context.close()

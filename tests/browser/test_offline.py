"""A day offline, in a real browser: what a cadre and an inspector enter without a network
survives reloads and closed tabs, and reaches the server by itself when the network returns.

The photos are real camera files from ../shared/fixtures/photos; the browser shrinks them,
puts their EXIF back and uploads them by tus. Screenshots of the screens at 360×780 go to
tests/browser/artifacts/ (not committed).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from backend.audit.models import AuditEvent
from backend.evidence.models import Blob, Photo
from backend.extensions import db
from backend.hotspots.models import Hotspot, Inspection
from backend.households.models import Household
from backend.visits.models import Visit
from tests.browser.conftest import (
    PHONE_POSITION,
    SYNC_WAIT_S,
    add_demo_hotspot,
    demo_passwords,
    in_db,
    sign_in,
    wait_for,
)
from tests.conftest import FIXTURES

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PHOTOS = FIXTURES / "photos"
# DSCN0010 (Tuscany) and Kodak_CX7530 (Kenya) carry EXIF GPS; the phone itself is in 东岭村.
PHOTO_FILES = ("DSCN0010.jpg", "Kodak_CX7530.jpg")
EXIF_POSITIONS = {"DSCN0010.jpg": (43.467448, 11.885127), "Kodak_CX7530.jpg": (-0.3713, 36.056417)}


def wait_until(page, script: str, what: str, timeout: float = 15) -> None:
    """Poll ``script`` in the page (wait_for_function would need eval, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(script):
            return
        page.wait_for_timeout(200)
    pytest.fail(f"after {timeout:.0f} s, still not: {what}")


def photo_paths() -> list[str]:
    paths = [PHOTOS / name for name in PHOTO_FILES]
    if not all(path.is_file() for path in paths):
        pytest.skip("photo fixtures absent")
    return [str(path) for path in paths]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def sign_in_and_install(page, url: str, username: str, password: str) -> None:
    """Sign in and wait until the service worker controls the page, so the app opens offline."""
    sign_in(page, url, username, password)
    expect(page.locator("[data-test=home-unsynced]")).to_be_visible()
    # Once installed (the app shell precached), the service worker takes control at the next
    # load; from then on the app opens offline.
    wait_until(page, "() => navigator.serviceWorker.getRegistration().then(r => Boolean(r && r.active))",
               "the service worker is installed")
    page.reload()
    wait_until(page, "() => navigator.serviceWorker.controller !== null", "the service worker controls the page")
    expect(page.locator("[data-test=home-unsynced]")).to_be_visible()


@pytest.mark.fixtures
def test_a_cadres_offline_day_reaches_the_server(live_server, phone):
    app, url = live_server.app, live_server.url
    photos = photo_paths()
    password = demo_passwords(app)["demo-cadre"]
    page = phone.new_page()
    sign_in_and_install(page, url, "demo-cadre", password)
    shot(page, "home")

    phone.set_offline(True)
    page.reload()
    expect(page.locator("[data-test=home-unsynced]")).to_be_visible()

    # A household, then a visit with two photos, all offline.
    page.goto(url + "/households/new")
    page.fill("[data-test=household-address] input", "东岭村3组12号")
    page.fill("[data-test=household-head] input", "陈大伯")
    expect(page.locator("[data-test=gps-accuracy]")).to_contain_text("8")
    shot(page, "household-form")
    page.click("[data-test=household-save]")
    page.click("text=新增走访")
    expect(page.locator("[data-test=visit-form]")).to_be_visible()
    page.fill("[data-test=visit-summary] textarea", "入户走访，了解宅基地边界纠纷，双方同意村里调解。")
    page.set_input_files("[data-test=photo-input]", photos)
    expect(page.locator("[data-test=photo-thumb]")).to_have_count(2, timeout=20000)
    shot(page, "visit-form")
    page.click("[data-test=visit-save]")
    page.wait_for_url(lambda address: "/visits/new" not in address)

    # Close the tab and open a new one, still offline: everything is still there.
    page.close()
    page = phone.new_page()
    page.goto(url + "/records")
    items = page.locator("[data-test=record-item]")
    expect(items.first).to_be_visible()
    expect(page.locator("[data-test=record-item][data-state=waiting]")).not_to_have_count(0)
    shot(page, "records-offline")
    page.goto(url + "/sync")
    expect(page.locator("[data-test=outbox-item]")).not_to_have_count(0)
    shot(page, "sync-offline")
    assert in_db(app, lambda: db.session.scalar(select(func.count()).select_from(Household))) == 0

    # The network returns: the app sends everything by itself.
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for(app, lambda: db.session.scalar(select(func.count()).select_from(Visit)), "the visit")
    stored = wait_for(app, lambda: (lambda rows: rows if len(rows) == 2 else None)(
        db.session.scalars(select(Photo).where(Photo.status == "stored")).all()), "both photos stored")
    positions = sorted((round(p.exif_lat, 4), round(p.exif_lon, 4)) for p in stored)
    assert positions == sorted((round(lat, 4), round(lon, 4)) for lat, lon in EXIF_POSITIONS.values())
    assert all(p.lat == pytest.approx(PHONE_POSITION["latitude"]) for p in stored)
    assert all(p.width <= 1600 and p.height <= 1600 for p in stored)  # shrunk on the phone

    def one_each():
        households = db.session.scalars(select(Household)).all()
        visits = db.session.scalars(select(Visit)).all()
        creates = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.action == "visit.create"))
        return households, visits, creates

    households, visits, creates = in_db(app, one_each)
    assert [h.head_name for h in households] == ["陈大伯"]
    assert len(visits) == 1 and creates == 1
    assert visits[0].household_id == households[0].id
    assert {p.record_id for p in stored} == {visits[0].id}
    page.goto(url + "/records")
    expect(page.locator("[data-test=record-item][data-state=synced]")).to_have_count(2, timeout=15000)
    shot(page, "records-synced")


@pytest.mark.fixtures
def test_an_upload_cut_off_resumes_without_a_second_copy(live_server, phone):
    app, url = live_server.app, live_server.url
    photo = str(PHOTOS / "iphone_hdr_NO.jpg")
    if not Path(photo).is_file():
        pytest.skip("photo fixtures absent")
    password = demo_passwords(app)["demo-cadre"]
    page = phone.new_page()
    sign_in_and_install(page, url, "demo-cadre", password)

    uploads_started = []
    page.on("request", lambda request: request.method == "POST" and "/api/uploads" in request.url
            and uploads_started.append(request.url))
    patches = {"count": 0}

    def cut_after_first_chunk(route):
        patches["count"] += 1
        if patches["count"] == 2:
            phone.set_offline(True)  # the network dies mid-upload
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/uploads/**", cut_after_first_chunk)
    page.goto(url + "/visits/new")
    page.fill("[data-test=visit-summary] textarea", "走访照片较大，测试断点续传。")
    page.set_input_files("[data-test=photo-input]", [photo])
    expect(page.locator("[data-test=photo-thumb]")).to_have_count(1, timeout=20000)
    page.click("[data-test=visit-save]")
    page.wait_for_url(lambda address: "/visits/new" not in address)

    # Wait until the connection was cut, then give it back.
    deadline = time.monotonic() + SYNC_WAIT_S
    while patches["count"] < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert patches["count"] >= 2, "the upload never started"
    page.unroute("**/api/uploads/**")  # its handler runs in this process, which now only polls the database
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for(app, lambda: db.session.scalar(select(Photo.id).where(Photo.status == "stored")), "the photo stored")
    assert len(uploads_started) == 1, "the upload started over instead of resuming"
    assert in_db(app, lambda: db.session.scalar(select(func.count()).select_from(Blob))) == 1
    assert in_db(app, lambda: db.session.scalar(select(func.count()).select_from(Visit))) == 1


@pytest.mark.fixtures
def test_an_inspection_with_before_and_after_photos(live_server, phone):
    app, url = live_server.app, live_server.url
    photos = photo_paths()
    password = demo_passwords(app)["demo-inspector"]
    hotspot_id = uuid.uuid4()

    add_demo_hotspot(app, hotspot_id)
    page = phone.new_page()
    sign_in_and_install(page, url, "demo-inspector", password)
    page.goto(url + "/hotspots")
    expect(page.locator("[data-test=hotspot-item]")).to_have_count(1, timeout=15000)
    shot(page, "hotspots")

    phone.set_offline(True)
    page.goto(url + f"/inspections/new?hotspot={hotspot_id}")
    expect(page.locator("[data-test=inspection-form]")).to_be_visible()
    page.fill("[data-test=inspection-findings] textarea", "楼道堆放杂物，消防通道堵塞。")
    page.click("[data-test=result-in_progress]")
    page.set_input_files("[data-test=photo-before] [data-test=photo-input]", photos[:1])
    page.set_input_files("[data-test=photo-after] [data-test=photo-input]", photos[1:])
    expect(page.locator("[data-test=photo-thumb]")).to_have_count(2, timeout=20000)
    shot(page, "inspection-form")
    page.click("[data-test=inspection-save]")
    page.wait_for_url(lambda address: "/inspections/new" not in address)
    page.reload()

    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    inspection = wait_for(app, lambda: db.session.scalar(select(Inspection)), "the inspection")
    assert inspection.hotspot_id == hotspot_id
    wait_for(app, lambda: db.session.scalar(select(func.count()).select_from(Photo)
                                            .where(Photo.status == "stored", Photo.record_type == "inspection")) == 2,
             "both inspection photos stored")
    assert in_db(app, lambda: db.session.scalar(select(func.count()).select_from(Inspection))) == 1
    assert in_db(app, lambda: db.session.get(Hotspot, hotspot_id).name) == "东岭村出租房集中区"


def test_a_sign_in_that_expired_offline_is_renewed_and_the_work_still_goes(live_server, phone):
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-cadre"]
    page = phone.new_page()
    sign_in_and_install(page, url, "demo-cadre", password)

    phone.set_offline(True)
    page.goto(url + "/households/new")
    page.fill("[data-test=household-address] input", "东岭村5组3号")
    page.fill("[data-test=household-head] input", "何阿姨")
    page.click("[data-test=household-save]")
    page.wait_for_url(lambda address: "/households/new" not in address)

    def revoke_the_phone():
        from backend.accounts import service as accounts_service
        from backend.accounts.models import DeviceToken, User

        cadre = db.session.scalar(select(User).where(User.username == "demo-cadre"))
        for device in db.session.scalars(select(DeviceToken).where(DeviceToken.user_id == cadre.id)):
            accounts_service.revoke_device(actor=cadre, device_id=device.id)
        db.session.commit()
        return True

    in_db(app, revoke_the_phone)  # as if the token had expired during the day
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    dialog = page.locator("[data-test=sign-in-again]")
    expect(dialog).to_be_visible(timeout=15000)
    assert in_db(app, lambda: db.session.scalar(select(func.count()).select_from(Household))) == 0
    shot(page, "sign-in-again")
    dialog.locator("input[type=password]").fill(password)
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    household = wait_for(app, lambda: db.session.scalar(select(Household)), "the household")
    assert household.head_name == "何阿姨"

"""A supervisor works through the review queue at a desktop, by keyboard, in a real browser.

The demo cadre's phone (sync push and tus, through the live server's API) files five visits:
one with a photo taken 2 km from the household (far_from_target), one with a photo taken at
the household, two without photos, and one whose photo is still on the phone.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backend.extensions import db
from backend.visits.models import Visit
from tests.browser.conftest import demo_passwords, in_db, wait_for
from tests.review.helpers import HOME, add_photo, away, household_visit, new_visit
from tests.sync.conftest import Device

pytestmark = pytest.mark.browser

VILLAGE = "990101100201"  # 东岭村, the demo cadre's village
ARTIFACTS = Path(__file__).parent / "artifacts"
ITEMS = "[data-test=queue-item]"
SELECTED = "[data-test=queue-item][aria-selected=true]"
REASON = "照片与走访对象对不上，请补拍门牌照片。"


def signed_in(client, username: str, password: str) -> Device:
    response = client.post("/api/auth/login", json={"username": username, "password": password,
                                                    "device_name": "pytest"})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    return Device(answer["user"], {"Authorization": f"Bearer {answer['token']}"})


def at(hour_minute: str) -> str:
    return f"2026-11-20T{hour_minute}:00+08:00"


def file_visits(app, password: str) -> dict[str, str]:
    """The cadre's five visits by name; the queue lists them in this order."""
    client = app.test_client()
    cadre = signed_in(client, "demo-cadre", password)
    flagged = household_visit(client, cadre, area_code=VILLAGE, visited_at=at("09:30"))
    add_photo(client, cadre, flagged, taken_at=away(HOME, 2000, bearing=45), seed=1)
    clean_photo = household_visit(client, cadre, area_code=VILLAGE, visited_at=at("08:00"))
    add_photo(client, cadre, clean_photo, taken_at=HOME, seed=2)
    no_photo = new_visit(client, cadre, area_code=VILLAGE, visited_at=at("08:10"))
    no_photo_later = new_visit(client, cadre, area_code=VILLAGE, visited_at=at("08:20"))
    photo_on_phone = household_visit(client, cadre, area_code=VILLAGE, visited_at=at("08:30"))
    add_photo(client, cadre, photo_on_phone, taken_at=HOME, seed=3, send_bytes=False)
    return {"flagged": flagged, "clean_photo": clean_photo, "no_photo": no_photo, "no_photo_later": no_photo_later,
            "photo_on_phone": photo_on_phone}


def listed(page) -> list[str]:
    items = page.locator(ITEMS)
    return [items.nth(index).get_attribute("data-id") for index in range(items.count())]


def review_of(app, visit_id: str) -> tuple[str, str | None]:
    visit = in_db(app, lambda: db.session.get(Visit, uuid.UUID(visit_id)))
    return visit.review_status, visit.review_comment


def open_queue(page, url: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("[data-test=login-username] input", "demo-supervisor")
    page.fill("[data-test=login-password] input", password)
    page.click("[data-test=login-submit]")
    page.wait_for_url(lambda address: "/login" not in address)
    page.goto(url + "/supervise/review")


def test_a_supervisor_rules_on_the_queue_by_keyboard(live_server, browser):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    visits = file_visits(app, passwords["demo-cadre"])

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    csp: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and csp.append(message.text))
    open_queue(page, url, passwords["demo-supervisor"])

    # Most-flagged first, then oldest first; the first is selected and its flag is named.
    expect(page.locator(ITEMS)).to_have_count(5)
    order = [visits[name] for name in ("flagged", "clean_photo", "no_photo", "no_photo_later", "photo_on_phone")]
    assert listed(page) == order
    expect(page.locator(SELECTED)).to_have_attribute("data-id", visits["flagged"])
    first = page.locator(ITEMS).first
    expect(first.locator("[data-test=queue-item-flag]")).to_have_text(["距走访对象过远"])
    expect(first).to_contain_text("东岭村")
    expect(first).to_contain_text("2026-11-20 09:30")
    expect(page.locator(ITEMS).nth(4)).to_contain_text("0/1")
    expect(page.locator("[data-test=queue-keys]")).to_be_visible()
    expect(page.locator("[data-test=review-actions]")).to_be_visible()
    expect(page.locator("[data-test=queue-bulk]")).to_contain_text("(3)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review_queue.png"))

    # ? shows every shortcut; Escape closes it.
    page.keyboard.press("?")
    expect(page.locator("[data-test=queue-keys-overlay]")).to_contain_text("Shift+A")
    page.keyboard.press("Escape")
    expect(page.locator("[data-test=queue-keys-overlay]")).to_be_hidden()

    # J moves down, A approves; the record leaves and the next one is selected.
    page.keyboard.press("j")
    expect(page.locator(SELECTED)).to_have_attribute("data-id", visits["clean_photo"])
    page.keyboard.press("a")
    wait_for(app, lambda: review_of(app, visits["clean_photo"])[0] == "approved", "the approval")
    expect(page.locator(ITEMS)).to_have_count(4)
    expect(page.locator(SELECTED)).to_have_attribute("data-id", visits["no_photo"])

    # R asks for the reason; typing it does not trigger shortcuts; Ctrl+Enter sends it.
    page.keyboard.press("r")
    comment = page.locator("[data-test=review-comment] textarea")
    expect(comment).to_be_focused()
    comment.fill(REASON)
    comment.press("a")  # typed into the reason, not an approval
    comment.press("Control+Enter")
    wait_for(app, lambda: review_of(app, visits["no_photo"])[0] == "returned", "the return")
    assert review_of(app, visits["no_photo"]) == ("returned", REASON + "a")
    expect(page.locator(ITEMS)).to_have_count(3)
    expect(page.locator(SELECTED)).to_have_attribute("data-id", visits["no_photo_later"])

    # Shift+A: approve the listed records without flags, after a confirmation with their count.
    # The one whose photo has not arrived was not checked yet and is left out.
    page.keyboard.press("Shift+A")
    dialog = page.locator("[data-test=queue-bulk-dialog]")
    expect(dialog.locator("[data-test=queue-bulk-count]")).to_contain_text("1")
    dialog.locator(".van-dialog__confirm").click()
    expect(page.locator("[data-test=queue-bulk-result]")).to_contain_text("已通过 1 条")
    assert review_of(app, visits["no_photo_later"])[0] == "approved"
    assert review_of(app, visits["flagged"])[0] == "pending"
    assert review_of(app, visits["photo_on_phone"])[0] == "pending"
    assert listed(page) == [
        visits["flagged"], visits["photo_on_phone"]]

    # O opens the selected record's full evidence page.
    selected = page.locator(SELECTED).get_attribute("data-id")
    page.keyboard.press("o")
    page.wait_for_url(f"**/supervise/visits/{selected}")
    assert csp == []
    context.close()


def test_on_a_phone_a_tap_opens_the_evidence_page(live_server, page):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    client = app.test_client()
    visit_id = new_visit(client, signed_in(client, "demo-cadre", passwords["demo-cadre"]), area_code=VILLAGE)
    open_queue(page, url, passwords["demo-supervisor"])

    expect(page.locator(ITEMS)).to_have_count(1)
    # No side panel and no shortcuts on a phone: the list takes the screen.
    expect(page.locator("[data-test=queue-detail]")).to_have_count(0)
    expect(page.locator("[data-test=queue-keys]")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review_queue_phone.png"))
    page.keyboard.press("a")
    page.locator(ITEMS).first.click()
    page.wait_for_url(f"**/supervise/visits/{visit_id}")
    assert review_of(app, visit_id) == ("pending", None)
    assert page.csp_violations == []

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
from tests.browser.conftest import api_sign_in, demo_passwords, desktop, in_db, sign_in, wait_for
from tests.review.helpers import HOME, add_photo, away, household_visit, new_visit
from tests.sync.conftest import Device

pytestmark = pytest.mark.browser

VILLAGE = "990101100201"  # 东岭村, the demo cadre's village
ARTIFACTS = Path(__file__).parent / "artifacts"
ITEMS = "[data-test=queue-item]"
SELECTED = "[data-test=queue-item][aria-selected=true]"
APPROVE = "[data-test=review-approve]"
REASON = "照片与走访对象对不上，请补拍门牌照片。"


def at(hour_minute: str) -> str:
    return f"2026-11-20T{hour_minute}:00+08:00"


def file_visits(app, password: str) -> dict[str, str]:
    """The cadre's five visits by name; the queue lists them in this order."""
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", password)
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


def evidence_shown(page, record_id: str) -> None:
    """Wait until the selected record's evidence has loaded: until then a ruling is refused."""
    expect(page.locator(f"[data-test=evidence-panel][data-record-id='{record_id}'] [data-test=evidence-status]")
           ).to_be_visible()
    expect(page.locator(APPROVE)).to_be_enabled()


def edit_as_author(app, client, cadre: Device, visit_id: str, summary: str) -> int:
    """The cadre changes the visit's summary; the version the change was made on."""
    version = in_db(app, lambda: db.session.get(Visit, uuid.UUID(visit_id)).version)
    edited = client.patch(f"/api/visits/{visit_id}", json={"summary": summary},
                          headers={**cadre.headers, "If-Match": f'"{version}"'})
    assert edited.status_code == 200, edited.get_data(as_text=True)
    return version


def rulings_of(page) -> list[int]:
    """The statuses of the page's review POSTs, as they answer."""
    rulings: list[int] = []
    page.on("response", lambda response: response.request.method == "POST" and response.url.endswith("/review")
            and rulings.append(response.status))
    return rulings


def open_queue(page, url: str, password: str) -> None:
    sign_in(page, url, "demo-supervisor", password)
    page.goto(url + "/supervise/review")


def test_a_supervisor_rules_on_the_queue_by_keyboard(live_server, browser):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    visits = file_visits(app, passwords["demo-cadre"])

    # A browser set to another zone than the county's (Asia/Shanghai): the queue still tells
    # and filters the county's times.
    page = desktop(browser, timezone_id="America/New_York")
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
    # The evidence names the author and the area, not a user number and an area code.
    evidence_shown(page, visits["flagged"])
    expect(page.locator("[data-test=evidence-author]")).to_contain_text("东岭村")
    expect(page.locator("[data-test=evidence-author]")).not_to_contain_text("#")
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

    # J moves down, A approves once the evidence shows; the record leaves and the next one is selected.
    page.keyboard.press("j")
    expect(page.locator(SELECTED)).to_have_attribute("data-id", visits["clean_photo"])
    evidence_shown(page, visits["clean_photo"])
    page.keyboard.press("a")
    wait_for(app, lambda: review_of(app, visits["clean_photo"])[0] == "approved", "the approval")
    expect(page.locator(ITEMS)).to_have_count(4)
    expect(page.locator(SELECTED)).to_have_attribute("data-id", visits["no_photo"])

    # R asks for the reason; typing it does not trigger shortcuts; Ctrl+Enter sends it.
    evidence_shown(page, visits["no_photo"])
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
    assert page.csp_violations == []
    page.context.close()


def test_the_county_days_filter_the_queue_whatever_the_browser_zone(live_server, browser):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    # County time is UTC+8. Of these four only the first two fall on the county's 20 November;
    # the browser's Berlin days would take the second and third instead.
    early = new_visit(client, cadre, area_code=VILLAGE, visited_at="2026-11-20T00:30:00+08:00")
    late = new_visit(client, cadre, area_code=VILLAGE, visited_at="2026-11-20T23:30:00+08:00")
    new_visit(client, cadre, area_code=VILLAGE, visited_at="2026-11-21T00:30:00+08:00")
    new_visit(client, cadre, area_code=VILLAGE, visited_at="2026-11-19T23:30:00+08:00")

    page = desktop(browser, timezone_id="Europe/Berlin")
    open_queue(page, url, passwords["demo-supervisor"])
    expect(page.locator(ITEMS)).to_have_count(4)
    page.goto(url + "/supervise/review?since=2026-11-20&until=2026-11-20")
    expect(page.locator(ITEMS)).to_have_count(2)
    assert sorted(listed(page)) == sorted([early, late])
    expect(page.locator(ITEMS)).to_contain_text(["2026-11-20 00:30", "2026-11-20 23:30"])
    page.context.close()


def test_a_record_changed_after_listing_is_read_again_before_it_is_approved(live_server, browser):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    visit_id = new_visit(client, cadre, area_code=VILLAGE, visited_at=at("08:00"), summary="第一稿")

    page = desktop(browser)
    rulings = rulings_of(page)
    open_queue(page, url, passwords["demo-supervisor"])
    expect(page.locator(ITEMS)).to_have_count(1)
    evidence_shown(page, visit_id)
    expect(page.locator("[data-test=evidence-panel]")).to_contain_text("第一稿")

    # The author edits the visit after the supervisor read it: it stays pending, in a new version.
    listed_version = edit_as_author(app, client, cadre, visit_id, "第二稿")

    # A meets the change: the message shows once, nothing is ruled, the evidence is read again.
    page.keyboard.press("a")
    expect(page.locator(".van-toast", has_text="刚被修改过")).to_be_visible()
    expect(page.locator("[data-test=evidence-panel]")).to_contain_text("第二稿")
    assert rulings == [412]
    assert review_of(app, visit_id) == ("pending", None)
    expect(page.locator(ITEMS)).to_have_count(1)
    evidence_shown(page, visit_id)

    # A again approves it, at the version now shown.
    page.keyboard.press("a")
    wait_for(app, lambda: review_of(app, visit_id)[0] == "approved", "the approval")
    visit = in_db(app, lambda: db.session.get(Visit, uuid.UUID(visit_id)))
    assert visit.version == listed_version + 2  # the author's edit, then the approval
    expect(page.locator("[data-test=queue-empty]")).to_be_visible()
    assert rulings == [412, 200]
    page.context.close()


def test_the_evidence_page_reads_a_changed_record_again_before_ruling(live_server, browser):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    visit_id = new_visit(client, cadre, area_code=VILLAGE, summary="第一稿")

    page = desktop(browser)
    rulings = rulings_of(page)
    open_queue(page, url, passwords["demo-supervisor"])
    page.goto(f"{url}/supervise/visits/{visit_id}")
    expect(page.locator("[data-test=evidence-panel]")).to_contain_text("第一稿")

    edit_as_author(app, client, cadre, visit_id, "第二稿")

    page.locator(APPROVE).click()
    expect(page.locator(".van-toast", has_text="刚被修改过")).to_be_visible()
    expect(page.locator("[data-test=evidence-panel]")).to_contain_text("第二稿")
    expect(page.locator(APPROVE)).to_be_enabled()
    page.locator(APPROVE).click()
    expect(page.locator("[data-test=evidence-status]")).to_have_attribute("data-status", "approved")
    assert rulings == [412, 200]
    assert review_of(app, visit_id) == ("approved", None)
    page.context.close()


def test_bulk_approval_leaves_a_changed_record_out_until_it_is_read_again(live_server, browser):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    flagged = household_visit(client, cadre, area_code=VILLAGE, visited_at=at("09:30"))
    add_photo(client, cadre, flagged, taken_at=away(HOME, 2000, bearing=45), seed=1)
    clean = new_visit(client, cadre, area_code=VILLAGE, visited_at=at("08:00"))
    changed = new_visit(client, cadre, area_code=VILLAGE, visited_at=at("08:10"))

    page = desktop(browser)
    open_queue(page, url, passwords["demo-supervisor"])
    expect(page.locator(ITEMS)).to_have_count(3)
    assert listed(page) == [flagged, clean, changed]
    evidence_shown(page, flagged)
    expect(page.locator("[data-test=queue-bulk]")).to_contain_text("(2)")

    edit_as_author(app, client, cadre, changed, "补充了情况")

    page.keyboard.press("Shift+A")
    page.locator("[data-test=queue-bulk-dialog] .van-dialog__confirm").click()
    expect(page.locator("[data-test=queue-bulk-result]")).to_contain_text("刚被修改过")
    assert review_of(app, clean)[0] == "approved"
    assert review_of(app, changed)[0] == "pending"
    # The changed one stays, marked, and is no candidate until it has been looked at again.
    expect(page.locator(ITEMS)).to_have_count(2)
    assert listed(page) == [flagged, changed]
    expect(page.locator(f"{ITEMS}[data-id='{changed}'] [data-test=queue-item-recheck]")).to_be_visible()
    expect(page.locator("[data-test=queue-bulk]")).to_contain_text("(0)")
    expect(page.locator("[data-test=queue-bulk]")).to_be_disabled()

    page.keyboard.press("j")
    evidence_shown(page, changed)
    expect(page.locator("[data-test=evidence-panel]")).to_contain_text("补充了情况")
    expect(page.locator("[data-test=queue-item-recheck]")).to_have_count(0)
    expect(page.locator("[data-test=queue-bulk]")).to_contain_text("(1)")
    page.context.close()


def test_on_a_phone_a_tap_opens_the_evidence_page(live_server, page):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    client = app.test_client()
    visit_id = new_visit(client, api_sign_in(client, "demo-cadre", passwords["demo-cadre"]), area_code=VILLAGE)
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

"""The app in words for the server's newer refusals, in a real browser against a live server.

Sign-in and password change limited per network address (429 ``rate_limited``, Retry-After)
and per username (429 ``account_locked``, a wrong current password counting toward it); a
supervisor's own record, which another supervisor rules on (403 ``own_record``); and a ruling
the review table refuses (409 ``invalid_transition``), after which the record is read again.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.accounts.models import User
from backend.extensions import db
from backend.visits.models import Visit
from tests.browser.conftest import api_sign_in, demo_passwords, desktop, in_db, served, sign_in
from tests.review.helpers import HOME, add_photo, household_visit, new_visit

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
VILLAGE = "990101100201"  # 东岭村, the demo cadre's village
RATE_LIMITED = re.compile(r"此网络尝试登录次数过多，请 (\d+) 秒后再试。")


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def try_sign_in(page, username: str, password: str) -> None:
    page.fill("[data-test=login-username] input", username)
    page.fill("[data-test=login-password] input", password)
    with page.expect_response("**/api/auth/login"):
        page.click("[data-test=login-submit]")


def test_sign_in_limited_per_network_says_how_many_seconds(empty_database_url, tmp_path, browser):
    with served(empty_database_url, tmp_path, LOGIN_RATE="3 per minute") as server:
        demo_passwords(server.app)
        context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN")
        page = context.new_page()
        try:
            page.goto(server.url + "/login")
            error = page.locator("[data-test=login-error]")
            # Three wrong passwords under three names: no username reaches its lockout.
            for name in ("demo-cadre", "demo-inspector", "demo-admin"):
                try_sign_in(page, name, "not the password")
                expect(error).to_have_text("用户名或密码错误")
            try_sign_in(page, "demo-supervisor", "not the password either")
            expect(error).to_have_text(RATE_LIMITED)
            seconds = int(RATE_LIMITED.search(error.inner_text()).group(1))
            assert 1 <= seconds <= 60
            assert "锁定" not in error.inner_text()  # the account is not what is limited
            shoot(page, "new-answers-login-rate-limited-360.png")
            page.set_viewport_size({"width": 1366, "height": 768})
            shoot(page, "new-answers-login-rate-limited-1366.png")
        finally:
            context.close()


def test_password_change_counts_toward_the_lock_and_the_network_limit(empty_database_url, tmp_path, browser):
    with served(empty_database_url, tmp_path, LOGIN_RATE="5 per minute", LOGIN_MAX_FAILURES=2) as server:
        passwords = demo_passwords(server.app)
        context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN")
        page = context.new_page()
        try:
            sign_in(page, server.url, "demo-cadre", passwords["demo-cadre"])  # attempt 1 from this address
            page.goto(server.url + "/settings")
            page.click("[data-test=password-open]")
            error = page.locator("[data-test=password-error]")

            def change(current: str) -> None:
                page.fill("[data-test=password-current] input", current)
                page.fill("[data-test=password-new] input", "a-new-password-1")
                page.fill("[data-test=password-again] input", "a-new-password-1")
                with page.expect_response("**/api/auth/password"):
                    page.click("[data-test=password-submit]")

            change("wrong one")  # attempt 2: a wrong current password, counted
            expect(error).to_contain_text("当前密码错误")
            change("wrong two")  # attempt 3: the second failure locks the username
            expect(error).to_have_text("账号已锁定，请 15 分钟后再试")
            shoot(page, "new-answers-password-locked-360.png")
            change(passwords["demo-cadre"])  # attempt 4: locked, even with the right password
            expect(error).to_have_text("账号已锁定，请 15 分钟后再试")
            change(passwords["demo-cadre"])  # attempt 5
            change(passwords["demo-cadre"])  # attempt 6: past the address's 5 a minute
            expect(error).to_have_text(RATE_LIMITED)
            shoot(page, "new-answers-password-rate-limited-360.png")
            page.set_viewport_size({"width": 1366, "height": 768})
            shoot(page, "new-answers-password-rate-limited-1366.png")
        finally:
            context.close()
        # The password did not change: the old one still verifies once the lock is over.
        with server.app.app_context():
            from backend.accounts import service

            user = db.session.scalar(select(User).where(User.username == "demo-cadre"))
            assert service._verify(user.password_hash, passwords["demo-cadre"])
            db.session.remove()


def make_supervisor(app, username: str) -> None:
    def grant():
        user = db.session.scalar(select(User).where(User.username == username))
        user.roles = [*user.roles, "supervisor"]
        db.session.commit()
    in_db(app, grant)


def review_status(app, visit_id: str) -> str:
    return in_db(app, lambda: db.session.get(Visit, uuid.UUID(visit_id)).review_status)


def test_a_supervisors_own_record_cannot_be_ruled_on_by_them(live_server, browser):
    app = live_server.app
    passwords = demo_passwords(app)
    make_supervisor(app, "demo-cadre")  # a village cadre who also supervises
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    own = new_visit(client, cadre, area_code=VILLAGE, visited_at="2026-11-20T08:10:00+08:00")

    page = desktop(browser)
    try:
        sign_in(page, live_server.url, "demo-cadre", passwords["demo-cadre"])
        page.goto(live_server.url + "/supervise/review")
        item = page.locator(f"[data-test=queue-item][data-id='{own}']")
        expect(item.locator("[data-test=queue-item-own]")).to_have_text("本人填报")
        expect(page.locator(f"[data-test=evidence-panel][data-record-id='{own}'] [data-test=evidence-status]")
               ).to_be_visible()
        expect(page.locator("[data-test=review-own]")).to_contain_text("本人填报，须由其他督查审核")
        for button in ("review-approve", "review-return", "review-reject"):
            expect(page.locator(f"[data-test={button}]")).to_be_disabled()
        expect(page.locator("[data-test=queue-bulk]")).to_be_disabled()  # nothing of someone else's to approve
        page.keyboard.press("a")  # the approve shortcut does nothing either
        page.wait_for_timeout(500)
        shoot(page, "new-answers-own-record-1366.png")
        assert review_status(app, own) == "pending"
        # On a phone the evidence page says the same and offers no ruling.
        page.set_viewport_size({"width": 360, "height": 780})
        page.goto(f"{live_server.url}/supervise/visits/{own}")
        expect(page.locator("[data-test=review-own]")).to_contain_text("本人填报")
        expect(page.locator("[data-test=review-approve]")).to_be_disabled()
        shoot(page, "new-answers-own-record-360.png")
    finally:
        page.context.close()


def test_a_ruling_the_table_refuses_is_named_and_the_record_read_again(live_server, browser):
    app = live_server.app
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    admin = api_sign_in(client, "demo-admin", passwords["demo-admin"])
    visit = new_visit(client, cadre, area_code=VILLAGE, visited_at="2026-11-20T08:10:00+08:00")
    returned = client.post(f"/api/visits/{visit}/review", json={
        "review_status": "returned", "review_comment": "请补充门牌照片。"},
        headers={**admin.headers, "If-Match": '"1"'})
    assert returned.status_code == 200, returned.get_data(as_text=True)

    page = desktop(browser)
    try:
        sign_in(page, live_server.url, "demo-supervisor", passwords["demo-supervisor"])
        page.goto(f"{live_server.url}/supervise/visits/{visit}")
        status = page.locator("[data-test=evidence-status]")
        expect(status).to_have_text("已退回")
        with page.expect_response(lambda answer: answer.url.endswith("/review")) as answer:
            page.click("[data-test=review-approve]")
        assert answer.value.status == 409
        toast = page.locator(".van-toast").filter(has_text="已退回")
        expect(toast).to_contain_text("这条记录现为“已退回”，须等填报人修改后重新提交才能再审核；已重新读取这条记录")
        shoot(page, "new-answers-invalid-transition-1366.png")
        expect(status).to_have_text("已退回")
        expect(page.locator("[data-test=review-approve]")).to_be_enabled()  # read again, ready
        assert review_status(app, visit) == "returned"
    finally:
        page.context.close()


def test_a_photo_matching_one_in_another_area_is_named_without_a_link(live_server, browser):
    """The server hides which record in another area holds the same or a similar photo, and a
    viewer who is neither reviewer nor author gets no capture details: the evidence page shows
    the flag in words, with nothing to open, and does not break on the missing details.

    The evidence answer is rewritten in the browser to the shape the server gives such a viewer
    (tests/evidence/test_flags.py shows the server's side)."""
    app = live_server.app
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    visit = household_visit(client, cadre, area_code=VILLAGE, visited_at="2026-11-20T08:10:00+08:00")
    add_photo(client, cadre, visit, taken_at=HOME, seed=4)

    def hidden(route):
        answer = route.fetch()
        body = answer.json()
        photo = body["photos"][0]["photo"]
        photo.update({"exif_lat": None, "exif_lon": None, "make": None, "model": None, "software": None,
                      "flag_count": 3, "flags": {"reused": {"also_on": [{"in_another_area": True}]},
                                                 "near_duplicate": {"photos": [{"in_another_area": True}]},
                                                 "edited": {}}})
        body["photos"][0]["positions"]["exif"] = None
        route.fulfill(response=answer, json=body)

    for size, name in (({"width": 1366, "height": 768}, "1366"), ({"width": 360, "height": 780}, "360")):
        page = desktop(browser, viewport=size)
        try:
            page.route(f"**/api/visits/{visit}/evidence", hidden)
            sign_in(page, live_server.url, "demo-supervisor", passwords["demo-supervisor"])
            page.goto(f"{live_server.url}/supervise/visits/{visit}")
            flags = page.locator("[data-test=evidence-flag]")
            expect(flags).to_have_count(3)
            elsewhere = page.locator("[data-test=evidence-other-area]")
            expect(elsewhere).to_have_count(2)
            expect(elsewhere.first).to_have_text("另一辖区的记录")
            expect(page.locator("[data-test=evidence-other-record]")).to_have_count(0)  # no link to open
            reused = flags.filter(has=page.locator("strong", has_text="重复使用的照片"))
            expect(reused).to_contain_text("同一张照片已用于更早的记录： 另一辖区的记录")
            expect(page.locator("[data-test=evidence-photos]")).not_to_contain_text("undefined")
            expect(page.locator("[data-test=evidence-photos]")).not_to_contain_text("设备：")
            shoot(page, f"new-answers-other-area-{name}.png")
        finally:
            page.context.close()

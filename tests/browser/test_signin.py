"""Signing in and out of the field app in a real browser, under the server's CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import demo_passwords, sign_in

pytestmark = pytest.mark.browser

USERNAME = "[data-test=login-username] input"
PASSWORD = "[data-test=login-password] input"
SUBMIT = "[data-test=login-submit]"
ERROR = "[data-test=login-error]"

# A queued change written straight into the app's IndexedDB, as if made offline.
QUEUE_ONE_CHANGE = """() => new Promise((resolve, reject) => {
  const request = indexedDB.open('zoufang')
  request.onerror = () => reject(request.error)
  request.onsuccess = () => {
    const tx = request.result.transaction('outbox', 'readwrite')
    tx.objectStore('outbox').put({id: 1, type: 'household.upsert', record_id: crypto.randomUUID(),
      base_version: null, fields: {address: '东岭村 1 号'}, queued_at: new Date().toISOString()})
    tx.oncomplete = () => { request.result.close(); resolve() }
    tx.onerror = () => reject(tx.error)
  }
})"""

COUNT_OUTBOX = """() => new Promise((resolve) => {
  const request = indexedDB.open('zoufang')
  request.onsuccess = () => {
    const names = request.result.objectStoreNames
    if (!names.contains('outbox')) { request.result.close(); resolve(0); return }
    const count = request.result.transaction('outbox').objectStore('outbox').count()
    count.onsuccess = () => { request.result.close(); resolve(count.result) }
  }
})"""


def submit(page, username: str, password: str) -> None:
    """Fill in the open login screen and send it, whatever the answer."""
    page.fill(USERNAME, username)
    page.fill(PASSWORD, password)
    page.click(SUBMIT)


def test_sign_in_with_a_demo_account_and_out_again(live_server, page):
    password = demo_passwords(live_server.app)["demo-cadre"]
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("[data-test=login-device] input")).to_have_value(re.compile(r"\S"))

    submit(page, "demo-cadre", "wrong-password")
    expect(page.locator(ERROR)).to_contain_text("用户名或密码错误")

    page.fill(PASSWORD, password)
    page.click(SUBMIT)
    expect(page.locator("[data-test=user-display-name]")).to_have_text("东岭村 张网格员")
    expect(page.locator("[data-test=user-area]")).to_contain_text("东岭村")
    expect(page.locator("[data-test=home-unsynced]")).to_have_text("0")
    # The first sync after sign-in pulls the area and records its time.
    expect(page.locator("[data-test=home-last-sync]")).to_have_text(re.compile(r"\d\d:\d\d"))
    expect(page.locator("[data-test=home-stale-warning]")).to_have_count(0)

    page.reload()  # the token survives a reload
    expect(page.locator("[data-test=user-display-name]")).to_have_text("东岭村 张网格员")

    page.click("[data-test=open-settings]")
    page.click("[data-test=logout]")
    page.click("[data-test=logout-confirm]")
    expect(page.locator("[data-test=login-form]")).to_be_visible()
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate(COUNT_OUTBOX) == 0
    assert page.csp_violations == []


def test_sign_out_refuses_to_drop_unsent_work_without_a_second_confirmation(live_server, page):
    password = demo_passwords(live_server.app)["demo-cadre"]
    sign_in(page, live_server.url, "demo-cadre", password)
    expect(page.locator("[data-test=home-last-sync]")).to_have_text(re.compile(r"\d\d:\d\d"))

    # Offline, nothing is sent: the queued change stays queued. The reload (offline, from
    # the service worker's precache) lets the app read what was written behind its back.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    page.evaluate(QUEUE_ONE_CHANGE)
    page.reload()
    expect(page.locator("[data-test=home-unsynced]")).to_have_text("1")
    page.locator(".van-tabbar").get_by_text("同步").click()
    expect(page.locator("[data-test=outbox-item]")).to_have_count(1)
    expect(page.locator("[data-test=sync-online]")).to_have_attribute("data-online", "false")

    page.locator(".van-tabbar").get_by_text("首页").click()
    page.click("[data-test=open-settings]")
    page.click("[data-test=logout]")
    expect(page.locator("[data-test=logout-unsent]")).to_contain_text("1 条未上传")
    expect(page.locator("[data-test=logout-confirm-discard]")).to_have_count(0)
    page.get_by_role("button", name="取消").click()
    expect(page.locator("[data-test=logout-unsent]")).to_be_hidden()
    assert page.evaluate(COUNT_OUTBOX) == 1

    page.click("[data-test=logout]")
    page.click("[data-test=logout-discard]")
    page.click("[data-test=logout-confirm-discard]")  # the second, explicit step
    expect(page.locator("[data-test=login-form]")).to_be_visible()
    assert page.evaluate(COUNT_OUTBOX) == 0
    assert page.csp_violations == []


def test_locked_and_offline_sign_ins_say_why(live_server, page):
    page.goto(live_server.url + "/login")
    for _ in range(4):
        with page.expect_response("**/api/auth/login") as answer:
            submit(page, "nobody-here", "wrong-password")
        assert answer.value.status == 401
        expect(page.locator(ERROR)).to_contain_text("用户名或密码错误")
    with page.expect_response("**/api/auth/login") as answer:
        submit(page, "nobody-here", "wrong-password")
    assert answer.value.status == 429
    expect(page.locator(ERROR)).to_contain_text(re.compile(r"账号已锁定，请 \d+ 分钟后再试"))

    page.context.set_offline(True)
    submit(page, "demo-cadre", "whatever")
    expect(page.locator(ERROR)).to_contain_text("无法连接服务器，请联网后登录")
    assert page.csp_violations == []


def test_the_page_runs_under_the_servers_content_security_policy(live_server, page):
    response = page.goto(live_server.url + "/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("input[name=device_name]")).to_have_value(re.compile(r"\S"))
    assert page.csp_violations == []

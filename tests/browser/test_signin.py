"""A newcomer signs in on the served page with a demo account, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.extensions import db
from backend.seed import seed_demo

pytestmark = pytest.mark.browser


def demo_password(app, username: str) -> str:
    with app.app_context():
        accounts = seed_demo()
        db.session.commit()
    return next(account.password for account in accounts if account.username == username)


def test_sign_in_with_a_demo_account_and_out_again(live_server, page):
    password = demo_password(live_server.app, "demo-cadre")
    page.goto(live_server.url + "/")
    page.fill("input[name=username]", "demo-cadre")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator("#status")).to_contain_text("用户名或密码错误")

    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("#signed-in")).to_be_visible()
    expect(page.locator("#user-display-name")).to_have_text("东岭村 张网格员")
    expect(page.locator("#user-area")).to_contain_text("东岭村")

    page.reload()  # the token survives a reload
    expect(page.locator("#signed-in")).to_be_visible()

    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    assert page.evaluate("localStorage.length") == 0
    assert page.csp_violations == []


def test_the_page_runs_under_the_servers_content_security_policy(live_server, page):
    response = page.goto(live_server.url + "/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("input[name=device_name]")).to_have_value(re.compile(r"\S"))
    assert page.csp_violations == []

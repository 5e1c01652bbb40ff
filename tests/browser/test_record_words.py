"""A record the server refused says why in Chinese on its screens, not in the server's English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE_POSITION, demo_passwords, sign_in, watch_csp

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
ENGLISH = "No household in your area."


def refuse_every_write(route):
    """The real push, its results turned into the refusal a record outside the cadre's area gets."""
    response = route.fetch()
    answer = response.json()
    for result in answer["results"]:
        result.update(status="rejected", version=None,
                      error={"code": "not_found", "message": ENGLISH, "field": None})
    route.fulfill(response=response, body=json.dumps(answer))


def test_a_refused_household_says_why_in_chinese(live_server, browser):
    app, url = live_server.app, live_server.url
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN",
                                  geolocation=PHONE_POSITION, permissions=["geolocation"],
                                  service_workers="block")  # page.route sees only the page's own requests
    page = watch_csp(context.new_page())
    sign_in(page, url, "demo-cadre", demo_passwords(app)["demo-cadre"])
    page.route("**/api/sync/push", refuse_every_write)

    page.goto(url + "/households")
    page.click("[data-test=household-add]")
    page.fill("[data-test=household-address] input", "东岭村7组3号")
    page.fill("[data-test=household-head] input", "郑大妈")
    page.click("[data-test=household-save]")
    detail_error = page.locator("[data-test=record-error]")
    expect(detail_error).to_contain_text("记录不存在", timeout=20000)
    expect(detail_error).not_to_contain_text(ENGLISH)

    page.click("[data-test=household-edit]")
    expect(page.locator("[data-test=household-form]")).to_be_visible()
    form_error = page.locator("[data-test=record-error]")
    expect(form_error).to_contain_text("服务器退回：记录不存在")
    expect(form_error).not_to_contain_text(ENGLISH)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "household-refused-360.png"), full_page=True)
    assert page.csp_violations == []
    context.close()

"""The hotspot's steps on a phone come from the server's lifecycle (GET /api/hotspots/lifecycle),
kept on the device: offered offline, only those of the user's roles, and taken through sync."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from backend.extensions import db
from backend.hotspots.models import Hotspot
from tests.browser.conftest import add_demo_hotspot, demo_passwords, wait_for
from tests.browser.test_offline import shot, sign_in_and_install


def test_an_inspector_takes_the_next_step_offline_from_the_kept_lifecycle(live_server, phone):
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-inspector"]
    hotspot_id = uuid.uuid4()

    add_demo_hotspot(app, hotspot_id)
    page = phone.new_page()
    sign_in_and_install(page, url, "demo-inspector", password)
    page.goto(url + "/hotspots")
    expect(page.locator("[data-test=hotspot-item]")).to_have_count(1, timeout=15000)

    phone.set_offline(True)
    page.goto(url + f"/hotspots/{hotspot_id}")
    expect(page.locator("[data-test=hotspot-status]")).to_have_text("已挂牌")
    # The team's step only: accepting a rectification is a supervisor's.
    steps = page.locator("[data-test^=hotspot-action-]")
    expect(steps).to_have_count(1)
    expect(page.locator("[data-test=hotspot-action-rectifying]")).to_have_text("开始整治")
    shot(page, "hotspot-steps-360")

    page.click("[data-test=hotspot-action-rectifying]")
    page.locator(".van-dialog__confirm").click()
    expect(page.locator("[data-test=hotspot-status]")).to_have_text("整治中")
    expect(page.locator("[data-test=hotspot-action-acceptance_requested]")).to_have_text("申请验收")
    expect(page.locator(".van-dialog")).to_be_hidden()
    expect(page.locator(".van-toast")).to_be_hidden(timeout=5000)
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "hotspot-steps-1366")

    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for(app, lambda: db.session.get(Hotspot, hotspot_id).status == "rectifying", "the step on the server")

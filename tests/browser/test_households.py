"""A cadre adds a household and visits it with a photo, online, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.evidence.models import Photo
from backend.extensions import db
from backend.households.models import Household
from backend.visits.models import Visit
from tests.browser.conftest import PHONE_POSITION, demo_passwords, in_db, sign_in, wait_for, watch_csp
from tests.conftest import FIXTURES

pytestmark = pytest.mark.browser

PHOTO = FIXTURES / "photos" / "Kodak_CX7530.jpg"


@pytest.mark.fixtures
def test_a_household_and_its_visit_reach_the_server(live_server, phone):
    if not PHOTO.is_file():
        pytest.skip("photo fixtures absent")
    app, url = live_server.app, live_server.url
    password = demo_passwords(app)["demo-cadre"]
    page = watch_csp(phone.new_page())
    sign_in(page, url, "demo-cadre", password)

    page.goto(url + "/households")
    page.click("[data-test=household-add]")
    expect(page.locator("[data-test=household-form]")).to_be_visible()
    page.fill("[data-test=household-address] input", "东岭村3组12号")
    page.fill("[data-test=household-head] input", "陈大伯")
    page.fill("[data-test=household-phone] input", "13800138000")
    expect(page.locator("[data-test=gps-accuracy]")).to_contain_text("8")
    page.click("[data-test=household-save]")
    expect(page.locator("[data-test=household-detail]")).to_contain_text("陈大伯")

    page.click("[data-test=visit-add]")
    expect(page.locator("[data-test=visit-form]")).to_be_visible()
    expect(page.locator("[data-test=visit-kind] input")).to_have_value("入户走访")
    page.click("[data-test=concern-add]")
    # Not the list's first entry, so that a picker that kept its default would show.
    page.click("[data-test=concern-category]")
    page.locator(".van-popup--bottom:visible .van-picker-column__item", has_text="房屋宅基地").click()
    page.wait_for_timeout(400)  # the column settles on the clicked item before the confirm reads it
    page.click(".van-picker__confirm")
    expect(page.locator("[data-test=concern-category] input")).to_have_value("房屋宅基地")
    page.fill("[data-test=concern-description] textarea", "宅基地边界纠纷")
    page.fill("[data-test=visit-summary] textarea", "入户走访，双方同意村里调解。")
    page.set_input_files("[data-test=photo-input]", [str(PHOTO)])
    expect(page.locator("[data-test=photo-thumb] img")).to_have_count(1, timeout=20000)
    expect(page.locator("[data-test=gps-accuracy]")).to_contain_text("8")

    # A reload right after typing (no time for the debounced autosave) keeps everything:
    # the same visit id, the summary and the photo.
    page.reload()
    expect(page.locator("[data-test=draft-restored]")).to_be_visible()
    expect(page.locator("[data-test=visit-summary] textarea")).to_have_value("入户走访，双方同意村里调解。")
    expect(page.locator("[data-test=photo-thumb] img")).to_have_count(1, timeout=10000)
    page.click("[data-test=visit-save]")
    expect(page.locator("[data-test=visit-item]")).to_have_count(1)

    photo = wait_for(app, lambda: db.session.scalar(select(Photo).where(Photo.status == "stored")), "the photo")
    household = in_db(app, lambda: db.session.scalars(select(Household)).one())
    visit = in_db(app, lambda: db.session.scalars(select(Visit)).one())
    assert (household.address, household.phone, household.area_code) == ("东岭村3组12号", "13800138000", "990101100201")
    assert household.lat == pytest.approx(29.4512)
    assert visit.household_id == household.id and visit.kind == "household"
    assert visit.concerns == [{"category": "housing_homestead", "description": "宅基地边界纠纷"}]
    assert visit.accuracy_m == pytest.approx(PHONE_POSITION["accuracy"]) and visit.visited_at.utcoffset() is not None
    assert photo.record_type == "visit" and photo.record_id == visit.id
    assert page.csp_violations == []  # Vant's icon font is a data: URL: the CSP needs font-src 'self' data:

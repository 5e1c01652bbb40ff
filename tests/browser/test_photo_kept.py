"""A photo the server refused stays on the phone, with the reason, until it is sent again and stored."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.evidence.models import Photo
from backend.extensions import db
from tests.browser.conftest import PHONE_POSITION, SYNC_WAIT_S, api_sign_in, demo_passwords, in_db, sign_in, watch_csp
from tests.evidence.conftest import generated_jpeg, gps_exif
from tests.sync.conftest import household_fields, new_id, push

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
VILLAGE = "990101100201"  # 东岭村, the demo cadre's village

# The phone's stored file of a photo: whether it is done and how many bytes it still holds.
LOCAL_FILE = """(id) => new Promise((resolve, reject) => {
  const opened = indexedDB.open('zoufang')
  opened.onerror = () => reject(opened.error)
  opened.onsuccess = () => {
    const read = opened.result.transaction('files').objectStore('files').get(id)
    read.onerror = () => reject(read.error)
    read.onsuccess = () => {
      const file = read.result
      opened.result.close()
      resolve(file ? { done: Boolean(file.done), bytes: file.blob ? file.blob.size : null } : null)
    }
  }
})"""


def photo_with_status(app, page, status: str) -> Photo:
    """Poll the server for a photo in ``status``, letting the page run (and its route answer) meanwhile."""
    for _ in range(SYNC_WAIT_S * 2):
        found = in_db(app, lambda: db.session.scalar(select(Photo).where(Photo.status == status)))
        if found:
            return found
        page.wait_for_timeout(500)
    pytest.fail(f"after {SYNC_WAIT_S} s no photo on the server is {status}")


def test_a_refused_photo_stays_on_the_phone_until_sent_again_and_stored(live_server, browser, tmp_path):
    app, url = live_server.app, live_server.url
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    household = new_id()
    fields = household_fields(area_code=VILLAGE, address="东岭村5组8号", head_name="周大姐")
    result = push(client, cadre.headers, cadre.client_id, [cadre.mutation("household.upsert", household, fields)])
    assert result["results"][0]["status"] == "applied", result
    picture = tmp_path / "photo.jpg"
    picture.write_bytes(generated_jpeg(seed=5, exif=gps_exif(PHONE_POSITION["latitude"], PHONE_POSITION["longitude"])))

    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN",
                                  geolocation=PHONE_POSITION, permissions=["geolocation"])
    page = watch_csp(context.new_page())
    sign_in(page, url, "demo-cadre", passwords["demo-cadre"])
    # The server refuses the photo for its content: more pixels than it takes today.
    app.config["PHOTO_MAX_PIXELS"] = 100

    page.goto(f"{url}/visits/new?household={household}")
    page.fill("[data-test=visit-summary] textarea", "入户走访，照片被服务器拒收。")
    page.set_input_files("[data-test=photo-input]", [str(picture)])
    expect(page.locator("[data-test=photo-thumb] img")).to_have_count(1, timeout=20000)
    expect(page.locator("[data-test=gps-accuracy]")).to_contain_text("8")
    page.click("[data-test=visit-save]")
    page.wait_for_url(f"**/households/{household}")

    refused = photo_with_status(app, page, "rejected")
    assert refused.rejected_code == "too_many_pixels"
    photo_id = str(refused.id)
    kept = page.evaluate(LOCAL_FILE, photo_id)
    assert kept == {"done": False, "bytes": refused.bytes}

    # The next sync brings the refusal: the photo is still listed, with why, and still held.
    page.goto(url + "/sync")
    page.click("[data-test=sync-now]")
    row = page.locator(f"[data-test=upload-progress][data-photo='{photo_id}']")
    expect(row.locator("[data-test=photo-rejected]")).to_be_visible(timeout=20000)
    expect(row).to_contain_text("服务器拒收：图片像素过多")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "photo-kept-360.png"), full_page=True)
    page.click("[data-test=sync-now]")
    expect(page.locator("[data-test=sync-last]")).not_to_have_text("从未同步")
    page.wait_for_timeout(1000)
    assert page.evaluate(LOCAL_FILE, photo_id) == kept
    assert in_db(app, lambda: db.session.get(Photo, uuid.UUID(photo_id)).status) == "rejected"

    # Sent again once the server takes it: stored with the phone's bytes, and only then let go of.
    app.config["PHOTO_MAX_PIXELS"] = 60_000_000
    row.locator("[data-test=photo-send-again]").click()
    stored = photo_with_status(app, page, "stored")
    assert (str(stored.id), stored.rejected_code) == (photo_id, None)
    expect(row).to_have_count(0, timeout=20000)
    assert page.evaluate(LOCAL_FILE, photo_id) == {"done": True, "bytes": None}
    thumb = client.get(f"/api/photos/{photo_id}/thumb", headers=cadre.headers)
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert page.csp_violations == []
    context.close()

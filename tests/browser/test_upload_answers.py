"""What the field app does with the answers of /api/uploads: a copy damaged on the phone is held
back with words and a way out; storage that is down is left alone for its Retry-After."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backend.evidence.models import Photo
from backend.extensions import db
from tests.browser.conftest import PHONE_POSITION, SYNC_WAIT_S, api_sign_in, demo_passwords, in_db, sign_in, watch_csp
from tests.browser.test_photo_kept import LOCAL_FILE
from tests.evidence.conftest import generated_jpeg, gps_exif
from tests.sync.conftest import household_fields, new_id, push

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
VILLAGE = "990101100201"  # 东岭村, the demo cadre's village

# The phone's photo row: its version is set once the server accepted the photo.attach.
PHOTO_VERSION = """(id) => new Promise((resolve, reject) => {
  const opened = indexedDB.open('zoufang')
  opened.onerror = () => reject(opened.error)
  opened.onsuccess = () => {
    const read = opened.result.transaction('photos').objectStore('photos').get(id)
    read.onsuccess = () => { opened.result.close(); resolve(read.result ? read.result.version ?? null : null) }
    read.onerror = () => reject(read.error)
  }
})"""

# Flip one byte of the phone's stored file: the copy no longer has the photo's SHA-256.
DAMAGE_FILE = """(id) => new Promise((resolve, reject) => {
  const opened = indexedDB.open('zoufang')
  opened.onerror = () => reject(opened.error)
  opened.onsuccess = () => {
    const store = opened.result.transaction('files', 'readwrite').objectStore('files')
    const read = store.get(id)
    read.onsuccess = async () => {
      const file = read.result
      const bytes = new Uint8Array(await file.blob.arrayBuffer())
      bytes[bytes.length - 3] ^= 0xff
      const tx = opened.result.transaction('files', 'readwrite')
      tx.objectStore('files').put({ ...file, blob: new Blob([bytes], { type: file.blob.type }) })
      tx.oncomplete = () => { opened.result.close(); resolve(bytes.length) }
      tx.onerror = () => reject(tx.error)
    }
    read.onerror = () => reject(read.error)
  }
})"""


def attached_photo(app, page) -> Photo:
    """The visit's photo once the server knows it (still awaiting its bytes) and the phone knows it did."""
    for _ in range(SYNC_WAIT_S * 2):
        found = in_db(app, lambda: db.session.scalar(select(Photo)))
        if found and page.evaluate(PHOTO_VERSION, str(found.id)) is not None:
            return found
        page.wait_for_timeout(500)
    pytest.fail(f"after {SYNC_WAIT_S} s the photo was not attached on the server")


def visit_with_photo(app, url, browser, tmp_path, summary: str):
    """A cadre's phone that saved a visit with one photo; uploads go where the caller's route says."""
    passwords = demo_passwords(app)
    client = app.test_client()
    cadre = api_sign_in(client, "demo-cadre", passwords["demo-cadre"])
    household = new_id()
    fields = household_fields(area_code=VILLAGE, address="东岭村5组9号", head_name="吴大伯")
    result = push(client, cadre.headers, cadre.client_id, [cadre.mutation("household.upsert", household, fields)])
    assert result["results"][0]["status"] == "applied", result
    picture = tmp_path / "photo.jpg"
    picture.write_bytes(generated_jpeg(seed=7, exif=gps_exif(PHONE_POSITION["latitude"], PHONE_POSITION["longitude"])))

    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN",
                                  geolocation=PHONE_POSITION, permissions=["geolocation"],
                                  # Requests a service worker handles escape page.route.
                                  service_workers="block")
    page = watch_csp(context.new_page())
    sign_in(page, url, "demo-cadre", passwords["demo-cadre"])
    return context, page, household, picture


def save_visit(page, url, household, picture, summary: str) -> None:
    page.goto(f"{url}/visits/new?household={household}")
    page.fill("[data-test=visit-summary] textarea", summary)
    page.set_input_files("[data-test=photo-input]", [str(picture)])
    expect(page.locator("[data-test=photo-thumb] img")).to_have_count(1, timeout=20000)
    page.click("[data-test=visit-save]")
    page.wait_for_url(f"**/households/{household}")


def test_a_copy_damaged_on_the_phone_is_held_back_with_words(live_server, browser, tmp_path):
    app, url = live_server.app, live_server.url
    context, page, household, picture = visit_with_photo(app, url, browser, tmp_path, "照片在本机损坏")
    # No upload gets through until the phone's copy is damaged.
    page.route("**/api/uploads**", lambda route: route.abort())
    save_visit(page, url, household, picture, "入户走访，照片在本机损坏。")
    photo = attached_photo(app, page)
    photo_id = str(photo.id)
    # Offline, the upload in flight gives up for good (tus-js-client retries only online, with
    # the file it read before the damage) and no run starts.
    page.click(".van-tabbar-item >> text=同步")
    expect(page.locator("[data-test=sync-now]")).to_be_visible()
    context.set_offline(True)
    page.wait_for_timeout(5000)
    size = page.evaluate(DAMAGE_FILE, photo_id)
    uploads = []
    page.on("request", lambda request: uploads.append(request.method) if "/api/uploads" in request.url else None)
    page.unroute("**/api/uploads**")
    context.set_offline(False)  # the network is back: a run starts by itself
    row = page.locator(f"[data-test=upload-progress][data-photo='{photo_id}']")
    expect(row.locator("[data-test=photo-held][data-held=damaged]")).to_be_visible(timeout=20000)
    expect(row.locator("[data-test=photo-status]")).to_have_text("照片文件已损坏，请删除后重新拍摄")
    expect(row.locator("[data-test=photo-remove-kept]")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "upload-damaged-360.png"), full_page=True)
    # The server discarded the bytes; the photo waits, and the phone keeps its copy.
    assert in_db(app, lambda: db.session.get(Photo, uuid.UUID(photo_id)).status) == "awaiting_upload"
    assert page.evaluate(LOCAL_FILE, photo_id) == {"done": False, "bytes": size}

    # Further syncs do not send the damaged file again.
    sent = len(uploads)
    assert sent >= 1
    for _ in range(2):
        page.click("[data-test=sync-now]")
        expect(page.locator(".van-toast")).to_contain_text("同步完成", timeout=20000)
        page.wait_for_timeout(500)
    assert len(uploads) == sent

    # The way out: remove it (confirmed); the photo's deletion goes to the server.
    row.locator("[data-test=photo-remove-kept]").click()
    page.locator(".van-dialog__confirm").click()
    expect(row).to_have_count(0, timeout=20000)
    for _ in range(SYNC_WAIT_S * 2):
        if in_db(app, lambda: db.session.get(Photo, uuid.UUID(photo_id)) is None
                 or db.session.get(Photo, uuid.UUID(photo_id)).deleted):
            break
        page.wait_for_timeout(500)
    else:
        pytest.fail("the removed photo was not deleted on the server")
    assert page.csp_violations == []
    context.close()


def test_storage_down_is_left_alone_for_its_retry_after(live_server, browser, tmp_path):
    app, url = live_server.app, live_server.url
    context, page, household, picture = visit_with_photo(app, url, browser, tmp_path, "存储暂不可用")
    posts = []

    def storage_down(route):
        posts.append(route.request.method)
        body = {"code": 503, "status": "Service Unavailable", "errors": {}, "reason": "storage_unavailable",
                "message": "Photo storage is unavailable; try again shortly."}
        route.fulfill(status=503, headers={"Retry-After": "60", "Content-Type": "application/json",
                                           "Tus-Resumable": "1.0.0"}, body=json.dumps(body))

    page.route("**/api/uploads**", storage_down)
    save_visit(page, url, household, picture, "入户走访，照片存储暂不可用。")
    attached_photo(app, page)
    for _ in range(SYNC_WAIT_S * 2):
        if posts:
            break
        page.wait_for_timeout(500)
    page.wait_for_timeout(5000)  # longer than tus-js-client's own retries (0, 1, 3 s) would take
    assert posts == ["POST"], posts

    # A tap on 立即同步, on Home and on the Sync screen, says how long the app waits, and sends nothing.
    page.click(".van-tabbar-item >> text=首页")
    page.click("[data-test=home-sync-now]")
    expect(page.locator(".van-toast")).to_contain_text("服务器繁忙，", timeout=5000)
    expect(page.locator(".van-toast")).to_contain_text("秒后自动重试")
    page.click(".van-tabbar-item >> text=同步")
    expect(page.locator("[data-test=sync-error]")).to_contain_text("服务器繁忙，", timeout=5000)
    page.click("[data-test=sync-now]")
    expect(page.locator(".van-toast:visible")).to_contain_text("秒后自动重试", timeout=5000)
    page.screenshot(path=str(ARTIFACTS / "sync-retry-after-360.png"), full_page=True)
    assert posts == ["POST"], posts
    assert page.csp_violations == []
    context.close()

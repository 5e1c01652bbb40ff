"""Ledgers 台账 as a county office opens them: Excel with Chinese headers, real date cells, a frozen
header and filters; the same rows as CSV; the list filters; roles and scope; the audit entry.

Records are written through the real paths: visits and photos by sync push (and tus), hotspots and
inspections over REST, reviews by a supervisor's REST call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEvent
from backend.jobs.models import Job
from tests.evidence.conftest import attach, generated_jpeg, gps_exif, new_household, new_visit, upload
from tests.exports.ledger import HOTSPOT_HEADERS, VISIT_HEADERS, csv_rows, download, rows, sheet
from tests.factories import login_headers
from tests.sync.conftest import Device, cadre, device, push, supervisor  # noqa: F401
from tests.test_app import assert_error

HOME = (29.4500, 119.8900)         # the household of the first visit
TWO_KM_NORTH = (29.4680, 119.8900)


@dataclass
class VisitData:
    cadre: Device
    grid_cadre: Device
    household_visit: str


def visit_in(client, owner: Device, area_code: str, visited_at: str, **fields) -> str:
    return new_visit(client, owner, area_code=area_code, visited_at=visited_at, **fields)


def delete(client, owner: Device, kind: str, record_id: str, version: int = 1) -> None:
    result = push(client, owner.headers, owner.client_id, [owner.mutation(f"{kind}.delete", record_id, None,
                                                                          version)])
    assert result["results"][-1]["status"] == "applied", result


@pytest.fixture
def visits(client, tree, cadre, supervisor) -> VisitData:  # noqa: F811
    """Three live visits in county A (V1, its grid G1, V2), one deleted, one in county B."""
    grid_cadre = device("cadre-g1", tree.G1, "cadre")
    v2_cadre = device("cadre-v2", tree.V2, "cadre")
    other_county = device("cadre-bv", tree.BV, "cadre")
    household = new_household(client, cadre, head_name="张三", address="一村3组12号", lat=HOME[0], lon=HOME[1])
    household_visit = new_visit(
        client, cadre, household_id=household, visited_at="2026-11-20T09:30:00+08:00", lat=HOME[0], lon=HOME[1],
        concerns=[{"category": "neighbourhood", "description": "宅基地边界争议"},
                  {"category": "labour", "description": "儿子工地工资被拖欠"},
                  {"category": "neighbourhood", "description": "邻居占道堆柴"}],
        satisfaction=4, follow_up_due="2026-12-01")
    # 01:15 in the county is the previous day in UTC: the ledger must show the county's day.
    visit_in(client, grid_cadre, tree.G1, "2026-11-21T01:15:00+08:00", kind="site", concerns=[],
             lat=29.4600, lon=119.9000)
    approved = visit_in(client, v2_cadre, tree.V2, "2026-11-22T14:00:00+08:00", kind="enterprise",
                        lat=29.1000, lon=120.2000, concerns=[{"category": "contract", "description": "合同纠纷"}])
    ruled = client.post(f"/api/visits/{approved}/review", headers={**supervisor.headers, "If-Match": '"1"'},
                        json={"review_status": "approved"})
    assert ruled.status_code == 200, ruled.get_json()
    delete(client, cadre, "visit", visit_in(client, cadre, tree.V1, "2026-11-20T11:00:00+08:00"))
    visit_in(client, other_county, tree.BV, "2026-11-20T10:00:00+08:00")
    return VisitData(cadre, grid_cadre, household_visit)


def photo_of(client, owner: Device, visit_id: str, position: tuple[float, float], data: bytes | None = None) -> str:
    """Attach a photo taken where the phone was at ``position``; upload ``data`` if given."""
    photo_id = str(uuid.uuid4())
    data_or_stub = data or f"never uploaded {photo_id}".encode()
    result = attach(client, owner, visit_id, data_or_stub, photo_id=photo_id, lat=position[0], lon=position[1],
                    accuracy_m=10)
    assert result["status"] == "applied", result
    if data is not None:
        upload(client, owner.headers, photo_id, data)
    return photo_id


# --- the visits ledger -----------------------------------------------------------------

def test_visits_ledger_has_one_row_per_live_visit_in_scope_under_chinese_headers(client, visits, supervisor):  # noqa: F811
    owner, visit_id = visits.cadre, visits.household_visit
    photo_of(client, owner, visit_id, TWO_KM_NORTH)                                       # far from the household
    photo_of(client, owner, visit_id, HOME, generated_jpeg(160, 120, seed=3))             # no GPS in the file
    edited = photo_of(client, owner, visit_id, HOME,
                      generated_jpeg(160, 120, seed=7, exif=gps_exif(*HOME, software="Adobe Photoshop 25.0")))
    delete(client, owner, "photo", edited)                                                # deleted: not counted

    worksheet = sheet(download(client, supervisor.headers, "visits.xlsx"))

    assert [cell.value for cell in worksheet[1]] == VISIT_HEADERS
    ledger = rows(worksheet)
    assert [row["序号"] for row in ledger] == [1, 2, 3]
    first, grid, approved = ledger
    assert first == {
        "序号": 1, "乡镇(街道)": "一镇", "村(社区)": "一村", "户主": "张三", "地址": "一村3组12号",
        "走访时间": datetime(2026, 11, 20, 9, 30), "走访人": "cadre-v1", "走访类型": "入户走访",
        "反映问题": "宅基地边界争议；儿子工地工资被拖欠；邻居占道堆柴",
        "问题类别": "邻里、劳动争议（含拖欠农民工工资）",
        "满意度": 4, "是否需跟踪": "是", "跟踪期限": datetime(2026, 12, 1), "审核状态": "待审核", "照片数": 2,
        "核验提示": "照片无定位；距走访对象过远"}
    # A grid's village is its parent, the village's township its parent in turn.
    assert (grid["乡镇(街道)"], grid["村(社区)"], grid["走访人"], grid["走访类型"]) == \
        ("一镇", "一村", "cadre-g1", "场所走访")
    assert grid["走访时间"] == datetime(2026, 11, 21, 1, 15)
    assert (grid["户主"], grid["反映问题"], grid["是否需跟踪"], grid["跟踪期限"], grid["照片数"], grid["核验提示"]) == \
        (None, None, "否", None, 0, None)
    assert (approved["乡镇(街道)"], approved["村(社区)"], approved["审核状态"], approved["问题类别"]) == \
        ("二镇", "二村", "已通过", "合同")


def test_visits_workbook_is_ready_to_print_and_filter(client, visits, supervisor):  # noqa: F811
    response = download(client, supervisor.headers, "visits.xlsx")
    worksheet = sheet(response)

    assert worksheet.freeze_panes == "A2"
    assert worksheet.auto_filter.ref == "A1:P4"
    assert all(cell.font.b for cell in worksheet[1])
    widths = {column: worksheet.column_dimensions[column].width for column in "ABEFI"}
    assert widths["E"] > widths["A"] and widths["I"] > widths["B"] >= 10, widths  # addresses, concerns are wide
    visited, due = worksheet["F2"], worksheet["M2"]
    assert visited.is_date and visited.number_format == "yyyy-mm-dd hh:mm"
    assert due.is_date and due.number_format == "yyyy-mm-dd"
    assert worksheet["K2"].data_type == "n" and worksheet["O2"].data_type == "n"


def test_csv_ledger_has_a_bom_and_the_same_rows(client, visits, supervisor):  # noqa: F811
    from_excel = rows(sheet(download(client, supervisor.headers, "visits.xlsx")))

    header, from_csv = csv_rows(download(client, supervisor.headers, "visits.csv"))

    assert header == VISIT_HEADERS
    assert len(from_csv) == len(from_excel) == 3
    first = from_csv[0]
    assert (first["走访时间"], first["跟踪期限"], first["户主"], first["问题类别"]) == \
        ("2026-11-20 09:30", "2026-12-01", "张三", "邻里、劳动争议（含拖欠农民工工资）")
    assert from_csv[1]["走访时间"] == "2026-11-21 01:15"
    for excel_row, csv_row in zip(from_excel, from_csv, strict=True):
        for name, value in excel_row.items():
            shown = (value.strftime("%Y-%m-%d %H:%M") if name == "走访时间" else value.date().isoformat()
                     if isinstance(value, datetime) else "" if value is None else str(value))
            assert csv_row[name] == shown, (name, csv_row[name], value)


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["2026-11-20 09:30", "2026-11-21 01:15", "2026-11-22 14:00"]),
    ({"area": "990101001000"}, ["2026-11-20 09:30", "2026-11-21 01:15"]),           # T1 and below
    ({"area": "990101001001"}, ["2026-11-20 09:30", "2026-11-21 01:15"]),           # V1 and its grid
    ({"area": "990101001901"}, ["2026-11-21 01:15"]),                               # the grid alone
    ({"status": "approved"}, ["2026-11-22 14:00"]),
    ({"status": "rejected"}, []),
    ({"since": "2026-11-21T00:00:00+08:00", "until": "2026-11-22T00:00:00+08:00"}, ["2026-11-21 01:15"]),
    ({"bbox": "119.88,29.44,119.895,29.455"}, ["2026-11-20 09:30"]),
])
def test_visits_ledger_takes_the_list_filters(client, visits, supervisor, query, expected):  # noqa: F811
    _header, ledger = csv_rows(download(client, supervisor.headers, "visits.csv", **query))

    assert [row["走访时间"] for row in ledger] == expected
    assert [row["序号"] for row in ledger] == [str(number) for number in range(1, len(expected) + 1)]


def test_visits_ledger_filters_by_author(client, visits, supervisor):  # noqa: F811
    _header, ledger = csv_rows(download(client, supervisor.headers, "visits.csv", author=visits.grid_cadre.user.id))

    assert [(row["走访人"], row["走访时间"]) for row in ledger] == [("cadre-g1", "2026-11-21 01:15")]


def test_an_empty_ledger_still_has_its_header_and_filter(client, visits, supervisor):  # noqa: F811
    worksheet = sheet(download(client, supervisor.headers, "visits.xlsx", status="returned"))

    assert [cell.value for cell in worksheet[1]] == VISIT_HEADERS
    assert rows(worksheet) == []
    assert worksheet.auto_filter.ref == "A1:P1"


def test_a_village_supervisor_sees_their_village_under_its_township(client, visits, tree):
    headers = login_headers("supervisor-v1", tree.V1, "supervisor")

    ledger = rows(sheet(download(client, headers, "visits.xlsx")))

    # The township lies above the supervisor's area, but a village's ledger still names it.
    assert [(row["乡镇(街道)"], row["村(社区)"], row["走访时间"].day) for row in ledger] == \
        [("一镇", "一村", 20), ("一镇", "一村", 21)]


def test_a_cadres_text_stays_text_in_both_files(client, tree, cadre, supervisor):  # noqa: F811
    formula = '=HYPERLINK("http://example.invalid/x","点击查看")'
    long_text = "长" * 2000
    household = new_household(client, cadre, head_name="李四", address="二组\x0b5号")
    new_visit(client, cadre, household_id=household,
              concerns=[{"category": "other", "description": formula}] +
                       [{"category": "other", "description": long_text}] * 19)

    worksheet = sheet(download(client, supervisor.headers, "visits.xlsx"))
    _header, (from_csv,) = csv_rows(download(client, supervisor.headers, "visits.csv"))

    address, concerns = worksheet["E2"], worksheet["I2"]
    assert address.value == "二组5号"                        # a control character no xlsx can hold, dropped
    assert concerns.data_type == "s" and concerns.value.startswith(formula + "；")   # not a formula
    assert len(concerns.value) == 32_767 and concerns.value.endswith("…")          # Excel's cell limit
    assert from_csv["反映问题"].startswith("'" + formula)      # Excel would run it: quoted
    assert len(from_csv["反映问题"]) == 1 + len(formula) + 19 * (1 + len(long_text))


# --- the hotspots ledger ---------------------------------------------------------------

def hotspot(client, headers: dict[str, str], area_code: str, name: str, **fields) -> str:
    hotspot_id = str(uuid.uuid4())
    created = client.post("/api/hotspots", headers=headers, json={"id": hotspot_id, "area_code": area_code,
                                                                   "name": name, **fields})
    assert created.status_code == 201, created.get_json()
    return hotspot_id


def inspection(client, inspector: Device, hotspot_id: str, inspected_at: str, result: str) -> str:
    inspection_id = str(uuid.uuid4())
    created = client.post("/api/inspections", headers=inspector.headers, json={
        "id": inspection_id, "hotspot_id": hotspot_id, "inspected_at": inspected_at, "result": result})
    assert created.status_code == 201, created.get_json()
    return inspection_id


def move(client, headers: dict[str, str], hotspot_id: str, *statuses: str) -> None:
    for version, status in enumerate(statuses, start=1):
        moved = client.patch(f"/api/hotspots/{hotspot_id}", headers={**headers, "If-Match": f'"{version}"'},
                             json={"status": status})
        assert moved.status_code == 200, moved.get_json()


@pytest.fixture
def hotspots(client, tree, supervisor):  # noqa: F811
    """Three live hotspots in county A (V1 overdue with inspections and photos, its grid, V2 closed),
    one deleted, one in county B."""
    inspector = device("inspector-v1", tree.V1, "inspector")
    overdue = hotspot(client, inspector.headers, tree.V1, "城西出租屋片区", category="rental_cluster",
                      risk_level="high", deadline="2020-06-30")
    first = inspection(client, inspector, overdue, "2026-11-20T10:00:00+08:00", "in_progress")
    inspection(client, inspector, overdue, "2026-11-22T16:45:00+08:00", "rectified")
    withdrawn = inspection(client, inspector, overdue, "2026-11-23T09:00:00+08:00", "relapsed")
    for record_type, record_id in (("hotspot", overdue), ("inspection", first), ("inspection", withdrawn)):
        attached = attach(client, inspector, record_id, uuid.uuid4().bytes, record_type=record_type)
        assert attached["status"] == "applied", attached
    gone = client.delete(f"/api/inspections/{withdrawn}", headers={**inspector.headers, "If-Match": '"1"'})
    assert gone.status_code == 204
    hotspot(client, inspector.headers, tree.G1, "网格内废品站", category="other")
    closed = hotspot(client, supervisor.headers, tree.V2, "二镇夜市", category="market", risk_level="low",
                     deadline="2020-01-01")
    move(client, supervisor.headers, closed, "rectifying", "acceptance_requested", "closed")
    removed = hotspot(client, inspector.headers, tree.V1, "已撤销的点位", category="other")
    assert client.delete(f"/api/hotspots/{removed}", headers={**inspector.headers, "If-Match": '"1"'}).status_code \
        == 204
    hotspot(client, login_headers("inspector-bv", tree.BV, "inspector"), tree.BV, "乙县车站", category="transport_hub")


def test_hotspots_ledger_has_one_row_per_live_hotspot_in_scope(client, hotspots, supervisor):  # noqa: F811
    worksheet = sheet(download(client, supervisor.headers, "hotspots.xlsx"))

    assert [cell.value for cell in worksheet[1]] == HOTSPOT_HEADERS
    assert worksheet.freeze_panes == "A2" and worksheet.auto_filter.ref == "A1:M4"
    overdue, grid, closed = rows(worksheet)
    assert overdue == {
        "序号": 1, "乡镇(街道)": "一镇", "村(社区)": "一村", "名称": "城西出租屋片区", "类别": "出租屋集中区",
        "风险等级": "高风险", "状态": "已挂牌", "整改期限": datetime(2020, 6, 30), "是否逾期": "是",
        "检查次数": 2, "最近检查时间": datetime(2026, 11, 22, 16, 45), "最近检查结果": "已整改", "照片数": 2}
    assert worksheet["H2"].is_date and worksheet["K2"].is_date
    assert grid == {
        "序号": 2, "乡镇(街道)": "一镇", "村(社区)": "一村", "名称": "网格内废品站", "类别": "其他",
        "风险等级": "中风险", "状态": "已挂牌", "整改期限": None, "是否逾期": "否",
        "检查次数": 0, "最近检查时间": None, "最近检查结果": None, "照片数": 0}
    # Past its deadline but closed: not overdue.
    assert (closed["村(社区)"], closed["状态"], closed["整改期限"], closed["是否逾期"]) == \
        ("二村", "已销号", datetime(2020, 1, 1), "否")


@pytest.mark.parametrize(("query", "expected"), [
    ({"status": "closed"}, ["二镇夜市"]),
    ({"area": "990101001000"}, ["城西出租屋片区", "网格内废品站"]),
    ({"area": "990101100000", "status": "listed"}, []),
])
def test_hotspots_ledger_takes_the_list_filters(client, hotspots, supervisor, query, expected):  # noqa: F811
    header, ledger = csv_rows(download(client, supervisor.headers, "hotspots.csv", **query))

    assert header == HOTSPOT_HEADERS
    assert [row["名称"] for row in ledger] == expected


def test_hotspots_csv_shows_times_and_dates_as_text(client, hotspots, supervisor):  # noqa: F811
    _header, ledger = csv_rows(download(client, supervisor.headers, "hotspots.csv"))

    assert (ledger[0]["整改期限"], ledger[0]["最近检查时间"], ledger[0]["检查次数"]) == \
        ("2020-06-30", "2026-11-22 16:45", "2")
    assert (ledger[1]["整改期限"], ledger[1]["最近检查时间"]) == ("", "")


# --- who, and the audit ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["visits.xlsx", "visits.csv", "hotspots.xlsx", "hotspots.csv"])
def test_only_supervisors_and_admins_take_ledgers(client, tree, path):
    for role in ("cadre", "inspector"):
        assert assert_error(client.post(f"/api/exports/{path}", headers=login_headers(role, tree.V1, role)),
                            403)["reason"] == "forbidden"
    assert assert_error(client.post(f"/api/exports/{path}"), 401)["reason"] == "token_missing"
    assert client.post(f"/api/exports/{path}", headers=login_headers("admin", tree.A, "admin")).status_code == 202


def test_an_area_outside_yours_does_not_exist(client, db, tree, supervisor):  # noqa: F811
    response = client.post("/api/exports/visits.xlsx", headers=supervisor.headers, query_string={"area": tree.B})

    assert assert_error(response, 404)["reason"] == "not_found"
    assert db.session.scalars(select(Job)).all() == []


def test_the_download_is_named_after_the_area_and_the_county_day(app, client, visits, supervisor):  # noqa: F811
    response = download(client, supervisor.headers, "visits.xlsx", area="990101100000")

    disposition = response.headers["Content-Disposition"]
    today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date().isoformat()
    assert f'filename="visits-990101100000-{today}.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"走访台账-二镇-{today}.xlsx"


def test_each_export_is_committed_to_the_audit(client, db, visits, supervisor):  # noqa: F811
    download(client, supervisor.headers, "visits.xlsx", area="990101100000", status="approved")
    download(client, supervisor.headers, "hotspots.csv")
    db.session.rollback()  # anything the requests left uncommitted is gone now

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "export")
                                .order_by(AuditEvent.id)).all()

    assert [(e.action, e.entity_id, e.actor_name, e.area_code) for e in events] == [
        ("export.visits", "visits.xlsx", "supervisor-a", "990101100000"),
        ("export.hotspots", "hotspots.csv", "supervisor-a", "990101000000")]
    assert events[0].after == {"format": "xlsx", "filters": {"area": "990101100000", "status": "approved"},
                               "rows": 1}
    assert events[1].after == {"format": "csv", "filters": {}, "rows": 0}
    assert events[0].request_id and events[0].ip


def test_the_audit_keeps_times_and_boxes_of_the_filters(client, visits, supervisor, db):  # noqa: F811
    download(client, supervisor.headers, "visits.csv", since="2026-11-21T00:00:00+08:00",
             bbox="119.8,29.4,120,29.5")

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.visits")).one()

    assert event.after["rows"] == 1
    assert datetime.fromisoformat(event.after["filters"]["since"]) == datetime(2026, 11, 21,
                                                                               tzinfo=ZoneInfo("Asia/Shanghai"))
    assert event.after["filters"]["bbox"] == [119.8, 29.4, 120, 29.5]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_ledger_is_only_started_by_post_and_a_get_builds_nothing(client, db, visits, supervisor, method):  # noqa: F811
    response = client.open("/api/exports/visits.xlsx", method=method, headers=supervisor.headers)
    db.session.rollback()

    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "export")).all() == []
    assert db.session.scalars(select(Job)).all() == []

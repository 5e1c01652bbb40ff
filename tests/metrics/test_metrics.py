"""Coverage and rectification rates on a hand-built campaign, counted by hand (tests/metrics/campaign.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from backend.areas import service as areas_service
from backend.extensions import db as _db
from backend.metrics import service as metrics_service
from tests.factories import login_headers
from tests.metrics.campaign import FROM, TO, TODAY, V2B, V3, add_areas, write_hotspots, write_visits
from tests.sync.conftest import supervisor  # noqa: F401

COVERAGE_FIELDS = ("households", "visited_households", "visits", "flagged_visits", "pending_visits",
                   "overdue_follow_ups")
RECTIFICATION_FIELDS = ("listed", "closed_after_inspection", "overdue", "relapsed", "due")

# area -> (households, visited, visits, flagged, pending, overdue follow-ups)
COVERAGE = {
    "A": (40, 25, 29, 5, 21, 5),
    "T1": (25, 15, 18, 4, 12, 4),
    "T2": (15, 10, 11, 1, 9, 1),
    "V1": (15, 10, 12, 3, 7, 3),   # with its grid
    "G1": (3, 2, 2, 1, 1, 0),
    "V3": (10, 5, 6, 1, 5, 1),
    "V2": (15, 10, 11, 1, 9, 1),
    "V2B": (0, 0, 0, 0, 0, 0),
}
# area -> (listed, closed after an inspection, overdue, relapsed, due)
RECTIFICATION = {
    "A": (10, 2, 3, 1, 8),
    "T1": (8, 2, 2, 0, 6),
    "T2": (2, 0, 1, 1, 2),
    "V1": (6, 1, 1, 0, 4),
    "G1": (0, 0, 0, 0, 0),
    "V3": (2, 1, 1, 0, 2),
    "V2": (2, 0, 1, 1, 2),
    "V2B": (0, 0, 0, 0, 0),
}


@pytest.fixture
def today(monkeypatch):
    """The county's date, fixed."""
    monkeypatch.setattr(metrics_service, "local_today", lambda zone: TODAY)
    return TODAY


@pytest.fixture
def codes(tree) -> dict[str, str]:
    add_areas(tree)
    return {"A": tree.A, "T1": tree.T1, "T2": tree.T2, "V1": tree.V1, "G1": tree.G1, "V3": V3, "V2": tree.V2,
            "V2B": V2B, "B": tree.B}


@pytest.fixture
def campaign(client, tree, codes, supervisor, today):  # noqa: F811
    written = write_visits(client, tree, supervisor)
    write_hotspots(client, tree, supervisor, written)
    return written


def get(client, headers: dict[str, str], path: str, status: int = 200, **query: str) -> dict[str, Any]:
    response = client.get(f"/api/metrics/{path}", headers=headers, query_string=query)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def coverage_numbers(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[name] for name in COVERAGE_FIELDS)


def rectification_numbers(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[name] for name in RECTIFICATION_FIELDS)


def expected_rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator,
            "rate": round(numerator / denominator, 4) if denominator else None}


@pytest.mark.parametrize(("area", "children"), [("A", ["T1", "T2"]), ("T1", ["V1", "V3"]), ("T2", ["V2", "V2B"]),
                                                ("V1", ["G1"])])
def test_coverage_of_an_area_and_its_children(client, codes, campaign, supervisor, area, children):  # noqa: F811
    body = get(client, supervisor.headers, "coverage", area=codes[area], **{"from": FROM, "to": TO})

    assert (body["area"]["code"], body["from"], body["to"]) == (codes[area], FROM, TO)
    assert body["timezone"] == "Asia/Shanghai" and body["today"] == TODAY.isoformat()
    assert coverage_numbers(body["total"]) == COVERAGE[area]
    assert [row["code"] for row in body["children"]] == [codes[child] for child in children]
    for row, child in zip(body["children"], children, strict=True):
        assert coverage_numbers(row) == COVERAGE[child], child
        assert row["coverage"] == expected_rate(*COVERAGE[child][1::-1])
    assert body["total"]["coverage"] == expected_rate(*COVERAGE[area][1::-1])


def test_coverage_rates_as_a_supervisor_reads_them(client, codes, campaign, supervisor):  # noqa: F811
    body = get(client, supervisor.headers, "coverage", area=codes["A"], **{"from": FROM, "to": TO})
    t1, t2 = body["children"]

    assert body["total"]["coverage"] == {"numerator": 25, "denominator": 40, "rate": 0.625}
    assert (t1["name"], t1["level"], t1["coverage"]["rate"]) == ("一镇", "township", 0.6)
    assert t2["coverage"] == {"numerator": 10, "denominator": 15, "rate": 0.6667}
    empty = get(client, supervisor.headers, "coverage", area=codes["T2"], **{"from": FROM, "to": TO})["children"][1]
    assert empty["coverage"] == {"numerator": 0, "denominator": 0, "rate": None}


def test_the_period_is_in_county_days(client, codes, campaign, supervisor):  # noqa: F811
    # 16 March alone: only the visit at 00:00 county time (16:00 UTC on the 15th) falls in it.
    body = get(client, supervisor.headers, "coverage", area=codes["V1"], **{"from": "2026-03-16", "to": "2026-03-16"})
    assert (body["total"]["visits"], body["total"]["visited_households"]) == (1, 1)
    # 1 March alone: the visit at 00:00 county time is in, the one a minute earlier (in V3) is not.
    body = get(client, supervisor.headers, "coverage", area=codes["T1"], **{"from": "2026-03-01", "to": "2026-03-01"})
    assert [row["visits"] for row in body["children"]] == [1, 0]
    # 28 February: the V3 visit at 23:59 county time.
    body = get(client, supervisor.headers, "coverage", area=codes["T1"], **{"from": "2026-02-28", "to": "2026-02-28"})
    assert [row["visits"] for row in body["children"]] == [0, 1]


def test_the_default_period_is_the_last_30_days(client, codes, campaign, supervisor):  # noqa: F811
    body = get(client, supervisor.headers, "coverage", area=codes["A"])
    assert (body["from"], body["to"]) == ((TODAY - timedelta(days=29)).isoformat(), TODAY.isoformat())
    # 19 February to 20 March: every live visit of the campaign in county A, the two edge ones too.
    assert body["total"]["visits"] == 29 + 2
    only_from = get(client, supervisor.headers, "coverage", area=codes["A"], **{"from": "2026-03-10"})
    assert (only_from["from"], only_from["to"]) == ("2026-03-10", TODAY.isoformat())


@pytest.mark.parametrize(("area", "children"), [("A", ["T1", "T2"]), ("T1", ["V1", "V3"]), ("T2", ["V2", "V2B"]),
                                                ("V1", ["G1"])])
def test_rectification_of_an_area_and_its_children(client, codes, campaign, supervisor, area,  # noqa: F811
                                                    children):
    body = get(client, supervisor.headers, "rectification", area=codes[area])

    assert body["area"]["code"] == codes[area] and body["today"] == TODAY.isoformat()
    assert rectification_numbers(body["total"]) == RECTIFICATION[area]
    assert body["total"]["rectification"] == expected_rate(RECTIFICATION[area][1], RECTIFICATION[area][4])
    assert [row["code"] for row in body["children"]] == [codes[child] for child in children]
    for row, child in zip(body["children"], children, strict=True):
        assert rectification_numbers(row) == RECTIFICATION[child], child
        assert row["rectification"] == expected_rate(RECTIFICATION[child][1], RECTIFICATION[child][4])


def test_rectification_rate_as_a_supervisor_reads_it(client, codes, campaign, supervisor):  # noqa: F811
    body = get(client, supervisor.headers, "rectification")  # the supervisor's own area: the county

    assert body["area"]["code"] == codes["A"]
    assert body["total"]["rectification"] == {"numerator": 2, "denominator": 8, "rate": 0.25}
    assert [row["rectification"]["rate"] for row in body["children"]] == [0.3333, 0.0]


def test_a_township_supervisor_sees_their_township(client, codes, campaign):
    headers = login_headers("supervisor-t1", codes["T1"], "supervisor")

    body = get(client, headers, "coverage", **{"from": FROM, "to": TO})
    assert body["area"]["code"] == codes["T1"] and coverage_numbers(body["total"]) == COVERAGE["T1"]
    assert rectification_numbers(get(client, headers, "rectification")["total"]) == RECTIFICATION["T1"]
    for path in ("coverage", "rectification"):
        for other in ("T2", "V2", "A", "B"):
            assert get(client, headers, path, 404, area=codes[other])["reason"] == "not_found"


def test_an_admin_may_read_the_rates(client, codes, campaign):
    headers = login_headers("admin-a", codes["A"], "admin")
    assert coverage_numbers(get(client, headers, "coverage", **{"from": FROM, "to": TO})["total"]) == COVERAGE["A"]


@pytest.mark.parametrize("role", ["cadre", "inspector"])
def test_field_workers_may_not_read_the_rates(client, codes, role):
    headers = login_headers(f"{role}-a", codes["A"], role)
    for path in ("coverage", "rectification"):
        assert get(client, headers, path, 403)["reason"] == "forbidden"


def test_the_rates_need_a_token(client, codes):
    assert get(client, {}, "coverage", 401)["reason"] == "token_missing"


@pytest.mark.parametrize("query", [
    {"from": "2026-02-30"}, {"to": "yesterday"}, {"from": "01/03/2026"}, {"to": "2026-13-01"},
    {"from": "0001-01-01"}, {"to": "9999-12-31"}, {"area": "12345"},
])
def test_bad_query_values_are_422(client, codes, supervisor, today, query):  # noqa: F811
    body = get(client, supervisor.headers, "coverage", 422, **query)
    assert set(body["errors"]["query"]) == set(query)


def test_from_after_to_is_422(client, codes, supervisor, today):  # noqa: F811
    body = get(client, supervisor.headers, "coverage", 422, **{"from": "2026-03-16", "to": "2026-03-15"})
    assert "from" in body["errors"]["query"]
    # A from after today, with to left at today, is the same mistake.
    body = get(client, supervisor.headers, "coverage", 422, **{"from": (TODAY + timedelta(days=1)).isoformat()})
    assert "from" in body["errors"]["query"]


def test_an_area_that_does_not_exist_is_404(client, codes, supervisor):  # noqa: F811
    for path in ("coverage", "rectification"):
        assert get(client, supervisor.headers, path, 404, area="990101999999")["reason"] == "not_found"


def test_the_number_of_queries_does_not_grow_with_the_children(client, codes, campaign, supervisor):  # noqa: F811
    def statements(area: str) -> int:
        seen: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            seen.append(statement)

        connection = _db.session.get_bind()
        event.listen(connection, "before_cursor_execute", count)
        try:
            get(client, supervisor.headers, "coverage", area=area, **{"from": FROM, "to": TO})
            get(client, supervisor.headers, "rectification", area=area)
        finally:
            event.remove(connection, "before_cursor_execute", count)
        return sum(statement.lstrip().upper().startswith("SELECT") for statement in seen)

    before = statements(codes["T1"])
    assert before >= 2  # the listener sees the reports' queries, so equal counts below mean something
    for number in range(3, 9):
        areas_service.create_area(actor=None, code=f"990101001{number:03d}", name=f"新村{number}", level="village",
                                  parent_code=codes["T1"])
    _db.session.commit()
    # Two children, then eight: the same statements.
    assert statements(codes["T1"]) == before

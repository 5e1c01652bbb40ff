"""Visits per county day, on the hand-built campaign (tests/metrics/campaign.py), counted by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import login_headers
from tests.metrics.campaign import FROM, TO, TODAY, V3
from tests.metrics.test_metrics import campaign, codes, get, today  # noqa: F401
from tests.sync.conftest import device, new_id, push, supervisor  # noqa: F401

# March day -> (visits, flagged) in county A, 1 to 15 March, from the table of visits:
# deleted visits, the visit at 16 March 00:00, the one a minute before 1 March and county
# B's are not there; v1-6's only flagged photo is deleted.
COUNTY = {1: (2, 1), 2: (3, 2), 3: (3, 0), 4: (3, 0), 5: (3, 0), 6: (3, 1), 7: (2, 0), 8: (2, 0), 9: (2, 0),
          10: (2, 1), 11: (1, 0), 12: (1, 0), 13: (1, 0), 14: (0, 0), 15: (1, 0)}
# T1 alone: V1 with its grid, and V3.
TOWNSHIP_1 = {1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1, 13: 0, 14: 0, 15: 1}


def days_of(body) -> dict[int, tuple[int, int]]:
    return {int(row["date"][-2:]): (row["visits"], row["flagged_visits"]) for row in body["days"]}


def test_every_day_of_the_period_with_its_visits(client, codes, campaign, supervisor):  # noqa: F811
    body = get(client, supervisor.headers, "visits-per-day", area=codes["A"], **{"from": FROM, "to": TO})

    assert (body["area"]["code"], body["from"], body["to"]) == (codes["A"], FROM, TO)
    assert body["timezone"] == "Asia/Shanghai" and body["today"] == TODAY.isoformat()
    assert [row["date"] for row in body["days"]] == [f"2026-03-{day:02d}" for day in range(1, 16)]
    assert days_of(body) == COUNTY
    # The same visits as the coverage report counts over the period.
    total = get(client, supervisor.headers, "coverage", area=codes["A"], **{"from": FROM, "to": TO})["total"]
    assert sum(row["visits"] for row in body["days"]) == total["visits"] == 29
    assert sum(row["flagged_visits"] for row in body["days"]) == total["flagged_visits"] == 5


def test_an_area_counts_its_subtree_only(client, codes, campaign, supervisor):  # noqa: F811
    body = get(client, supervisor.headers, "visits-per-day", area=codes["T1"], **{"from": FROM, "to": TO})
    assert {day: visits for day, (visits, _flagged) in days_of(body).items()} == TOWNSHIP_1
    body = get(client, supervisor.headers, "visits-per-day", area=codes["V2B"], **{"from": FROM, "to": TO})
    assert len(body["days"]) == 15 and set(days_of(body).values()) == {(0, 0)}


def test_days_begin_at_county_midnight(client, codes, campaign, supervisor):  # noqa: F811
    # 16:00 UTC on 15 March is 16 March 00:00 in the county; 23:59 on 28 February is the day before.
    body = get(client, supervisor.headers, "visits-per-day", area=codes["A"],
               **{"from": "2026-02-28", "to": "2026-03-16"})
    days = {row["date"]: (row["visits"], row["flagged_visits"]) for row in body["days"]}
    assert days["2026-02-28"] == (1, 0) and days["2026-03-01"] == (2, 1)
    assert days["2026-03-15"] == (1, 0) and days["2026-03-16"] == (1, 1)


def test_the_default_period_is_the_last_30_days(client, codes, campaign, supervisor):  # noqa: F811
    body = get(client, supervisor.headers, "visits-per-day")  # the supervisor's own area: the county
    assert body["area"]["code"] == codes["A"]
    assert [row["date"] for row in body["days"]] == [(TODAY - timedelta(days=29 - n)).isoformat() for n in range(30)]
    assert sum(row["visits"] for row in body["days"]) == 29 + 2


@pytest.mark.parametrize(("zone", "times", "expected"), [
    # Summer time begins on 29 March 2026 at 02:00: that day has 23 hours. Visits late on the
    # 29th and early on the 30th stay on their own days (whole days of 86,400 s would not).
    ("Europe/Berlin", ["2026-03-28T23:30:00+01:00", "2026-03-29T23:30:00+02:00", "2026-03-30T00:30:00+02:00"],
     {"2026-03-28": 1, "2026-03-29": 1, "2026-03-30": 1}),
    # Summer time ends on 25 October: that day has 25 hours.
    ("Europe/Berlin", ["2026-10-25T00:10:00+02:00", "2026-10-25T23:50:00+01:00", "2026-10-26T00:10:00+01:00"],
     {"2026-10-24": 0, "2026-10-25": 2, "2026-10-26": 1}),
    # A zone whose offset is not a whole hour.
    ("Asia/Kathmandu", ["2026-03-01T23:50:00+05:45", "2026-03-02T00:05:00+05:45"],
     {"2026-03-01": 1, "2026-03-02": 1}),
])
def test_days_with_daylight_saving_and_odd_offsets(app, client, tree, monkeypatch, zone, times, expected):
    monkeypatch.setitem(app.config, "TIMEZONE", zone)
    cadre = device("per-day-cadre", tree.V1, "cadre")
    result = push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("visit.upsert", new_id(), {"kind": "enterprise", "area_code": tree.V1, "visited_at": moment})
        for moment in times])
    assert {outcome["status"] for outcome in result["results"]} == {"applied"}
    headers = login_headers("per-day-supervisor", tree.A, "supervisor")

    body = get(client, headers, "visits-per-day", **{"from": min(expected), "to": max(expected)})
    assert body["timezone"] == zone
    assert {row["date"]: row["visits"] for row in body["days"]} == expected


def test_a_township_supervisor_sees_their_township(client, codes, campaign):  # noqa: F811
    headers = login_headers("supervisor-t1", codes["T1"], "supervisor")

    body = get(client, headers, "visits-per-day", **{"from": FROM, "to": TO})
    assert body["area"]["code"] == codes["T1"]
    assert {day: visits for day, (visits, _flagged) in days_of(body).items()} == TOWNSHIP_1
    for other in ("T2", "V2", "A", "B"):
        assert get(client, headers, "visits-per-day", 404, area=codes[other])["reason"] == "not_found"


def test_another_county_is_404(client, codes, supervisor):  # noqa: F811
    assert get(client, supervisor.headers, "visits-per-day", 404, area=codes["B"])["reason"] == "not_found"
    assert get(client, supervisor.headers, "visits-per-day", 404, area=V3[:-1] + "9")["reason"] == "not_found"


@pytest.mark.parametrize("role", ["cadre", "inspector"])
def test_field_workers_may_not_read_it(client, codes, role):  # noqa: F811
    headers = login_headers(f"{role}-a", codes["A"], role)
    assert get(client, headers, "visits-per-day", 403)["reason"] == "forbidden"


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "2026-03-16", "to": "2026-03-15"}, "from"),
    ({"from": "2025-03-14", "to": "2026-03-15"}, "from"),  # 367 days
    ({"to": "2026-02-30"}, "to"),
])
def test_bad_periods_are_422(client, codes, supervisor, today, query, field):  # noqa: F811
    body = get(client, supervisor.headers, "visits-per-day", 422, **query)
    assert field in body["errors"]["query"]


def test_a_year_is_allowed(client, codes, supervisor, today):  # noqa: F811
    body = get(client, supervisor.headers, "visits-per-day", **{"from": "2025-03-15", "to": "2026-03-15"})
    assert len(body["days"]) == 366 and sum(row["visits"] for row in body["days"]) == 0

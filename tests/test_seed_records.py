"""The demo month: what a supervisor opening the demo county should find, written through the real services."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from backend.evidence.models import Photo
from backend.hotspots.models import Hotspot, Inspection
from backend.households.models import Household
from backend.seed import DEMO_COUNTY, seed_demo
from backend.seed_records import VILLAGES, seed_demo_records
from backend.visits.models import Visit
from tests.factories import login_headers


def test_the_demo_month_gives_every_supervisor_screen_something_to_show(app, db, client):
    seed_demo()
    visits = seed_demo_records(DEMO_COUNTY)
    db.session.flush()

    households = db.session.scalars(select(Household)).all()
    assert Counter(h.area_code for h in households) == {code: row[2] for code, row in VILLAGES.items()}
    assert visits == len(db.session.scalars(select(Visit)).all()) > 40
    photos = db.session.scalars(select(Photo)).all()
    assert {p.status for p in photos} == {"stored"}
    flagged = Counter(code for p in photos for code in p.flags)
    assert {"far_from_target", "no_exif_gps", "reused"} <= set(flagged)
    statuses = Counter(v.review_status for v in db.session.scalars(select(Visit)))
    assert statuses["pending"] and statuses["approved"] and statuses["returned"]
    assert all(v.review_comment for v in db.session.scalars(select(Visit).where(Visit.review_status == "returned")))
    assert {h.status for h in db.session.scalars(select(Hotspot))} >= {"listed", "rectifying", "closed", "relapsed"}
    assert db.session.scalars(select(Inspection)).first() is not None

    # The villages are covered unevenly, as the dashboard should show.
    headers = login_headers("demo-watcher", DEMO_COUNTY, "supervisor")
    coverage = client.get("/api/metrics/coverage", headers=headers, query_string={"area": "990101100000"}).get_json()
    rates = [child["coverage"]["rate"] for child in coverage["children"]]
    assert len(rates) == 2 and max(rates) - min(rates) > 0.1
    rectification = client.get("/api/metrics/rectification", headers=headers).get_json()
    assert rectification["total"]["overdue"] >= 2 and rectification["total"]["rectification"]["numerator"] == 1

    assert seed_demo_records(DEMO_COUNTY) == 0  # once only
    assert len(db.session.scalars(select(Household)).all()) == len(households)

"""A ledger shows only what its reader may read: a household that moved out of the reader's area
keeps its visits' rows (the visits are still theirs) but not its head's name or address."""

from __future__ import annotations

import uuid

from backend.extensions import db
from backend.households.models import Household
from tests.evidence.conftest import new_household, new_visit
from tests.exports.ledger import download, rows, sheet
from tests.sync.conftest import cadre, device  # noqa: F401


def test_a_household_moved_to_another_village_shows_no_name_or_address(client, tree, cadre):  # noqa: F811
    township_supervisor = device("supervisor-t1", tree.T1, "supervisor")
    household = new_household(client, cadre, head_name="张三", address="一村3组12号")
    new_visit(client, cadre, household_id=household, visited_at="2026-11-20T09:30:00+08:00")
    before = rows(sheet(download(client, township_supervisor.headers, "visits.xlsx")))
    assert [(row["户主"], row["地址"]) for row in before] == [("张三", "一村3组12号")]

    # The family moves to V2, in the other township: T1 no longer sees the household.
    db.session.get(Household, uuid.UUID(household)).area_code = tree.V2
    db.session.commit()
    assert client.get(f"/api/households/{household}", headers=township_supervisor.headers).status_code == 404

    after = rows(sheet(download(client, township_supervisor.headers, "visits.xlsx")))
    assert [(row["村(社区)"], row["户主"], row["地址"]) for row in after] == [("一村", None, None)]
    # The county still sees both.
    county = device("supervisor-a", tree.A, "supervisor")
    assert [row["户主"] for row in rows(sheet(download(client, county.headers, "visits.xlsx")))] == ["张三"]

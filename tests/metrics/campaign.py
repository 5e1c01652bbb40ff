"""A hand-built campaign in county A, written through sync pushes and REST reviews.

The expected numbers in the tests are counted by hand from the tables below, so each
row says what it is for. "Today" is fixed at TODAY by the tests; the period asked for
is FROM..TO. Areas: A → T1 (V1 → G1; V3) and T2 (V2; V2B, which has no households);
county B is another county whose records must never be counted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from backend.areas import service as areas_service
from backend.extensions import db
from tests.factories import Tree
from tests.sync.conftest import Device, device, new_id, push

TODAY = date(2026, 3, 20)
FROM, TO = "2026-03-01", "2026-03-15"
V3 = "990101001002"   # a second village of T1
V2B = "990101100202"  # a village of T2 without households or hotspots
MAX_BATCH = 100
FAR = 0.02            # degrees of latitude, about 2.2 km: a photo taken this far is flagged far_from_target


def at(day: int, hour: int = 10) -> str:
    """A time on a March 2026 day, in county time."""
    return f"2026-03-{day:02d}T{hour:02d}:00:00+08:00"


def households_of(tree: Tree) -> dict[str, int]:
    """Households created per area. V2's last one is deleted later: 40 live in county A."""
    return {tree.V1: 12, tree.G1: 3, V3: 10, tree.V2: 16, tree.BV: 1}


def visits_of(tree: Tree) -> list[tuple[str, tuple[str, int] | None, str, str | None]]:
    """(key, (area, household index) or None, visited_at, follow_up_due)."""
    V1, G1, V2, BV = tree.V1, tree.G1, tree.V2, tree.BV
    return [
        ("v1-0a", (V1, 0), at(2), "2026-03-10"),           # followed up by v1-0b
        ("v1-0b", (V1, 0), at(12), None),
        ("v1-1a", (V1, 1), at(3), "2026-03-18"),           # followed up by v1-1b, before the due date
        ("v1-1b", (V1, 1), at(5), None),
        ("v1-2", (V1, 2), "2026-02-28T16:00:00+00:00", None),  # 1 March 00:00 in county time: in
        ("v1-3", (V1, 3), "2026-03-15T15:59:59+00:00", None),  # 15 March 23:59:59 in county time: in
        ("v1-4", (V1, 4), at(6), "2026-03-17"),            # overdue
        ("v1-5", (V1, 5), at(7), None),
        ("v1-6", (V1, 6), at(8), None),
        ("v1-7", (V1, 7), at(4), "2026-03-08"),            # overdue: its later visit is deleted
        ("v1-7-deleted", (V1, 7), at(9), None),
        ("v1-11-after", (V1, 11), "2026-03-15T16:00:00+00:00", "2026-03-19"),  # 16 March 00:00: out; overdue
        ("g1-0", (G1, 0), at(10), None),
        ("g1-1", (G1, 1), at(11), "2026-03-20"),           # due today: not overdue yet
        *((f"v3-{i}", (V3, i), at(2 + i), None) for i in range(5)),
        ("v3-enterprise", None, at(9), "2026-03-18"),      # no household to follow up: overdue
        ("v3-9-before", (V3, 9), "2026-02-28T23:59:00+08:00", None),  # the minute before the period
        ("v2-0", (V2, 0), at(1), "2026-03-25"),
        ("v2-1", (V2, 1), at(2), "2026-03-19"),            # overdue
        *((f"v2-{i}", (V2, i), at(1 + i), None) for i in range(2, 10)),
        ("v2-gone-household", (V2, 15), at(13), None),     # its household is deleted afterwards
        ("v2-14-deleted", (V2, 14), at(14), "2026-03-01"),
        ("bv-0", (BV, 0), at(5), "2026-03-01"),            # county B
    ]


DELETED_VISITS = ("v1-7-deleted", "v2-14-deleted")

# (photo key, visit key, taken far from the household?)
PHOTOS = [
    ("p1", "v1-0a", True), ("p2", "v1-0a", True),          # two flags, one flagged visit
    ("p3", "v1-4", True), ("p4", "g1-0", True), ("p5", "v1-5", False),
    ("p6", "v1-6", True), ("p7", "v1-6", False),           # p6 is deleted: v1-6 is not flagged
    ("p8", "v3-0", True), ("p9", "v3-enterprise", False), ("p10", "v2-0", True),
    ("p11", "v2-14-deleted", True), ("p12", "v1-11-after", True), ("p13", "bv-0", True),
]
DELETED_PHOTOS = ("p6",)

# visit key -> ruling; every other visit stays pending
REVIEWS = {"v1-2": "approved", "v1-3": "approved", "v1-4": "approved", "g1-0": "approved",
           "v1-5": "rejected", "v3-1": "returned", "v2-2": "approved", "v2-3": "approved"}


def hotspots_of(tree: Tree) -> list[tuple[str, str, str | None, list[str], list[str]]]:
    """(key, area, deadline, statuses it moves through, inspection days)."""
    closing = ["rectifying", "acceptance_requested", "closed"]
    return [
        ("h1", tree.V1, "2026-03-10", closing, [at(8)]),
        ("h2", tree.V1, "2026-03-15", closing, []),                 # closed without an inspection
        ("h3", tree.V1, "2026-03-17", ["rectifying"], []),          # overdue
        ("h4", tree.V1, "2026-03-20", [], []),                      # due today, not overdue
        ("h5", tree.V1, "2026-03-27", [], []),
        ("h6", tree.V1, None, [], []),
        ("h7", tree.V2, "2026-03-12", [*closing, "relapsed"], [at(10)]),  # relapsed, overdue
        ("h8", tree.V2, "2026-03-23", closing, [at(11)]),           # its only inspection is deleted
        ("h9", tree.V2, "2026-03-19", [], []),                      # deleted
        ("h10", V3, "2026-03-19", closing[:2], []),                 # awaiting acceptance, overdue
        ("h11", V3, None, closing, [at(5), at(9)]),
        ("h12", tree.BV, "2026-03-01", [], []),                     # county B
    ]


DELETED_HOTSPOTS = ("h9",)
DELETED_INSPECTIONS = ("h8",)  # the inspection of this hotspot


@dataclass
class Campaign:
    households: dict[tuple[str, int], str] = field(default_factory=dict)
    positions: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)
    visits: dict[str, str] = field(default_factory=dict)
    hotspots: dict[str, str] = field(default_factory=dict)


def push_all(client, dev: Device, mutations: list[dict[str, Any]]) -> dict[str, int]:
    """Push in batches; every mutation must apply. Record id -> its new version."""
    versions = {}
    for start in range(0, len(mutations), MAX_BATCH):
        result = push(client, dev.headers, dev.client_id, mutations[start:start + MAX_BATCH])
        for outcome in result["results"]:
            assert outcome["status"] == "applied", outcome
            versions[outcome["record_id"]] = outcome["version"]
    return versions


def add_areas(tree: Tree) -> None:
    for code, name, parent in ((V3, "三村", tree.T1), (V2B, "空村", tree.T2)):
        areas_service.create_area(actor=None, code=code, name=name, level="village", parent_code=parent)
    db.session.commit()


def write_visits(client, tree: Tree, supervisor: Device) -> Campaign:
    """Households, visits, photos, deletions and reviews."""
    campaign = Campaign()
    cadre_a = device("metrics-cadre-a", tree.A, "cadre")
    cadre_b = device("metrics-cadre-b", tree.B, "cadre")
    writer = {area: cadre_b if area == tree.BV else cadre_a for area in households_of(tree)}
    batches: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    for n, (area, count) in enumerate(households_of(tree).items()):
        for index in range(count):
            key, household_id = (area, index), new_id()
            campaign.households[key] = household_id
            campaign.positions[key] = (29.4 + n * 0.05 + index * 0.001, 119.9)
            dev = writer[area]
            batches["b" if dev is cadre_b else "a"].append(dev.mutation("household.upsert", household_id, {
                "area_code": area, "address": f"{area[-3:]}号{index}", "head_name": f"户主{index}",
                "lat": campaign.positions[key][0], "lon": campaign.positions[key][1]}))
    for key, household, visited_at, due in visits_of(tree):
        campaign.visits[key] = new_id()
        fields: dict[str, Any] = {"kind": "household", "visited_at": visited_at, "follow_up_due": due}
        if household is None:
            fields.update(kind="enterprise", area_code=V3)
        else:
            fields["household_id"] = campaign.households[household]
        dev = cadre_b if household and household[0] == tree.BV else cadre_a
        batches["b" if dev is cadre_b else "a"].append(dev.mutation("visit.upsert", campaign.visits[key], fields))
    push_all(client, cadre_a, batches["a"])
    push_all(client, cadre_b, batches["b"])

    households_by_visit = {key: household for key, household, _at, _due in visits_of(tree)}
    photo_ids = {}
    for key, visit_key, far in PHOTOS:
        household = households_by_visit[visit_key]
        lat, lon = campaign.positions[household] if household else (29.5, 119.95)
        photo_ids[key] = new_id()
        dev = cadre_b if visit_key.startswith("bv") else cadre_a
        push_all(client, dev, [dev.mutation("photo.attach", photo_ids[key], {
            "record_type": "visit", "record_id": campaign.visits[visit_key],
            "sha256": hashlib.sha256(key.encode()).hexdigest(), "bytes": 1000,
            "lat": lat + (FAR if far else 0), "lon": lon, "accuracy_m": 10})])

    push_all(client, cadre_a, [
        *(cadre_a.mutation("photo.delete", photo_ids[key]) for key in DELETED_PHOTOS),
        *(cadre_a.mutation("visit.delete", campaign.visits[key]) for key in DELETED_VISITS),
        cadre_a.mutation("household.delete", campaign.households[(tree.V2, 15)]),
    ])
    for key, ruling in REVIEWS.items():
        review(client, supervisor, "visits", campaign.visits[key], ruling)
    return campaign


def review(client, supervisor: Device, plural: str, record_id: str, ruling: str) -> None:
    etag = client.get(f"/api/{plural}/{record_id}", headers=supervisor.headers).headers["ETag"]
    response = client.post(f"/api/{plural}/{record_id}/review", headers={**supervisor.headers, "If-Match": etag},
                           json={"review_status": ruling, "review_comment": "督查"})
    assert response.status_code == 200, response.get_data(as_text=True)


def write_hotspots(client, tree: Tree, supervisor: Device, campaign: Campaign) -> None:
    """Hotspots moved along their lifecycle, with their inspections, and the deletions."""
    inspector_a = device("metrics-inspector-a", tree.A, "inspector")
    inspector_b = device("metrics-inspector-b", tree.B, "inspector")
    inspections: dict[str, list[str]] = {}
    for key, area, deadline, statuses, inspected in hotspots_of(tree):
        inspector = inspector_b if area == tree.BV else inspector_a
        hotspot_id = campaign.hotspots[key] = new_id()
        version = push_all(client, inspector, [inspector.mutation("hotspot.upsert", hotspot_id, {
            "area_code": area, "name": f"乱点{key}", "category": "market", "deadline": deadline})])[hotspot_id]
        inspections[key] = [new_id() for _ in inspected]
        push_all(client, inspector, [
            inspector.mutation("inspection.upsert", inspection_id, {
                "hotspot_id": hotspot_id, "inspected_at": when, "result": "rectified", "findings": "已整改"})
            for inspection_id, when in zip(inspections[key], inspected, strict=True)])
        for status in statuses:
            dev = supervisor if status == "closed" else inspector
            version = push_all(client, dev, [dev.mutation("hotspot.upsert", hotspot_id, {"status": status},
                                                          base_version=version)])[hotspot_id]
    push_all(client, inspector_a, [
        *(inspector_a.mutation("hotspot.delete", campaign.hotspots[key]) for key in DELETED_HOTSPOTS),
        *(inspector_a.mutation("inspection.delete", inspections[key][0]) for key in DELETED_INSPECTIONS),
    ])

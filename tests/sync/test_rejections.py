"""Mutations a server must refuse one by one: each rejected with a code naming the field, nothing written."""

from __future__ import annotations

import json

import pytest

from tests.sync.conftest import mutation, new_id, push, visit_fields, written

V1_CADRE_OUT_OF_SCOPE = "990102001001"  # BV, in county B

# (case id, mutation type, fields, expected error code, expected field)
CASES = [
    ("area-out-of-scope", "visit.upsert", visit_fields(area_code=V1_CADRE_OUT_OF_SCOPE), "scope", "area_code"),
    ("unknown-household", "visit.upsert", visit_fields(household_id=str(new_id())), "validation", "household_id"),
    ("latitude-91", "visit.upsert", visit_fields(lat=91), "validation", "lat"),
    ("summary-100-kb", "visit.upsert", visit_fields(summary="x" * 100_000), "validation", "summary"),
    ("unknown-field", "visit.upsert", visit_fields(colour="red"), "validation", "colour"),
    ("visited-at-a-number", "visit.upsert", visit_fields(visited_at=5), "validation", "visited_at"),
    ("visited-at-without-offset", "visit.upsert", visit_fields(visited_at="2026-11-20T09:30:00"), "validation",
     "visited_at"),
    ("satisfaction-a-word", "visit.upsert", visit_fields(satisfaction="five"), "validation", "satisfaction"),
    ("unknown-kind", "visit.upsert", visit_fields(kind="party"), "validation", "kind"),
    ("unknown-concern-category", "visit.upsert", visit_fields(concerns=[{"category": "aliens"}]), "validation",
     "concerns.0.category"),
    ("missing-visited-at", "visit.upsert", {k: v for k, v in visit_fields().items() if k != "visited_at"},
     "validation", "visited_at"),
    ("unknown-mutation-type", "visit.frobnicate", visit_fields(), "unknown_type", "type"),
    ("unknown-entity", "photo.upsert", visit_fields(), "unknown_type", "type"),
    ("fields-not-an-object", "visit.upsert", ["summary"], "validation", "fields"),
]


@pytest.mark.parametrize("type_, fields, code, field", [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_an_invalid_mutation_is_rejected_naming_the_field_and_writes_nothing(client, db, cadre, type_, fields,
                                                                             code, field):
    record_id = new_id()

    answered = push(client, cadre.headers, cadre.client_id, [mutation(1, type_, record_id, fields)])

    [result] = answered["results"]
    assert result["status"] == "rejected"
    assert (result["error"]["code"], result["error"]["field"]) == (code, field)
    assert field.split(".")[0] in result["error"]["message"]
    assert answered["last_mutation_id"] == 1  # the queue moves on
    assert written(db) == (0, 0, 0)
    assert client.get(f"/api/visits/{record_id}", headers=cadre.headers).status_code == 404


def test_a_nan_latitude_sent_as_json_text_is_rejected_naming_lat(client, db, cadre):
    record_id = new_id()
    text = json.dumps({"client_id": cadre.client_id,
                       "mutations": [mutation(1, "visit.upsert", record_id, visit_fields(lat=float("nan")))]})
    assert '"lat": NaN' in text

    response = client.post("/api/sync/push", headers=cadre.headers, data=text, content_type="application/json")

    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.get_json()["results"]
    assert result["status"] == "rejected"
    assert (result["error"]["code"], result["error"]["field"]) == ("validation", "lat")
    assert written(db) == (0, 0, 0)


@pytest.mark.parametrize("value", ["Infinity", "-Infinity"])
def test_an_infinite_longitude_is_rejected_naming_lon(client, db, cadre, value):
    text = json.dumps({"client_id": cadre.client_id,
                       "mutations": [mutation(1, "visit.upsert", new_id(), visit_fields(lon=0.5))]})
    text = text.replace('"lon": 0.5', f'"lon": {value}')

    response = client.post("/api/sync/push", headers=cadre.headers, data=text, content_type="application/json")

    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.get_json()["results"]
    assert (result["status"], result["error"]["field"]) == ("rejected", "lon")
    assert written(db) == (0, 0, 0)


def test_a_cadre_cannot_create_a_visit_under_an_unseen_record_id_type(client, db, cadre):
    """A record id that is no UUID is the mutation's own rejection, not a 422 of the whole push."""
    answered = push(client, cadre.headers, cadre.client_id,
                    [mutation(1, "visit.upsert", "not-a-uuid", visit_fields()),
                     mutation(2, "visit.upsert", new_id(), visit_fields())])

    assert [r["status"] for r in answered["results"]] == ["rejected", "applied"]
    assert (answered["results"][0]["error"]["code"], answered["results"][0]["error"]["field"]) == \
           ("validation", "record_id")
    assert written(db)[0] == 1

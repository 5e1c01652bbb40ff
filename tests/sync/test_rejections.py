"""Mutations a server must refuse one by one: each rejected with a code naming the field, nothing written."""

from __future__ import annotations

import json

import pytest

from tests.sync.conftest import mutation, new_id, push, visit_fields, written

BV = "990102001001"  # a village of county B, outside the V1 cadre's area

# (case id, mutation type, fields, expected error code, expected field)
CASES = [
    ("area-out-of-scope", "visit.upsert", visit_fields(area_code=BV), "scope", "area_code"),
    ("unknown-household", "visit.upsert", visit_fields(household_id=new_id()), "validation", "household_id"),
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
    ("summary-with-nul", "visit.upsert", visit_fields(summary="a\x00b"), "validation", "summary"),
    ("concern-with-nul", "visit.upsert", visit_fields(concerns=[{"category": "neighbourhood", "description": "\x00"}]),
     "validation", "concerns"),
    ("visited-at-before-year-1-in-utc", "visit.upsert", visit_fields(visited_at="0001-01-01T00:00:00+08:00"),
     "validation", "visited_at"),
    ("visited-at-after-9999-in-utc", "visit.upsert", visit_fields(visited_at="9999-12-31T23:00:00-05:00"),
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
    if code == "validation":
        assert field.split(".")[0] in result["error"]["message"]
    assert answered["last_mutation_id"] == 1  # the queue moves on
    assert written(db) == (0, 0, 0)
    assert client.get(f"/api/visits/{record_id}", headers=cadre.headers).status_code == 404


# JSON text Python's json.dumps cannot write from a valid value: (case id, placeholder -> text, field)
RAW_CASES = [
    ("latitude-nan", ("lat", "NaN"), "lat"),
    ("longitude-infinity", ("lon", "Infinity"), "lon"),
    ("longitude-minus-infinity", ("lon", "-Infinity"), "lon"),
    ("summary-lone-surrogate", ("summary", '"\\ud800"'), "summary"),
]


@pytest.mark.parametrize("replacement, field", [case[1:] for case in RAW_CASES], ids=[c[0] for c in RAW_CASES])
def test_a_value_sent_as_raw_json_text_is_rejected_naming_the_field(client, db, cadre, replacement, field):
    name, raw = replacement
    text = json.dumps({"client_id": cadre.client_id,
                       "mutations": [mutation(1, "visit.upsert", new_id(), visit_fields(**{name: "PLACEHOLDER"}))]})
    text = text.replace('"PLACEHOLDER"', raw)

    response = client.post("/api/sync/push", headers=cadre.headers, data=text, content_type="application/json")

    assert response.status_code == 200, response.get_data(as_text=True)
    [result] = response.get_json()["results"]
    assert result["status"] == "rejected"
    assert (result["error"]["code"], result["error"]["field"]) == ("validation", field)
    assert written(db) == (0, 0, 0)


def test_a_value_no_database_stores_does_not_block_the_queue(client, db, cadre):
    """A NUL fails PostgreSQL's flush: without its own rejection it would fail the whole push, forever."""
    ids = [new_id() for _ in range(3)]
    batch = [mutation(1, "visit.upsert", ids[0], visit_fields()),
             mutation(2, "visit.upsert", ids[1], visit_fields(summary="走访\x00记录")),
             mutation(3, "visit.upsert", ids[2], visit_fields())]

    answered = push(client, cadre.headers, cadre.client_id, batch)

    assert [r["status"] for r in answered["results"]] == ["applied", "rejected", "applied"]
    assert answered["last_mutation_id"] == 3
    assert written(db)[0] == 2


def test_a_record_id_that_is_no_uuid_is_rejected_and_the_batch_goes_on(client, db, cadre):
    """A record id that is no UUID is the mutation's own rejection, not a 422 of the whole push."""
    answered = push(client, cadre.headers, cadre.client_id,
                    [mutation(1, "visit.upsert", "not-a-uuid", visit_fields()),
                     mutation(2, "visit.upsert", new_id(), visit_fields())])

    assert [r["status"] for r in answered["results"]] == ["rejected", "applied"]
    assert (answered["results"][0]["error"]["code"], answered["results"][0]["error"]["field"]) == \
           ("validation", "record_id")
    assert written(db)[0] == 1

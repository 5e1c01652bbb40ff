"""A mutation's envelope (its keys, type, record id, base version, fields), pull cursors a
client never received, and the edge of the retention window.

A phone with an old or broken build can send any of these; each must be that mutation's own
rejection (naming what to fix) or a clear 400, and none may write or drop anything.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from backend.changes.models import Change
from backend.models_base import utcnow
from backend.sync import service as sync_service
from backend.sync.models import SyncResult
from tests.sync.conftest import count, mutation, new_id, pull, push, visit_fields, written


def _envelope(**changes) -> dict:
    """A valid visit.upsert with some of its envelope replaced (None: the key left out)."""
    body = mutation(1, "visit.upsert", new_id(), visit_fields())
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


# (case id, envelope changes, error code, field the error names, words its message must hold)
ENVELOPES = [
    ("an-unknown-key", {"colour": "red"}, "validation", "colour", "colour"),
    ("two-unknown-keys-name-the-first", {"zeta": 1, "alpha": 2}, "validation", "alpha", "alpha, zeta"),
    ("no-type", {"type": None}, "unknown_type", "type", "visit.upsert"),
    ("a-type-without-operation", {"type": "visit"}, "unknown_type", "type", "'visit'"),
    ("a-type-that-is-a-number", {"type": 7}, "unknown_type", "type", "7"),
    ("no-record-id", {"record_id": None}, "validation", "record_id", "UUID"),
    ("a-record-id-that-is-a-number", {"record_id": 12}, "validation", "record_id", "UUID"),
    ("a-negative-base-version", {"base_version": -1}, "validation", "base_version", "whole number"),
    ("a-base-version-in-words", {"base_version": "1"}, "validation", "base_version", "whole number"),
    ("a-base-version-that-is-true", {"base_version": True}, "validation", "base_version", "whole number"),
    ("a-fractional-base-version", {"base_version": 1.5}, "validation", "base_version", "whole number"),
    ("an-upsert-without-fields", {"fields": None}, "validation", "fields", "upsert needs fields"),
    ("fields-as-a-string", {"fields": "summary"}, "validation", "fields", "object"),
]


@pytest.mark.parametrize("changes, code, field, words", [case[1:] for case in ENVELOPES],
                         ids=[case[0] for case in ENVELOPES])
def test_a_malformed_envelope_is_its_own_rejection_naming_what_to_fix(client, db, cadre, changes, code, field,
                                                                      words):
    sent = _envelope(**changes)
    good = mutation(2, "visit.upsert", new_id(), visit_fields())

    answered = push(client, cadre.headers, cadre.client_id, [sent, good])

    bad, fine = answered["results"]
    assert (bad["id"], bad["status"], bad["version"]) == (1, "rejected", None)
    assert (bad["error"]["code"], bad["error"]["field"]) == (code, field)
    assert words in bad["error"]["message"]
    assert fine["status"] == "applied"
    assert answered["last_mutation_id"] == 2
    assert written(db)[0] == 1  # only the good one


def test_a_rejected_envelope_echoes_the_record_id_it_was_sent_with(client, db, cadre):
    """The phone matches a result to its queued record by id: a rejection must carry it back."""
    record_id = new_id()

    [result] = push(client, cadre.headers, cadre.client_id,
                    [_envelope(record_id=record_id, base_version=-3)])["results"]

    assert result["record_id"] == record_id


def test_a_delete_needs_no_fields_and_a_base_version_of_zero_is_accepted(client, db, cadre):
    record_id = new_id()
    created = push(client, cadre.headers, cadre.client_id,
                   [mutation(1, "visit.upsert", record_id, visit_fields(), base_version=0)])["results"][0]
    assert created["status"] == "applied"

    deleted = push(client, cadre.headers, cadre.client_id,
                   [mutation(2, "visit.delete", record_id, base_version=created["version"])])["results"][0]

    assert (deleted["status"], deleted["record_id"]) == ("applied", record_id)
    assert client.get(f"/api/visits/{record_id}", headers=cadre.headers).status_code == 404


def test_a_rejection_lists_every_type_the_server_accepts(client, db, cadre):
    [result] = push(client, cadre.headers, cadre.client_id, [_envelope(type="visit.frobnicate")])["results"]

    message = result["error"]["message"]
    for accepted in ("household.upsert", "visit.upsert", "visit.delete", "hotspot.upsert", "inspection.delete",
                     "photo.attach", "photo.delete"):
        assert accepted in message


# --- pull cursors ------------------------------------------------------------------------

def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("text", ["-1.0.990101001001", "1.-1.990101001001", f"{2**63}.0.x", f"0.{2**63}.x",
                                  "one.0.x", ".", "1.x.990101001001"],
                         ids=["negative-seq", "negative-pruned", "seq-past-bigint", "pruned-past-bigint",
                              "seq-in-words", "dots-only", "pruned-in-words"])
def test_a_cursor_this_server_never_gave_out_is_refused_with_start_again(client, db, cadre, text):
    response = client.get("/api/sync/pull", headers=cadre.headers,
                          query_string={"client_id": cadre.client_id, "cursor": _cursor(text)})

    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert "start again without it" in body["message"]
    assert body["errors"] == {"query": {"cursor": ["Invalid cursor."]}}


def test_the_largest_cursor_a_bigint_holds_is_accepted(client, db, cadre):
    limit = 2**63 - 1
    answered = pull(client, cadre.headers, cadre.client_id, cursor=_cursor(f"{limit}.{limit}.{cadre.user.area_code}"))

    assert (answered["reset"], answered["has_more"]) == (False, False)


def test_a_cursor_from_before_cursors_held_an_area_goes_on_without_a_reset(client, db, cadre):
    """Cursors once held only the sequence: a phone that kept one must not rebuild its mirror."""
    first = push(client, cadre.headers, cadre.client_id, [mutation(1, "visit.upsert", new_id(), visit_fields())])
    assert first["results"][0]["status"] == "applied"
    seq = db.session.query(Change.seq).scalar()
    second_id = new_id()
    push(client, cadre.headers, cadre.client_id, [mutation(2, "visit.upsert", second_id, visit_fields())])

    answered = pull(client, cadre.headers, cadre.client_id, cursor=_cursor(str(seq)))

    assert answered["reset"] is False
    assert [record["id"] for record in answered["changes"]["visits"]["upserted"]] == [second_id]


# --- the retention window's edge --------------------------------------------------------

def test_prune_keeps_a_stored_result_exactly_at_the_edge_and_drops_one_a_second_older(client, db, cadre):
    """A phone retrying within the window gets its stored answer; only older results go."""
    push(client, cadre.headers, cadre.client_id,
         [mutation(1, "visit.upsert", new_id(), visit_fields()), mutation(2, "visit.upsert", new_id(), visit_fields())])
    edge = utcnow() - timedelta(days=30)
    results = {row.mutation_id: row for row in db.session.query(SyncResult)}
    results[1].at = edge
    results[2].at = edge - timedelta(seconds=1)
    db.session.commit()

    sync_service.prune(older_than=edge)
    db.session.commit()

    assert {row.mutation_id for row in db.session.query(SyncResult)} == {1}
    assert count(db, Change) == 2  # live records' only changes are never pruned

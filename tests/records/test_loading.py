"""The write path's compiled validator answers exactly as marshmallow does.

``clean`` loads every mutation's fields through ``Kind.load`` (records/loading.py), a
compiled form of the kind's schema that hands anything it is not sure of to marshmallow.
Whatever a phone sends, the result must be marshmallow's: the same cleaned fields, or the
same error messages for the same fields.
"""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma
import pytest
import webargs.core
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.evidence import service as _photos  # noqa: F401  (each room registers its kind)
from backend.hotspots import service as _hotspots  # noqa: F401
from backend.households import service as _households  # noqa: F401
from backend.records import kinds
from backend.sync.schemas import PushSchema
from backend.visits import service as _visits  # noqa: F401
from tests.sync.conftest import cadre, mutation, new_id, push, visit_fields  # noqa: F401

ODD_NUMBERS = [0, -1, 2**70, 1.5, -0.0, 1e308, 1e309, math.inf, -math.inf, math.nan, True, False, 91, 181, -5, 5]
ODD_TEXT = ["", "x", "x" * 4001, "2026-11-20T09:30:00+08:00", "2026-11-20T09:30:00", "2026-11-20",
            "0001-01-01T00:00+01:00",
            "018f0c5e-8a4b-7cc0-9d2a-4d5e6f708192", "990101001001", "99010100100", "household", "neighbourhood", "1",
            "1.5", "nan", "真"]
scalars = st.one_of(st.sampled_from([None, *ODD_NUMBERS, *ODD_TEXT]), st.text(max_size=5), st.integers(), st.floats())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["category", "description", "other"]), inner, max_size=3)), max_leaves=6)


def answer(load, data: Any) -> tuple[str, Any]:
    try:
        return "loaded", load(data)
    except ma.ValidationError as exc:
        return "error", exc.messages


def same(left: Any, right: Any) -> bool:
    """Equal, counting NaN equal to NaN (a Raw field passes it through)."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
        return True
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


@pytest.mark.parametrize("name", [kind.name for kind in kinds.all_kinds()])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_compiled_loader_answers_every_body_as_marshmallow_does(name, data):
    kind = kinds.get(name)
    keys = st.sampled_from([*kind.loader.load_fields, "unknown_key"])
    # Few keys at a time: one field the fast path gets wrong must not hide behind another's error.
    fields = data.draw(st.dictionaries(keys, values, max_size=3))
    compiled, reference = answer(kind.load, fields), answer(kind.loader.load, fields)
    assert compiled[0] == reference[0], (fields, compiled, reference)
    assert same(compiled[1], reference[1]), (fields, compiled, reference)


ODD_VALUES = [None, *ODD_NUMBERS, *ODD_TEXT, [], [None], [{}], [{"category": "neighbourhood"}],
              [{"category": "neighbourhood", "description": 5}], [{"category": "x", "other": 1}], {}, {"a": 1}]


@pytest.mark.parametrize("name", [kind.name for kind in kinds.all_kinds()])
def test_each_field_of_each_kind_answers_each_odd_value_as_marshmallow_does(name):
    kind = kinds.get(name)
    for key in [*kind.loader.load_fields, "unknown_key"]:
        for value in ODD_VALUES:
            compiled, reference = answer(kind.load, {key: value}), answer(kind.loader.load, {key: value})
            assert compiled[0] == reference[0] and same(compiled[1], reference[1]), (key, value, compiled, reference)


def test_a_valid_visit_is_loaded_without_marshmallow_with_what_marshmallow_returns(monkeypatch):
    kind = kinds.get("visit")
    fields = visit_fields()
    expected = kind.loader.load(fields)

    def refuse(*_args, **_kwargs):
        raise AssertionError("the compiled loader fell back to marshmallow for a valid body")

    monkeypatch.setattr(kind.loader, "load", refuse)
    assert kind.load(fields) == expected
    assert list(kind.load(fields)) == list(expected)  # the same order: field_versions and audit follow it


@settings(max_examples=200, deadline=None)
@given(mutations=st.lists(st.dictionaries(st.sampled_from(["id", "type", "record_id", "base_version", "fields", "x"]),
                                          values, max_size=6), max_size=4) | values)
def test_a_push_envelope_loads_as_marshmallow_would(mutations):
    body = {"client_id": "018f0c5e-8a4b-7cc0-9d2a-4d5e6f708192", "mutations": mutations}
    compiled = answer(PushSchema().load, body)
    field = ma.fields.List(ma.fields.Nested(PushSchema._declared_fields["mutations"].inner.nested))
    reference = answer(ma.Schema.from_dict({"client_id": ma.fields.UUID(required=True),
                                            "mutations": field})().load, body)
    assert compiled[0] == reference[0], (body, compiled, reference)
    assert same(compiled[1], reference[1]), (body, compiled, reference)


def test_a_push_body_is_parsed_once(client, cadre, monkeypatch):  # noqa: F811
    # json_body.py parses and checks the body; the push's arguments are loaded from that document.
    def second_parse(*_args, **_kwargs):
        raise AssertionError("webargs parsed the body again")

    monkeypatch.setattr(webargs.core, "parse_json", second_parse)
    answer = push(client, cadre.headers, new_id(), [mutation(1, "visit.upsert", new_id(), visit_fields())])
    assert answer["results"][0]["status"] == "applied", answer

"""Which 统计用区划代码 an area of each level may have: scope is a code prefix, so a code in the
wrong block would put an area, and everything recorded in it, outside its parent's subtree.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.areas.service import code_problem

COUNTY = SimpleNamespace(code="990101000000", level="county")
TOWNSHIP = SimpleNamespace(code="990101001000", level="township")
VILLAGE = SimpleNamespace(code="990101001001", level="village")


@pytest.mark.parametrize(("code", "level", "parent"), [
    ("990101000000", "county", None),
    ("990101001000", "township", COUNTY),
    ("990101001001", "village", TOWNSHIP),
    ("990101001901", "grid", VILLAGE),   # a grid numbered in its township's block
])
def test_a_code_in_its_parents_block_is_fine(code, level, parent):
    assert code_problem(code, level, parent) is None


@pytest.mark.parametrize(("code", "level", "parent", "problem"), [
    ("99010100100", "village", TOWNSHIP, "code '99010100100' must be 12 digits"),
    ("99010100100a", "village", TOWNSHIP, "code '99010100100a' must be 12 digits"),
    ("990101001001", "town", TOWNSHIP, "level 'town' must be one of county, township, village, grid"),
    ("990101000000", "county", COUNTY, "a county has no parent in this system; leave parent_code empty"),
    ("990101001000", "county", None, "county code 990101001000 must look like PPCCXX000000"),
    ("990101000001", "county", None, "county code 990101000001 must look like PPCCXX000000"),
    ("990100000000", "county", None, "county code 990100000000 must look like PPCCXX000000"),
    ("990101001000", "township", None, "a township needs a parent county"),
    ("990101001001", "village", COUNTY, "a village's parent must be a township, but 990101000000 is a county"),
    ("990102001000", "township", COUNTY, "township code 990102001000 must be 990101TTT000 with TTT not 000"),
    ("990101000000", "township", COUNTY, "township code 990101000000 must be 990101TTT000 with TTT not 000"),
    ("990101001001", "township", COUNTY, "township code 990101001001 must be 990101TTT000 with TTT not 000"),
    ("990101002001", "village", TOWNSHIP, "village code 990101002001 must start with 990101001 and not end in 000"),
    ("990101001000", "village", TOWNSHIP, "village code 990101001000 must start with 990101001 and not end in 000"),
    ("990101002901", "grid", VILLAGE, "grid code 990101002901 must start with 990101001 and not end in 000"),
    ("990101001000", "grid", VILLAGE, "grid code 990101001000 must start with 990101001 and not end in 000"),
])
def test_a_code_outside_its_parents_block_is_refused_saying_why(code, level, parent, problem):
    assert code_problem(code, level, parent) == problem

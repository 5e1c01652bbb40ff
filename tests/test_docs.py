"""The README's configuration table is the list of settings the app reads."""

from __future__ import annotations

import re
from pathlib import Path

from backend.config import PREFIX, SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def test_readme_documents_every_setting_and_no_other():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(ZOUFANG_[A-Z0-9_]+)` \|", readme, re.MULTILINE))
    assert documented == {PREFIX + setting.name for setting in SETTINGS}


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make run" in first_block and "make test" in first_block

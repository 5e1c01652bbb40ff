"""The docs hold to the code: the README's configuration table is the list of settings the app reads,
and every test docs/security.md names as the proof of a rule exists."""

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


def named_tests(text: str) -> list[tuple[str, str]]:
    """(file, test name) for every test a document names as `path.py::name`, `::name` going on
    from the file named before it in the same table cell; a name may end in `*` (tests so
    named) or be `*` (every test of the file)."""
    found = []
    for cell in re.split(r"\s\|\s", text):
        current = None
        for path, name in re.findall(r"`((?:[\w/]+\.py)?)::([\w*]+)", cell):
            current = path or current
            found.append((current, name))
    return found


def test_every_test_the_security_rules_name_exists():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = named_tests(text)
    assert len(named) > 80
    missing = []
    for path, name in named:
        source = ROOT / "tests" / path if path else None
        pattern = rf"^def {name.rstrip('*')}\w*\(" if name.endswith("*") else rf"^def {name}\("
        if source is None or not source.is_file() or not re.search(pattern, source.read_text(), re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert not missing, f"docs/security.md names tests that do not exist: {missing}"
    for script in re.findall(r"`([\w-]+\.test\.js)`", text):
        assert (ROOT / "pwa" / "tests" / script).is_file(), script

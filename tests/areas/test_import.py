"""zoufang areas import: real county data, idempotence, all-or-nothing errors with line numbers."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from backend.areas.models import Area
from backend.audit.models import AuditEvent
from tests.conftest import FIXTURES

PUJIANG = FIXTURES / "divisions" / "pujiang.csv"


def needs_pujiang(test):
    """Reads the Pujiang area list from the shared fixtures: skipped without it, except in CI."""
    return pytest.mark.fixtures(pytest.mark.skipif(not PUJIANG.is_file(), reason=f"{PUJIANG} absent")(test))


def area_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Area))


def write_csv(tmp_path, text: str, name="areas.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@needs_pujiang
def test_pujiang_imports_its_county_townships_and_villages(cli, db):
    result = cli.invoke(args=["areas", "import", str(PUJIANG)])
    assert result.exit_code == 0, result.output
    assert "260 created" in result.output
    levels = Counter(db.session.scalars(select(Area.level)))
    assert levels == {"county": 1, "township": 15, "village": 244}
    village = db.session.get(Area, "330726001001")
    assert (village.name, village.parent_code) == ("文溪居委会", "330726001000")
    assert village.path == "/330726000000/330726001000/330726001001/"


@needs_pujiang
def test_a_second_import_changes_nothing(cli, db):
    cli.invoke(args=["areas", "import", str(PUJIANG)])
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    result = cli.invoke(args=["areas", "import", str(PUJIANG)])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 renamed, 260 unchanged" in result.output
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events


@needs_pujiang
def test_a_broken_copy_of_pujiang_imports_nothing_and_names_the_line(cli, db, tmp_path):
    lines = PUJIANG.read_text(encoding="utf-8").splitlines()
    lines[100] = lines[100].replace(lines[100].split(",")[3], "330726999000")  # unknown parent
    broken = write_csv(tmp_path, "\n".join(lines) + "\n")
    result = cli.invoke(args=["areas", "import", str(broken)])
    assert result.exit_code != 0
    assert "line 101: parent 330726999000 is neither in the file nor in the database" in result.output
    assert area_count(db) == 0


@pytest.mark.parametrize("text, message", [
    ("code,name,level,parent_code\n990101000000,示范县,county,\n990101001000,城关,township,990101000000\n"
     "99010100100,短码,village,990101001000\n", "line 4: code '99010100100' must be 12 digits"),
    ("code,name,level,parent_code\n990101000000,示范县,county,\n990101001001,村,village,990101000000\n",
     "line 3: a village's parent must be a township"),
    ("code,name,level,parent_code\n990101000000,示范县,county,\n990101001000,镇,township,990101000000\n"
     "990102001001,错村,village,990101001000\n", "line 4: village code 990102001001 must start with 990101001"),
    ("code,name,level,parent_code\n990101000000,示范县,county,\n990101001000,镇,town,990101000000\n",
     "line 3: level 'town' must be one of"),
    ("code,name,level,parent_code\n990101000000,示范县,county,\n990101000000,又一县,county,\n",
     "line 3: code 990101000000 already appears on line 2"),
    ("code,name,level,parent_code\n990101000000,示范县,county\n", "line 2: expected 4 columns, found 3"),
    ("code,name,level\n990101000000,示范县,county\n", "line 1: the header must be code,name,level,parent_code"),
    ("code,name,level,parent_code\n990101000000,,county,\n", "line 2: name is empty"),
])
def test_bad_files_import_nothing_and_name_the_line(cli, db, tmp_path, text, message):
    result = cli.invoke(args=["areas", "import", str(write_csv(tmp_path, text))])
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was imported" in result.output
    assert area_count(db) == 0


def test_parents_may_follow_children_and_a_bom_is_fine(cli, db, tmp_path):
    text = ("\ufeffcode,name,level,parent_code\n990101001001,南门社区,village,990101001000\n"
            "990101001000,城关街道,township,990101000000\n990101000000,示范县,county,\n")
    result = cli.invoke(args=["areas", "import", str(write_csv(tmp_path, text))])
    assert result.exit_code == 0, result.output
    assert db.session.get(Area, "990101001001").path == "/990101000000/990101001000/990101001001/"


def test_renames_are_applied_and_moves_refused(cli, db, tmp_path):
    base = "code,name,level,parent_code\n990101000000,示范县,county,\n990101001000,城关街道,township,990101000000\n"
    cli.invoke(args=["areas", "import", str(write_csv(tmp_path, base))])
    renamed = cli.invoke(args=["areas", "import", str(write_csv(tmp_path, base.replace("城关街道", "城关镇")))])
    assert "0 created, 1 renamed, 1 unchanged" in renamed.output
    assert db.session.get(Area, "990101001000").name == "城关镇"
    moved = base + "990102000000,乙县,county,\n990101002000,镇,township,990102000000\n"
    result = cli.invoke(args=["areas", "import", str(write_csv(tmp_path, moved))])
    assert result.exit_code == 1
    assert "line 5: township code 990101002000 must be 990102TTT000" in result.output


def test_a_file_that_is_not_utf8_is_refused(cli, db, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("code,name,level,parent_code\n990101000000,示范县,county,\n".encode("gbk"))
    result = cli.invoke(args=["areas", "import", str(path)])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
    assert area_count(db) == 0

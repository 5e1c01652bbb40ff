"""Each flag setting moves its flag at its threshold, and positions that are no position are none.

``flags.compute`` is checked a hair either side of each limit (and exactly at it: the
README says "farther than", "this far", "at most"), then each setting once through the app,
where a supervisor would notice it: the photo's flags. EXIF GPS at 0,0 is what a camera
without a fix writes, and an ICC colour profile must reach the copies a supervisor sees.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from geopy.distance import geodesic
from PIL import Image, ImageCms, ImageOps
from sqlalchemy import update

from backend.evidence import flags, pipeline
from backend.evidence.models import Photo
from tests.evidence.conftest import generated_jpeg, gps_exif, new_visit
from tests.evidence.test_flags import HOME, at, away, household_visit, stored
from tests.sync.conftest import cadre  # noqa: F401

LIMITS = flags.Limits(exif_device_m=200, target_m=300, time_minutes=120, older_hours=24, timezone="Asia/Shanghai")
RECORD_TIME = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
EPSILON_M = 0.5        # distances are rounded to 0.1 m
EPSILON_MINUTES = 0.5  # time gaps are rounded to 0.1 minute


def shot(**fields: Any) -> SimpleNamespace:
    """A stored photo as ``compute`` reads it: nothing known unless given."""
    return SimpleNamespace(**{"status": "stored", "exif_lat": None, "exif_lon": None, "lat": None, "lon": None,
                              "accuracy_m": None, "exif_taken_at": None, "software": None, **fields})


def compute(photo_: SimpleNamespace, **context: Any) -> dict[str, Any]:
    return flags.compute(photo_, flags.Context(**context), LIMITS)


def exif_at(position: tuple[float, float]) -> dict[str, float]:
    return {"exif_lat": position[0], "exif_lon": position[1]}


def fix_at(position: tuple[float, float], accuracy_m: float | None = 10) -> dict[str, float | None]:
    return {"lat": position[0], "lon": position[1], "accuracy_m": accuracy_m}


def taken(minutes_before_record: float) -> str:
    return (RECORD_TIME - timedelta(minutes=minutes_before_record)).isoformat()


# --- distance: exif_far_from_device ---------------------------------------------------

@pytest.mark.parametrize(("metres", "flagged"), [(200 - EPSILON_M, False), (200, False), (200 + EPSILON_M, True)])
def test_exif_far_from_device_turns_on_just_past_its_limit(metres, flagged):
    found = compute(shot(**exif_at(HOME), **fix_at(away(HOME, metres, bearing=90))))
    assert ("exif_far_from_device" in found) is flagged
    if flagged:
        assert found["exif_far_from_device"] == {"distance_m": pytest.approx(metres, abs=0.1), "limit_m": 200,
                                                 "device_accuracy_m": 10}


@pytest.mark.parametrize(("metres", "flagged"), [(400 - EPSILON_M, False), (400, False), (400 + EPSILON_M, True)])
def test_a_fix_of_150_m_accuracy_moves_the_exif_limit_to_300_m(metres, flagged):
    found = compute(shot(**exif_at(HOME), **fix_at(away(HOME, metres, bearing=90), accuracy_m=200)))
    assert ("exif_far_from_device" in found) is flagged
    if flagged:
        assert found["exif_far_from_device"]["limit_m"] == 400


def test_a_fix_without_accuracy_keeps_the_configured_limit():
    found = compute(shot(**exif_at(HOME), **fix_at(away(HOME, 250, bearing=90), accuracy_m=None)))
    assert found["exif_far_from_device"]["limit_m"] == 200
    # Even the smallest setting: an unknown accuracy adds nothing to it.
    one_metre = flags.Limits(exif_device_m=1, target_m=300, time_minutes=120, older_hours=24, timezone="UTC")
    found = flags.compute(shot(**exif_at(HOME), **fix_at(away(HOME, 1.5, bearing=90), accuracy_m=None)),
                          flags.Context(), one_metre)
    assert found["exif_far_from_device"]["limit_m"] == 1


def test_distances_are_reported_to_the_decimetre():
    fix = away(HOME, 250.123, bearing=90)
    found = compute(shot(**exif_at(HOME), **fix_at(fix)))
    assert found["exif_far_from_device"]["distance_m"] == round(geodesic(HOME, fix).meters, 1)
    assert flags.distance_m(HOME, fix) == round(geodesic(HOME, fix).meters, 1)


def test_half_a_device_fix_is_no_fix():
    for half in ({"lat": HOME[0] + 0.1, "lon": None}, {"lat": None, "lon": HOME[1] + 0.1}):
        assert compute(shot(**exif_at(HOME), **half), target=HOME, target_kind="household") == {}


def test_no_fix_or_no_exif_position_is_never_far_from_the_device():
    assert "exif_far_from_device" not in compute(shot(**exif_at(HOME)))
    assert "exif_far_from_device" not in compute(shot(**fix_at(away(HOME, 5000))))


# --- distance: far_from_target --------------------------------------------------------

@pytest.mark.parametrize("source", ["exif", "device"])
@pytest.mark.parametrize(("metres", "flagged"), [(300 - EPSILON_M, False), (300, False), (300 + EPSILON_M, True)])
def test_far_from_target_turns_on_just_past_its_limit(source, metres, flagged):
    position = away(HOME, metres, bearing=200)
    where = exif_at(position) if source == "exif" else fix_at(position)
    found = compute(shot(**where), target=HOME, target_kind="hotspot")
    assert ("far_from_target" in found) is flagged
    if flagged:
        assert found["far_from_target"] == {f"{source}_distance_m": pytest.approx(metres, abs=0.1),
                                            "limit_m": 300, "target": "hotspot"}


def test_one_far_position_is_enough_and_both_distances_are_given():
    found = compute(shot(**exif_at(away(HOME, 10)), **fix_at(away(HOME, 301, bearing=90))), target=HOME,
                    target_kind="household")
    assert found["far_from_target"]["exif_distance_m"] == pytest.approx(10, abs=0.1)
    assert found["far_from_target"]["device_distance_m"] == pytest.approx(301, abs=0.1)


def test_without_a_target_nothing_is_far_from_it():
    assert "far_from_target" not in compute(shot(**exif_at(away(HOME, 5000))))


# --- time: time_mismatch and older_than_record ------------------------------------------

@pytest.mark.parametrize("direction", [1, -1], ids=["taken-before", "taken-after"])
@pytest.mark.parametrize(("minutes", "flagged"), [(120 - EPSILON_MINUTES, False), (120, False),
                                                  (120 + EPSILON_MINUTES, True)])
def test_time_mismatch_turns_on_just_past_its_window_either_way(direction, minutes, flagged):
    found = compute(shot(exif_taken_at=taken(direction * minutes)), record_time=RECORD_TIME)
    assert ("time_mismatch" in found) is flagged
    if flagged:
        assert found["time_mismatch"] == {"gap_minutes": pytest.approx(direction * minutes),
                                          "limit_minutes": 120}


@pytest.mark.parametrize(("hours", "flagged"), [(24 - EPSILON_MINUTES / 60, False), (24, False),
                                                (24 + EPSILON_MINUTES / 60, True)])
def test_older_than_record_turns_on_just_past_its_limit(hours, flagged):
    found = compute(shot(exif_taken_at=taken(hours * 60)), record_time=RECORD_TIME)
    assert ("older_than_record" in found) is flagged
    if flagged:
        assert found["older_than_record"] == {"gap_minutes": pytest.approx(hours * 60), "limit_minutes": 1440}


def test_time_gaps_are_reported_to_a_tenth_of_a_minute():
    # 3 hours and 1 second: 180.0166… minutes.
    found = compute(shot(**exif_at(HOME), exif_taken_at=(RECORD_TIME - timedelta(hours=3, seconds=1)).isoformat()),
                    record_time=RECORD_TIME)
    assert found["time_mismatch"]["gap_minutes"] == 180.0
    assert "older_than_record" not in found  # 3 hours is not 24


def test_a_photo_taken_a_day_after_the_record_is_a_mismatch_but_not_older():
    found = compute(shot(**exif_at(HOME), exif_taken_at=taken(-25 * 60)), record_time=RECORD_TIME)
    assert set(found) == {"time_mismatch"}


def test_an_exif_time_without_offset_is_read_in_the_county_zone():
    # 17:30 in Shanghai is 09:30 UTC, the record's time: no gap. Read as UTC it would be 8 hours.
    assert compute(shot(**exif_at(HOME), exif_taken_at="2026-11-20T17:30:00"), record_time=RECORD_TIME) == {}
    assert flags.exif_time("2026-11-20T17:30:00", "Asia/Shanghai") == RECORD_TIME


def test_an_unreadable_exif_time_is_no_time():
    assert flags.exif_time("2026:11:20 25:00:00", "Asia/Shanghai") is None
    assert compute(shot(**exif_at(HOME), exif_taken_at="not a time"), record_time=RECORD_TIME) == {}


# --- the other flags ----------------------------------------------------------------------

def test_no_exif_gps_waits_for_the_bytes():
    assert compute(shot()) == {"no_exif_gps": {}}
    assert compute(shot(status="pending")) == {}


def test_reused_near_duplicate_and_edited_carry_what_the_service_found():
    also_on = [{"photo_id": str(uuid.uuid4())}]
    found = compute(shot(**exif_at(HOME), software="Snapseed 2.0"), reused_on=also_on, near=also_on)
    assert found == {"reused": {"also_on": also_on}, "near_duplicate": {"photos": also_on},
                     "edited": {"software": "Snapseed 2.0"}}
    assert "edited" not in compute(shot(**exif_at(HOME), software="MIUI Camera"))


def test_limits_come_from_the_flag_settings():
    config = {"FLAG_EXIF_DEVICE_M": 11, "FLAG_TARGET_M": 22, "FLAG_TIME_MINUTES": 33, "FLAG_OLDER_HOURS": 44,
              "TIMEZONE": "Asia/Urumqi", "FLAG_NEAR_DUPLICATE_BITS": 5, "FLAG_NEAR_DUPLICATE_DAYS": 6}
    assert flags.Limits.from_config(config) == flags.Limits(exif_device_m=11, target_m=22, time_minutes=33,
                                                            older_hours=44, timezone="Asia/Urumqi")


def test_hamming_counts_differing_bits():
    assert flags.hamming("ff00", "ff01") == 1
    assert flags.hamming("0000", "ffff") == 16
    assert flags.hamming("abcd", "abcd") == 0


# --- each setting through the app -------------------------------------------------------

def test_the_target_setting_moves_far_from_target(client, cadre, app, monkeypatch):  # noqa: F811
    _household, visit_id = household_visit(client, cadre)
    position = away(HOME, 500, bearing=30)
    monkeypatch.setitem(app.config, "FLAG_TARGET_M", 600)
    assert "far_from_target" not in stored(client, cadre, visit_id, at(position, seed=11))["flags"]
    monkeypatch.setitem(app.config, "FLAG_TARGET_M", 400)
    found = stored(client, cadre, visit_id, at(position, seed=12))["flags"]["far_from_target"]
    assert (found["limit_m"], found["exif_distance_m"]) == (400, pytest.approx(500, abs=1))


def test_the_exif_device_setting_moves_exif_far_from_device(client, cadre, app, monkeypatch):  # noqa: F811
    visit_id = new_visit(client, cadre)
    fix = away(HOME, 500, bearing=90)
    monkeypatch.setitem(app.config, "FLAG_EXIF_DEVICE_M", 600)
    assert stored(client, cadre, visit_id, at(HOME, seed=13), lat=fix[0], lon=fix[1], accuracy_m=5)["flags"] == {}
    monkeypatch.setitem(app.config, "FLAG_EXIF_DEVICE_M", 400)
    found = stored(client, cadre, visit_id, at(HOME, seed=14), lat=fix[0], lon=fix[1], accuracy_m=5)["flags"]
    assert found["exif_far_from_device"]["limit_m"] == 400


def test_the_time_settings_move_time_mismatch_and_older_than_record(client, cadre, app, monkeypatch):  # noqa: F811
    visit_id = new_visit(client, cadre)  # visited 2026-11-20 09:30 +08:00
    three_hours_before = "2026:11:20 06:30:00"
    monkeypatch.setitem(app.config, "FLAG_TIME_MINUTES", 240)
    monkeypatch.setitem(app.config, "FLAG_OLDER_HOURS", 4)
    assert stored(client, cadre, visit_id, at(HOME, seed=15, taken=three_hours_before))["flags"] == {}
    monkeypatch.setitem(app.config, "FLAG_TIME_MINUTES", 150)
    monkeypatch.setitem(app.config, "FLAG_OLDER_HOURS", 2)
    found = stored(client, cadre, visit_id, at(HOME, seed=16, taken=three_hours_before))["flags"]
    assert found["time_mismatch"] == {"gap_minutes": 180, "limit_minutes": 150}
    assert found["older_than_record"] == {"gap_minutes": 180, "limit_minutes": 120}


def retouched(seed: int) -> tuple[bytes, bytes, int]:
    """A phone photo and the same scene mirrored at one edge: two files a few hash bits apart."""
    original = generated_jpeg(seed=seed)
    image = Image.open(io.BytesIO(original))
    strip = image.crop((0, 0, 48, image.height))
    image.paste(ImageOps.mirror(strip), (0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    copy = out.getvalue()
    a, b = (pipeline.describe(data, max_bytes=1 << 25, max_pixels=60_000_000).phash for data in (original, copy))
    return original, copy, flags.hamming(a, b)


def test_the_near_duplicate_bits_setting_is_the_largest_distance_flagged(client, cadre, app,  # noqa: F811
                                                                         monkeypatch):
    original, copy, bits = retouched(seed=21)
    assert 0 < bits <= 8, bits
    first = stored(client, cadre, new_visit(client, cadre), original)
    monkeypatch.setitem(app.config, "FLAG_NEAR_DUPLICATE_BITS", bits - 1)
    assert "near_duplicate" not in stored(client, cadre, new_visit(client, cadre), copy)["flags"]

    # The same copy once more: the earlier copy is the same bytes ("reused", never a near
    # duplicate of itself), so only the original can be named.
    monkeypatch.setitem(app.config, "FLAG_NEAR_DUPLICATE_BITS", bits)
    found = stored(client, cadre, new_visit(client, cadre), copy)["flags"]
    assert [item["photo_id"] for item in found["near_duplicate"]["photos"]] == [first["id"]]
    assert found["near_duplicate"]["photos"][0]["distance_bits"] == bits


@pytest.mark.parametrize(("age", "flagged"), [(timedelta(days=30, minutes=-5), True),
                                              (timedelta(days=30, minutes=5), False)],
                         ids=["inside-the-window", "outside-the-window"])
def test_the_near_duplicate_days_setting_is_the_window_compared(client, db, cadre, app, monkeypatch,  # noqa: F811
                                                                age, flagged):
    monkeypatch.setitem(app.config, "FLAG_NEAR_DUPLICATE_DAYS", 30)
    original, copy, _bits = retouched(seed=22)
    first = stored(client, cadre, new_visit(client, cadre), original)
    db.session.execute(update(Photo).where(Photo.id == uuid.UUID(first["id"]))
                       .values(created_at=datetime.now(UTC) - age))

    found = stored(client, cadre, new_visit(client, cadre), copy)["flags"]

    assert ("near_duplicate" in found) is flagged


# --- EXIF GPS at 0,0 ---------------------------------------------------------------------

def test_exif_gps_at_0_0_is_no_position():
    described = pipeline.describe(generated_jpeg(seed=31, exif=gps_exif(0.0, 0.0)), max_bytes=1 << 25,
                                  max_pixels=60_000_000)
    assert (described.exif["exif_lat"], described.exif["exif_lon"]) == (None, None)
    assert described.exif["make"] == "Xiaomi"  # the rest of the EXIF is still read


def test_exif_gps_on_the_equator_or_the_meridian_alone_is_a_position():
    for lat, lon in ((0.0, 9.5), (5.5, 0.0)):
        described = pipeline.describe(generated_jpeg(seed=32, exif=gps_exif(lat, lon)), max_bytes=1 << 25,
                                      max_pixels=60_000_000)
        assert (described.exif["exif_lat"], described.exif["exif_lon"]) == (pytest.approx(lat), pytest.approx(lon))


def test_a_photo_at_0_0_is_flagged_no_exif_gps_not_far_from_its_household(client, cadre):  # noqa: F811
    _household, visit_id = household_visit(client, cadre)
    found = stored(client, cadre, visit_id, at((0.0, 0.0), seed=33))
    assert (found["exif_lat"], found["exif_lon"]) == (None, None)
    assert set(found["flags"]) == {"no_exif_gps"}
    assert geodesic((0, 0), HOME).km > 10_000  # what would have been reported as the distance


# --- the ICC colour profile ---------------------------------------------------------------

def with_icc(seed: int) -> tuple[bytes, bytes]:
    """A JPEG carrying an ICC profile (LittleCMS's sRGB, as Pillow builds it), and the profile."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.open(io.BytesIO(generated_jpeg(seed=seed)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, icc_profile=profile)
    return out.getvalue(), profile


def test_the_icc_profile_survives_into_the_derivatives():
    data, profile = with_icc(seed=41)
    described = pipeline.describe(data, max_bytes=1 << 25, max_pixels=60_000_000)
    for copy in (described.display, described.thumb):
        assert Image.open(io.BytesIO(copy)).info.get("icc_profile") == profile


def test_the_served_display_and_thumb_keep_the_photos_icc_profile(client, cadre):  # noqa: F811
    data, profile = with_icc(seed=42)
    found = stored(client, cadre, new_visit(client, cadre), data)
    for variant in ("display", "thumb"):
        response = client.get(f"/api/photos/{found['id']}/{variant}", headers=cadre.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert Image.open(io.BytesIO(response.data)).info.get("icc_profile") == profile


def test_a_photo_without_a_profile_gets_none_invented():
    described = pipeline.describe(generated_jpeg(seed=43), max_bytes=1 << 25, max_pixels=60_000_000)
    assert "icc_profile" not in Image.open(io.BytesIO(described.display)).info

"""Verification flags: what about a photo does not add up, with the numbers behind it.

Flags inform a supervisor; they never block an upload. Each is ``code -> details`` with
distances in metres (geodesic on WGS-84, via geopy) and time gaps in minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from geopy.distance import geodesic

# Software tags written by image editors, not by cameras or phones' own camera apps.
EDITORS = re.compile(r"photoshop|lightroom|gimp|snapseed|picsart|meitu|美图|醒图|vsco|pixelmator|affinity|"
                     r"paint\.net|photoscape|facetune|canva|picasa|acdsee|光影魔术手|fotor|polarr|"
                     r"camera\s*360|b612|beautycam|airbrush|wps\s*图片|inshot", re.IGNORECASE)

# Every flag ``compute`` raises, for filters that name one.
CODES = ("no_exif_gps", "exif_far_from_device", "far_from_target", "time_mismatch", "older_than_record", "reused",
         "near_duplicate", "edited")


@dataclass(frozen=True)
class Limits:
    exif_device_m: float
    target_m: float
    time_minutes: float
    older_hours: float
    timezone: str

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        return cls(exif_device_m=config["FLAG_EXIF_DEVICE_M"], target_m=config["FLAG_TARGET_M"],
                   time_minutes=config["FLAG_TIME_MINUTES"], older_hours=config["FLAG_OLDER_HOURS"],
                   timezone=config["TIMEZONE"])


@dataclass
class Context:
    """What a photo is checked against, gathered by the service."""

    target: tuple[float, float] | None = None          # the household's or hotspot's position
    target_kind: str | None = None                     # household | hotspot
    record_time: datetime | None = None                # visited_at / inspected_at
    reused_on: list[dict[str, Any]] = field(default_factory=list)
    near: list[dict[str, Any]] = field(default_factory=list)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return round(geodesic(a, b).meters, 1)


def compute(photo: Any, context: Context, limits: Limits) -> dict[str, Any]:
    """The flags of a photo. Those that read the bytes wait until the photo is stored."""
    flags: dict[str, Any] = {}
    stored = photo.status == "stored"
    exif_position = (photo.exif_lat, photo.exif_lon) if photo.exif_lat is not None else None
    device_position = (photo.lat, photo.lon) if photo.lat is not None and photo.lon is not None else None
    if stored and exif_position is None:
        flags["no_exif_gps"] = {}
    if exif_position and device_position:
        limit = max(limits.exif_device_m, 2 * (photo.accuracy_m or 0))
        gap = distance_m(exif_position, device_position)
        if gap > limit:
            flags["exif_far_from_device"] = {"distance_m": gap, "limit_m": limit,
                                             "device_accuracy_m": photo.accuracy_m}
    if context.target:
        distances = {name: distance_m(position, context.target)
                     for name, position in (("exif_distance_m", exif_position), ("device_distance_m", device_position))
                     if position}
        if any(value > limits.target_m for value in distances.values()):
            flags["far_from_target"] = {**distances, "limit_m": limits.target_m, "target": context.target_kind}
    taken = exif_time(photo.exif_taken_at, limits.timezone)
    if taken and context.record_time:
        gap_minutes = round((context.record_time - taken).total_seconds() / 60, 1)
        if abs(gap_minutes) > limits.time_minutes:
            flags["time_mismatch"] = {"gap_minutes": gap_minutes, "limit_minutes": limits.time_minutes}
        if gap_minutes > limits.older_hours * 60:
            flags["older_than_record"] = {"gap_minutes": gap_minutes, "limit_minutes": limits.older_hours * 60}
    if context.reused_on:
        flags["reused"] = {"also_on": context.reused_on}
    if context.near:
        flags["near_duplicate"] = {"photos": context.near}
    if photo.software and EDITORS.search(photo.software):
        flags["edited"] = {"software": photo.software}
    return flags


def exif_time(text: str | None, zone: str) -> datetime | None:
    """The EXIF time as an instant; one without an offset is read in the county's zone."""
    if not text:
        return None
    try:
        taken = datetime.fromisoformat(text)
    except ValueError:
        return None
    return taken if taken.tzinfo else taken.replace(tzinfo=ZoneInfo(zone))


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()

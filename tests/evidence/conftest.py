"""Helpers for photo evidence: fixture photos, generated photos, attach by sync, upload by tus."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import FIXTURES
from tests.sync.conftest import Device, device, household_fields, new_id, push, visit_fields

PHOTOS = FIXTURES / "photos"
CHUNK = 256 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def manifest() -> list[dict[str, str]]:
    """MANIFEST.csv rows, or a skip where the fixtures are absent."""
    if not (PHOTOS / "MANIFEST.csv").is_file():
        pytest.skip(f"photo fixtures absent ({PHOTOS})")
    with (PHOTOS / "MANIFEST.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def fixture_photo(name: str) -> bytes:
    path: Path = PHOTOS / name
    if not path.is_file():
        pytest.skip(f"photo fixture {name} absent")
    return path.read_bytes()


def generated_jpeg(width: int = 640, height: int = 480, *, seed: int = 1, exif: Image.Exif | None = None,
                   quality: int = 85) -> bytes:
    """A JPEG with some structure (gradients and blocks), different for each seed."""
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for y in range(height):
        for x in range(width):
            pixels[x, y] = ((x * seed) % 256, (y * 3 + seed * 40) % 256, ((x // 32 + y // 32) * 50 * seed) % 256)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def gps_exif(lat: float, lon: float, *, taken: str | None = None, offset: str | None = None,
             software: str | None = None, make: str = "Xiaomi", model: str = "Redmi Note 12") -> Image.Exif:
    """EXIF with a GPS position (hemisphere refs from the signs), and optionally a capture time."""
    from PIL import ExifTags

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
        return (degrees, minutes, seconds)

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = model
    if software:
        exif[ExifTags.Base.Software] = software
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = dms(lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = dms(lon)
    if taken:
        details = exif.get_ifd(ExifTags.IFD.Exif)
        details[ExifTags.Base.DateTimeOriginal] = taken
        if offset:
            details[ExifTags.Base.OffsetTimeOriginal] = offset
    return exif


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def metadata(**values: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def checksum(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def new_household(client, cadre: Device, **fields: Any) -> str:
    household_id = new_id()
    result = push(client, cadre.headers, cadre.client_id,
                  [cadre.mutation("household.upsert", household_id, household_fields(**fields))])
    assert result["results"][-1]["status"] == "applied", result
    return household_id


def new_visit(client, cadre: Device, **fields: Any) -> str:
    visit_id = new_id()
    result = push(client, cadre.headers, cadre.client_id,
                  [cadre.mutation("visit.upsert", visit_id, visit_fields(**fields))])
    assert result["results"][-1]["status"] == "applied", result
    return visit_id


def attach(client, cadre: Device, record_id: str, data: bytes, *, record_type: str = "visit",
           photo_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """Push a photo.attach for ``data``; the mutation result."""
    photo_id = photo_id or str(uuid.uuid4())
    body = {"record_type": record_type, "record_id": record_id, "sha256": sha256(data), "bytes": len(data),
            "captured_at": "2026-11-20T09:35:00+08:00", **fields}
    result = push(client, cadre.headers, cadre.client_id, [cadre.mutation("photo.attach", photo_id, body)])
    return result["results"][-1]


def start_upload(client, headers: dict[str, str], photo_id: str, data: bytes, **extra: str):
    return client.post("/api/uploads", headers={**headers, **TUS, "Upload-Length": str(len(data)),
                                                "Upload-Metadata": metadata(photo_id=photo_id, sha256=sha256(data)),
                                                **extra})


def send_chunk(client, headers: dict[str, str], location: str, offset: int, chunk: bytes, **extra: str):
    return client.patch(location, data=chunk, headers={
        **headers, **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream", **extra})


def upload(client, headers: dict[str, str], photo_id: str, data: bytes, chunk_size: int = CHUNK) -> str:
    """Upload ``data`` for the photo through tus in chunks; the upload's URL."""
    created = start_upload(client, headers, photo_id, data)
    assert created.status_code == 201, created.get_data(as_text=True)
    location = created.headers["Location"]
    for offset in range(0, len(data), chunk_size):
        sent = send_chunk(client, headers, location, offset, data[offset:offset + chunk_size])
        assert sent.status_code == 204, sent.get_data(as_text=True)
    return location


def photo(client, headers: dict[str, str], photo_id: str) -> dict[str, Any]:
    response = client.get(f"/api/photos/{photo_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def inspector(tree) -> Device:
    """An inspector of V1, on one phone."""
    return device("inspector-v1", tree.V1, "inspector")

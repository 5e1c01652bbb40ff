"""Files built to break the pipeline: broken metadata, images whose decode would take too much
memory, and random damage. Each ends as a described photo or a PhotoRejected with a code, never
an exception that would answer 500 and leave the photo waiting for ever.
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import pytest
from PIL import Image

from backend.evidence import pipeline
from backend.evidence.pipeline import PhotoRejected
from tests.evidence.conftest import attach, generated_jpeg, gps_exif, new_visit, photo, upload
from tests.evidence.test_pipeline import MAX_BYTES, MAX_PIXELS, encoded, no_decoding, png  # noqa: F401
from tests.sync.conftest import cadre  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
# What broken EXIF blocks look like: not TIFF at all, a TIFF header whose first IFD lies past the
# end, an IFD that claims more entries than follow, an entry pointing outside the block, nothing.
BROKEN_EXIF = {
    "not-tiff": b"\x00\x01 not a TIFF header",
    "ifd-past-the-end": b"MM\x00\x2a\x7f\xff\xff\xff",
    "entries-missing": b"II*\x00\x08\x00\x00\x00\xff\x00",
    "value-outside": b"II*\x00\x08\x00\x00\x00\x01\x00\x0f\x01\x02\x00\xff\x00\x00\x00\xf0\xff\xff\x7f",
    "empty": b"",
}


def chunk(kind: bytes, body: bytes) -> bytes:
    """A PNG chunk with its CRC right, so the damage is inside the chunk, not in its framing."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def small_png() -> bytes:
    image = Image.new("RGB", (64, 48), (30, 140, 60))
    image.paste((220, 30, 30), (0, 0, 32, 24))
    return encoded(image, "PNG")


def png_with_exif(body: bytes, *, after_pixels: bool = False) -> bytes:
    """A PNG with an eXIf chunk of ``body``, before the image data or (as PNG allows) after it."""
    data = small_png()
    at = data.index(b"IEND") - 4 if after_pixels else 8 + 25  # before IEND, or right after IHDR
    return data[:at] + chunk(b"eXIf", body) + data[at:]


def webp_with_exif(body: bytes) -> bytes:
    """A WebP (VP8X container) carrying ``body`` as its EXIF chunk."""
    return encoded(Image.new("RGB", (64, 48), (30, 140, 60)), "WEBP", exif=body)


def describe(data: bytes, **limits: int) -> pipeline.Described:
    return pipeline.describe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, **limits)


def no_exif(described: pipeline.Described) -> bool:
    return all(value is None for value in described.exif.values())


# --- broken metadata is no metadata ---------------------------------------------------

@pytest.mark.parametrize("after_pixels", [False, True], ids=["before-idat", "after-idat"])
@pytest.mark.parametrize("name", list(BROKEN_EXIF))
def test_a_png_with_a_broken_exif_chunk_is_kept_without_exif(name, after_pixels):
    got = describe(png_with_exif(BROKEN_EXIF[name], after_pixels=after_pixels))
    assert (got.mime, got.width, got.height) == ("image/png", 64, 48)
    assert no_exif(got)
    assert Image.open(io.BytesIO(got.display)).getpixel((10, 10))[0] > 180  # the red corner is there


def test_a_png_with_a_good_exif_chunk_still_gives_its_position():
    got = describe(png_with_exif(gps_exif(30.2741, 120.1551).tobytes()))
    assert (got.exif["exif_lat"], got.exif["exif_lon"]) == (pytest.approx(30.2741, abs=1e-4),
                                                            pytest.approx(120.1551, abs=1e-4))


@pytest.mark.parametrize("name", [name for name in BROKEN_EXIF if name != "empty"])
@pytest.mark.parametrize("header", [b"", b"Exif\x00\x00"], ids=["bare", "with-exif-header"])
def test_a_webp_with_a_broken_exif_chunk_is_kept_without_exif(name, header):
    got = describe(webp_with_exif(header + BROKEN_EXIF[name]))
    assert (got.mime, got.width, got.height) == ("image/webp", 64, 48)
    assert no_exif(got)


def test_a_webp_with_a_good_exif_chunk_still_gives_its_camera():
    got = describe(webp_with_exif(gps_exif(30.2741, 120.1551, make="HUAWEI").tobytes()))
    assert got.exif["make"] == "HUAWEI"


@pytest.mark.parametrize("make", [lambda: png_with_exif(BROKEN_EXIF["not-tiff"]),
                                  lambda: webp_with_exif(BROKEN_EXIF["not-tiff"])], ids=["png", "webp"])
def test_the_last_chunk_of_a_photo_with_broken_metadata_stores_it(client, cadre, make):  # noqa: F811
    data = make()
    photo_id = str(uuid.uuid4())
    assert attach(client, cadre, new_visit(client, cadre), data, photo_id=photo_id)["status"] == "applied"
    upload(client, cadre.headers, photo_id, data, chunk_size=64)  # asserts every PATCH is a 204
    got = photo(client, cadre.headers, photo_id)
    assert (got["status"], got["exif_lat"], got["width"]) == ("stored", None, 64)


# --- the memory one decode may take ---------------------------------------------------

@pytest.fixture(scope="module")
def large_rgba_png() -> bytes:
    """7700×7700 RGBA: under the pixel limit, about 240 KB, and 226 MiB once decoded."""
    side = 7700
    return png(side, side, b"\x00" + bytes([40, 160, 90, 200]) * side, bit_depth=8, colour_type=6)


def test_a_lossless_image_whose_decode_is_over_budget_is_refused_without_decoding(large_rgba_png,
                                                                                  no_decoding):  # noqa: F811
    assert len(large_rgba_png) < 300_000
    refused = pytest.raises(PhotoRejected, describe, large_rgba_png).value
    assert refused.code == "too_many_pixels"
    assert "7700×7700" in refused.message and "MiB" in refused.message


def test_the_budget_is_the_callers():
    image = Image.new("RGBA", (1200, 1000), (40, 160, 90, 200))
    data = encoded(image, "PNG")
    needed = pipeline.decode_bytes(Image.open(io.BytesIO(data)))
    assert describe(data, max_decode_bytes=needed).width == 1200
    assert pytest.raises(PhotoRejected, describe, data, max_decode_bytes=needed - 1).value.code == "too_many_pixels"


def test_a_large_jpeg_is_decoded_scaled_down_and_stays_within_budget():
    # 7700×7700 as a JPEG: libjpeg decodes it at 1/4 scale, so the full-size cost never applies.
    got = describe(encoded(Image.new("RGB", (7700, 7700), (40, 160, 90)), "JPEG", quality=50),
                   max_decode_bytes=64 * MIB)
    assert (got.width, got.height) == (7700, 7700)


MEASURE = """
import json, resource, sys
from backend.evidence import pipeline
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    pipeline.describe(data, max_bytes=10**9, max_pixels=60_000_000)
    outcome = "stored"
except pipeline.PhotoRejected as exc:
    outcome = exc.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "peak_mib": (after - before) / 1024}))
"""


def peak(tmp_path: Path, data: bytes) -> dict:
    """Describe ``data`` in a fresh interpreter; its outcome and how far the process's peak memory rose."""
    path = tmp_path / "photo"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_refusing_the_large_rgba_png_takes_no_decode_memory(tmp_path, large_rgba_png):
    # Before the budget this file took the process's peak up by about 736 MiB.
    measured = peak(tmp_path, large_rgba_png)
    assert measured["outcome"] == "too_many_pixels"
    assert measured["peak_mib"] < 32


def test_an_accepted_lossless_image_stays_within_its_estimate(tmp_path):
    # 4000×3000 RGBA: accepted; what the process takes stays within the estimate the budget
    # is checked against, plus the fixed cost of describing any photo.
    data = png(4000, 3000, b"\x00" + bytes([40, 160, 90, 200]) * 4000, bit_depth=8, colour_type=6)
    estimate_mib = pipeline.decode_bytes(Image.open(io.BytesIO(data))) / MIB
    measured = peak(tmp_path, data)
    assert measured["outcome"] == "stored"
    assert measured["peak_mib"] <= estimate_mib + 35


# --- random damage --------------------------------------------------------------------

def samples() -> dict[str, bytes]:
    exif = gps_exif(30.2741, 120.1551, taken="2026:11:20 09:30:00", offset="+08:00")
    image = Image.new("RGB", (96, 64), (30, 140, 60))
    image.paste((220, 30, 30), (0, 0, 48, 32))
    return {
        "jpeg": generated_jpeg(96, 64, exif=exif),
        "png": encoded(image, "PNG", exif=exif),
        "png-rgba": encoded(image.convert("RGBA"), "PNG", exif=exif),
        "webp": encoded(image, "WEBP", exif=exif),
        "heic": encoded(image, "HEIF", exif=exif.tobytes(), quality=60),  # the pipeline registered HEIF
    }


def damaged(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(out))
        action = rng.random()
        if action < 0.6:
            out[at] = rng.randrange(256)
        elif action < 0.8:
            del out[at:at + rng.randint(1, 32)]
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(out)


@pytest.mark.parametrize("kind", ["jpeg", "png", "png-rgba", "webp", "heic"])
def test_damaged_photos_are_described_or_rejected_never_an_exception(kind):
    original = samples()[kind]
    rng = random.Random(f"{kind}-11")
    outcomes = set()
    for _ in range(150):
        data = damaged(original, rng)
        try:
            describe(data)
            outcomes.add("described")
        except PhotoRejected as exc:
            outcomes.add(exc.code)
    assert outcomes <= {"described", "corrupt", "unsupported_type", "too_many_pixels", "empty"}


def test_the_apps_decode_budget_refuses_an_upload_over_it(client, app, cadre, monkeypatch):  # noqa: F811
    data = encoded(Image.new("RGBA", (600, 400), (40, 160, 90, 200)), "PNG")
    monkeypatch.setitem(app.config, "PHOTO_DECODE_MAX_BYTES", 2**20)
    photo_id = str(uuid.uuid4())
    assert attach(client, cadre, new_visit(client, cadre), data, photo_id=photo_id)["status"] == "applied"
    upload(client, cadre.headers, photo_id, data)
    got = photo(client, cadre.headers, photo_id)
    assert (got["status"], got["rejected_reason"]["code"]) == ("rejected", "too_many_pixels")

"""What the pipeline reads from a photo's bytes, and what it refuses, on real and generated files.

The real photos are in ../shared/fixtures/photos; MANIFEST.csv says what Pillow reads
from each. The generated files are the ones a phone, a careless user or an attacker sends.
"""

from __future__ import annotations

import csv
import functools
import io
import struct
import zlib

import imagehash
import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageChops, ImageFile, ImageOps, ImageStat

from backend.evidence import pipeline
from backend.evidence.pipeline import PhotoRejected
from tests.evidence.conftest import PHOTOS, fixture_photo, generated_jpeg, gps_exif

MAX_BYTES = 25 * 1024 * 1024   # the PHOTO_MAX_BYTES default
MAX_PIXELS = 60_000_000        # the PHOTO_MAX_PIXELS default
# What the manifest's columns do not say: the Nokia's OffsetTimeOriginal (in its notes), and
# the Samsung's time, which has no DateTimeOriginal and so comes from IFD0 DateTime.
TAKEN_AT = {"HMD_Nokia_8.3_5G.jpg": "2022-08-14T14:12:31+03:00", "67-0_length_string.jpg": "2016-09-12T10:05:31"}
EXIF_APP1 = b"Exif\x00\x00"
XMP = b"http://ns.adobe.com/xap/1.0/"


def _manifest_rows() -> list:
    """One parameter per MANIFEST.csv row (read at collection), or one skipped one without fixtures."""
    path = PHOTOS / "MANIFEST.csv"
    if not path.is_file():
        return [pytest.param(None, marks=[pytest.mark.fixtures,
                                          pytest.mark.skip(reason=f"photo fixtures absent ({PHOTOS})")])]
    with path.open(encoding="utf-8", newline="") as handle:
        return [pytest.param(row, id=row["file"], marks=pytest.mark.fixtures) for row in csv.DictReader(handle)]


ROWS = _manifest_rows()


@functools.cache
def described(name: str) -> pipeline.Described:
    return pipeline.describe(fixture_photo(name), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)


def describe(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> pipeline.Described:
    return pipeline.describe(data, max_bytes=max_bytes, max_pixels=max_pixels)


def rejected(data: bytes, **limits: int) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        describe(data, **limits)
    return caught.value


def decoded(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image.convert("L")


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two greyscale images of one size, 0-255."""
    assert a.size == b.size
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


def bits_apart(a: str, b: str) -> int:
    return imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b)


def reread_exif(exif: Image.Exif) -> Image.Exif:
    """EXIF as it comes back out of a JPEG file, not as it was built in memory."""
    return Image.open(io.BytesIO(generated_jpeg(32, 24, exif=exif))).getexif()


def png(width: int, height: int, rows: bytes, *, bit_depth: int = 1, colour_type: int = 0) -> bytes:
    """A PNG written by hand: ``rows`` is one filtered scanline repeated ``height`` times, compressed
    as it goes, so a 20000×20000 image costs kilobytes and never sits in memory."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    block = 256  # scanlines per compress call
    idat = b"".join(compressor.compress(rows * min(block, height - start)) for start in range(0, height, block))
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@functools.cache
def png_bomb(side: int = 20000) -> bytes:
    """A black 1-bit square of side × side pixels: 400 megapixels in about 50 KB."""
    return png(side, side, b"\x00" + bytes((side + 7) // 8))


def encoded(image: Image.Image, image_format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


# --- the real photos: what EXIF says -------------------------------------------------

@pytest.mark.parametrize("row", ROWS)
def test_exif_position_matches_the_manifest(row):
    exif = described(row["file"]).exif
    if row["has_gps"] == "true":
        assert (exif["exif_lat"], exif["exif_lon"]) == (pytest.approx(float(row["lat"]), abs=1e-5),
                                                        pytest.approx(float(row["lon"]), abs=1e-5))
    else:
        assert (exif["exif_lat"], exif["exif_lon"]) == (None, None)


@pytest.mark.parametrize("row", ROWS)
def test_exif_altitude_matches_the_manifest(row):
    expected = pytest.approx(float(row["alt_m"]), abs=0.01) if row["alt_m"] else None
    assert described(row["file"]).exif["exif_alt_m"] == expected


@pytest.mark.parametrize("row", ROWS)
def test_exif_time_is_date_time_original_as_iso_with_its_offset(row):
    original = row["datetime_original"]
    expected = TAKEN_AT.get(row["file"]) or (original.replace(":", "-", 2).replace(" ", "T") if original else None)
    assert described(row["file"]).exif["exif_taken_at"] == expected


@pytest.mark.parametrize("row", ROWS)
def test_make_and_model_match_the_manifest(row):
    exif = described(row["file"]).exif
    assert (exif["make"], exif["model"]) == (row["make"] or None, row["model"] or None)


@pytest.mark.parametrize("row", ROWS)
def test_size_is_upright_and_type_is_jpeg(row):
    photo = described(row["file"])
    stored = (int(row["width"]), int(row["height"]))
    sideways = row["orientation"] in ("5", "6", "7", "8")
    assert (photo.mime, (photo.width, photo.height)) == ("image/jpeg", stored[::-1] if sideways else stored)


@pytest.mark.fixtures
def test_the_three_turned_landscapes_are_all_600_by_450():
    assert {name: (described(name).width, described(name).height)
            for name in ("landscape_3.jpg", "landscape_6.jpg", "landscape_8.jpg")} == \
           {"landscape_3.jpg": (600, 450), "landscape_6.jpg": (600, 450), "landscape_8.jpg": (600, 450)}


@pytest.mark.fixtures
def test_a_sideways_camera_photo_comes_out_portrait():
    photo = described("canon_hdr_NO.jpg")  # stored 2048×1536 with orientation 6
    assert (photo.width, photo.height) == (1536, 2048)
    assert decoded(photo.display).size == (1200, 1600)


@pytest.mark.fixtures
def test_southern_and_western_hemispheres_are_negative():
    assert described("Kodak_CX7530.jpg").exif["exif_lat"] < 0    # ref S
    assert described("iphone_hdr_NO.jpg").exif["exif_lon"] < 0    # ref W
    exif = pipeline.read_exif(reread_exif(gps_exif(-33.45, -70.66)))
    assert (exif["exif_lat"], exif["exif_lon"]) == (pytest.approx(-33.45, abs=1e-5), pytest.approx(-70.66, abs=1e-5))


def test_altitude_below_sea_level_is_negative():
    exif = gps_exif(31.5, 35.4)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSAltitude] = 412.5
    gps[ExifTags.GPS.GPSAltitudeRef] = 1  # below sea level (the Dead Sea shore)
    assert pipeline.read_exif(reread_exif(exif))["exif_alt_m"] == pytest.approx(-412.5)


def test_altitude_above_sea_level_is_positive():
    exif = gps_exif(29.65, 91.1)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSAltitude] = 3650.0
    gps[ExifTags.GPS.GPSAltitudeRef] = 0
    assert pipeline.read_exif(reread_exif(exif))["exif_alt_m"] == pytest.approx(3650.0)


# --- the real photos: upright pixels ---------------------------------------------------

@pytest.mark.fixtures
@pytest.mark.parametrize(("a", "b"), [("landscape_3.jpg", "landscape_6.jpg"), ("landscape_3.jpg", "landscape_8.jpg"),
                                      ("landscape_6.jpg", "landscape_8.jpg")])
def test_turned_copies_of_one_scene_come_out_alike(a, b):
    # Only the burned-in labels '3', '6', '8' differ; a wrong turn gives a difference above 60.
    assert mean_difference(decoded(described(a).display), decoded(described(b).display)) < 10
    assert bits_apart(described(a).phash, described(b).phash) <= 4


@pytest.mark.fixtures
@pytest.mark.parametrize("name", ["landscape_3.jpg", "landscape_6.jpg", "landscape_8.jpg"])
def test_display_copy_matches_pillows_exif_transpose(name):
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(fixture_photo(name)))).convert("L")
    assert mean_difference(decoded(described(name).display), upright) < 5


@pytest.mark.fixtures
def test_the_stored_pixels_of_a_turned_photo_are_not_what_is_shown():
    """Proof that rotation was applied: landscape_6's pixels as stored do not look like its display copy."""
    stored = Image.open(io.BytesIO(fixture_photo("landscape_6.jpg"))).convert("L")  # 450×600, not turned
    shown = decoded(described("landscape_6.jpg").display)
    assert mean_difference(stored.resize(shown.size), shown) > 40
    assert bits_apart(str(imagehash.phash(stored)), described("landscape_6.jpg").phash) > 12


# --- derivatives ---------------------------------------------------------------------

@pytest.mark.parametrize("row", ROWS)
def test_derivatives_are_jpegs_within_their_edge(row):
    photo = described(row["file"])
    display, thumb = decoded(photo.display), decoded(photo.thumb)
    assert max(display.size) == min(1600, max(photo.width, photo.height))
    assert max(thumb.size) == min(320, max(photo.width, photo.height))
    assert photo.display[:3] == photo.thumb[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("row", ROWS)
def test_derivatives_carry_no_exif_or_xmp_bytes(row):
    photo = described(row["file"])
    for derivative in (photo.display, photo.thumb):
        assert EXIF_APP1 not in derivative
        assert XMP not in derivative
        assert not Image.open(io.BytesIO(derivative)).getexif()


@pytest.mark.fixtures
def test_a_camera_photos_exif_and_xmp_stay_in_the_original():
    assert EXIF_APP1 in fixture_photo("canon_hdr_NO.jpg") and XMP in fixture_photo("canon_hdr_NO.jpg")
    photo = described("canon_hdr_NO.jpg")
    assert EXIF_APP1 not in photo.display + photo.thumb and XMP not in photo.display + photo.thumb


def test_a_generated_photo_with_gps_keeps_it_out_of_its_derivatives():
    photo = describe(generated_jpeg(64, 48, exif=gps_exif(30.25, 120.17, taken="2026:11:20 09:31:00")))
    assert photo.exif["exif_lat"] == pytest.approx(30.25, abs=1e-5)
    assert EXIF_APP1 not in photo.display and EXIF_APP1 not in photo.thumb


# --- generated photos that are accepted -------------------------------------------------

def test_a_heic_photo_is_read_with_its_exif():
    pillow_heif.register_heif_opener()
    exif = gps_exif(-22.9, -43.2, taken="2026:11:20 09:30:00", offset="+08:00", make="Apple", model="iPhone 15")
    heic = encoded(Image.new("RGB", (64, 48), (180, 40, 40)), "HEIF", exif=exif.tobytes())
    photo = describe(heic)
    assert (photo.mime, photo.width, photo.height) == ("image/heic", 64, 48)
    assert (photo.exif["exif_lat"], photo.exif["exif_lon"]) == (pytest.approx(-22.9, abs=1e-5),
                                                                pytest.approx(-43.2, abs=1e-5))
    assert (photo.exif["exif_taken_at"], photo.exif["model"]) == ("2026-11-20T09:30:00+08:00", "iPhone 15")
    assert decoded(photo.display).size == (64, 48)


def test_a_webp_photo_is_accepted():
    photo = describe(encoded(Image.new("RGB", (80, 60), (20, 120, 200)), "WEBP"))
    assert (photo.mime, photo.width, photo.height) == ("image/webp", 80, 60)
    assert decoded(photo.thumb).size == (80, 60)


def test_a_png_with_alpha_is_accepted_and_flattened_on_white():
    image = Image.new("RGBA", (80, 60), (0, 0, 0, 0))       # transparent
    image.paste((200, 0, 0, 255), (0, 0, 40, 60))            # left half opaque red
    photo = describe(encoded(image, "PNG"))
    assert (photo.mime, photo.width, photo.height) == ("image/png", 80, 60)
    display = Image.open(io.BytesIO(photo.display))
    assert display.mode == "RGB"
    assert all(abs(got - want) < 12 for got, want in zip(display.getpixel((60, 30)), (255, 255, 255), strict=True))
    assert all(abs(got - want) < 12 for got, want in zip(display.getpixel((20, 30)), (200, 0, 0), strict=True))


# --- generated files that are refused ----------------------------------------------------

@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any image's pixels are decoded."""
    def load(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_a_png_decompression_bomb_is_refused_without_decoding(no_decoding):
    bomb = png_bomb()
    assert len(bomb) < 100_000
    assert rejected(bomb).code == "too_many_pixels"


def test_a_png_over_the_pixel_limit_is_refused_without_decoding(no_decoding):
    # 9000×9000 = 81 megapixels: under Pillow's own bomb limit, over the 60 the server accepts.
    refused = rejected(png(9000, 9000, b"\x00" + bytes(9000 // 8)))
    assert refused.code == "too_many_pixels"
    assert "9000×9000" in refused.message


def test_a_truncated_jpeg_is_corrupt():
    jpeg = generated_jpeg(320, 240, seed=3)
    refused = rejected(jpeg[:int(len(jpeg) * 0.6)])
    assert refused.code == "corrupt"
    assert refused.message


def test_zero_bytes_are_empty():
    assert rejected(b"").code == "empty"


def test_an_svg_named_jpg_is_refused_as_an_svg():
    svg = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="640" '
           b'height="480"><rect width="640" height="480" fill="red"/></svg>\n')
    refused = rejected(svg)
    assert refused.code == "unsupported_type"
    assert "SVG" in refused.message


def test_an_html_page_named_jpg_is_refused_as_a_web_page():
    refused = rejected(b"<!DOCTYPE html>\n<html><head><title>photo</title></head><body><img src=x></body></html>\n")
    assert refused.code == "unsupported_type"
    assert "web page" in refused.message


def test_a_file_over_the_size_limit_is_too_large():
    jpeg = generated_jpeg(64, 48)
    refused = rejected(jpeg, max_bytes=len(jpeg) - 1)
    assert refused.code == "too_large"
    assert str(len(jpeg) - 1) in refused.message


def test_a_file_at_the_size_limit_is_accepted():
    jpeg = generated_jpeg(64, 48)
    assert describe(jpeg, max_bytes=len(jpeg)).mime == "image/jpeg"

"""What the server makes of a photo's bytes: checked, described, and shrunk for display.

``describe`` decodes each photo once, and for JPEG (nearly every phone photo) at the
smallest DCT scale that still gives the display size, so a 12-megapixel photo never
sits decoded at full size. Other formats decode at full size: before any pixel is
decoded, the memory that takes is estimated and held to a budget. The derivatives are
written from fresh pixels and carry no EXIF or XMP: position and device details stay in
the original alone. Broken metadata is read as no metadata; only pixels that cannot be
decoded reject a photo.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import imagehash
import pillow_heif
from PIL import ExifTags, Image, UnidentifiedImageError

pillow_heif.register_heif_opener()

DISPLAY_EDGE = 1600
THUMB_EDGE = 320
DISPLAY_QUALITY = 82
THUMB_QUALITY = 75
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heif"}
HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx")
# Orientation tag -> the transpose that makes the pixels upright (EXIF 2.32, §4.6.4 A).
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
GPS = ExifTags.GPS
TAG = ExifTags.Base
DECODE_MAX_BYTES = 256 * 1024 * 1024
# Bytes a pixel takes while a photo is described, beyond the decoded image itself (1 byte a
# pixel for L and P, 4 for RGB, RGBA and the rest, as Pillow stores them): the RGB copy a
# mode other than RGB is converted or flattened into (with the alpha mask, and for P, LA
# and PA an RGBA step first), the decoder's own buffers (libheif's planes; libwebp's
# canvas and frame), and a quarter-size copy when the display size is reduced. Peaks
# measured with getrusage stay within this estimate and a fixed 35 MiB (docs/evidence.md).
CONVERSION_BYTES = {"RGB": 0, "RGBA": 5, "LA": 9, "PA": 9}
OTHER_CONVERSION_BYTES = 4
TRANSPARENT_PALETTE_BYTES = 9
DECODER_BYTES = {"HEIF": 3, "WEBP": 11}
REDUCTION_BYTES = 1
# What Pillow's decoders and its TIFF reader raise on bytes that are not what they claim
# (their own error classes, or Python's on a truncated structure).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error,
                 ZeroDivisionError, Image.DecompressionBombError)


class PhotoRejected(Exception):
    """The bytes are not a photo the server keeps: ``code`` is stable, ``message`` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Described:
    mime: str
    width: int                     # upright, full resolution
    height: int
    exif: dict[str, Any]           # exif_lat, exif_lon, exif_alt_m, exif_taken_at, make, model, software
    phash: str
    display: bytes
    thumb: bytes

    def description(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "mime": self.mime, "phash": self.phash, **self.exif}


def describe(data: bytes, *, max_bytes: int, max_pixels: int, max_decode_bytes: int = DECODE_MAX_BYTES
             ) -> Described:
    """Check and describe a photo; PhotoRejected when it is not one the server keeps."""
    if not data:
        raise PhotoRejected("empty", "The file is empty (0 bytes); take or choose the photo again.")
    if len(data) > max_bytes:
        raise PhotoRejected("too_large", f"The file has {len(data)} bytes; at most {max_bytes} are accepted.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # A broken EXIF block is read as none (``_exif``); Pillow's complaints about it are noise.
        warnings.filterwarnings("ignore", category=UserWarning, module="PIL.TiffImagePlugin")
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except UnidentifiedImageError:
            raise PhotoRejected("unsupported_type", f"This is not a JPEG, PNG, WebP or HEIC photo{_looks_like(data)}."
                                ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected("too_many_pixels", "The image declares more pixels than any photo has "
                                "(a decompression bomb).") from None
        except DECODE_ERRORS as exc:
            raise PhotoRejected("corrupt", f"The photo cannot be read ({exc}).") from None
        with image:
            return _describe_open(image, data, max_pixels, max_decode_bytes)


def _describe_open(image: Image.Image, data: bytes, max_pixels: int, max_decode_bytes: int) -> Described:
    stored_width, stored_height = image.size
    if stored_width * stored_height > max_pixels:
        raise PhotoRejected("too_many_pixels", f"The image has {stored_width}×{stored_height} pixels; at most "
                            f"{max_pixels // 1_000_000} megapixels are accepted.")
    _plan_decode(image, max_decode_bytes)
    exif = _exif(image)
    orientation = _orientation(exif)
    swapped = orientation in (5, 6, 7, 8)
    width, height = (stored_height, stored_width) if swapped else (stored_width, stored_height)
    mime = _mime(image, data)
    try:
        display = _display_pixels(image)
    except DECODE_ERRORS as exc:
        raise PhotoRejected("corrupt", f"The photo's pixels cannot be decoded ({exc}); "
                            "the file may be cut short. Send it again.") from None
    if orientation in UPRIGHT:
        display = display.transpose(UPRIGHT[orientation])
    # From the display copy, a box reduction first: a 5x shrink costs a fifth of a filtered one.
    thumb = display.copy()
    thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.BILINEAR, reducing_gap=1.0)
    icc = image.info.get("icc_profile")
    return Described(
        mime=mime, width=width, height=height, exif=read_exif(exif),
        phash=str(imagehash.phash(thumb)),
        display=_jpeg(display, DISPLAY_QUALITY, icc), thumb=_jpeg(thumb, THUMB_QUALITY, icc))


def _plan_decode(image: Image.Image, max_decode_bytes: int) -> None:
    """Choose the decode size; PhotoRejected when decoding would take more memory than allowed.

    Runs before the EXIF is read: for a PNG, Pillow decodes every pixel to find an eXIf
    chunk after the image data.
    """
    scale = DISPLAY_EDGE / max(image.size)
    if image.format == "JPEG" and scale < 1:
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale directly: the decode is the resize.
        image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    needed = decode_bytes(image)
    if needed > max_decode_bytes:
        mib = 1024 * 1024
        raise PhotoRejected("too_many_pixels", f"Decoding this {image.format} image of {image.width}×{image.height} "
                            f"pixels ({image.mode}) would take about {needed // mib} MiB; at most "
                            f"{max_decode_bytes // mib} MiB are allowed. Send it as a JPEG, or smaller.")


def _display_pixels(image: Image.Image) -> Image.Image:
    """The pixels (decoded at the size ``_plan_decode`` chose) in RGB, at most DISPLAY_EDGE."""
    image.load()
    pixels = _rgb(image)
    # Pillow's bilinear filter widens with the scale, so shrinking stays antialiased; after the
    # DCT-scaled decode the step left is small (at most 2x), where Lanczos would add nothing
    # visible and cost twice the time.
    pixels.thumbnail((DISPLAY_EDGE, DISPLAY_EDGE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return pixels


def decode_bytes(image: Image.Image) -> int:
    """About how many bytes describing the opened, not yet loaded, image at its current size takes."""
    stored = 1 if image.mode in ("1", "L", "P") else 2 if image.mode.startswith("I;16") else 4
    if image.mode == "P" and "transparency" in image.info:
        conversion = TRANSPARENT_PALETTE_BYTES
    else:
        conversion = CONVERSION_BYTES.get(image.mode, OTHER_CONVERSION_BYTES)
    per_pixel = stored + conversion + DECODER_BYTES.get(image.format or "", 0) + REDUCTION_BYTES
    return image.width * image.height * per_pixel


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # An RGBA image is pasted as it is: a converted copy would double the decoded size.
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    # Pillow's JPEG writer takes EXIF, XMP and ICC from save()'s arguments only, and a
    # comment from info: with info emptied, nothing of the source but its colour profile
    # comes along (the tests check the bytes).
    image.info = {}
    image.save(out, "JPEG", quality=quality, icc_profile=icc)
    return out.getvalue()


def _mime(image: Image.Image, data: bytes) -> str:
    if image.format == "HEIF":
        return "image/heic" if data[8:12] in HEIC_BRANDS else "image/heif"
    return FORMATS[image.format or "JPEG"]


LOOKALIKES = ((b"<svg", "an SVG drawing"), (b"<?xml", "an XML document"), (b"<!doctype html", "a web page"),
              (b"<html", "a web page"), (b"%pdf", "a PDF"), (b"gif8", "a GIF"), (b"pk\x03\x04", "a zip file"))


def _looks_like(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    for marker, name in LOOKALIKES:
        if head.startswith(marker) or (marker == b"<svg" and marker in head):
            return f"; it looks like {name}"
    return ""


# --- EXIF ----------------------------------------------------------------------------

def _exif(image: Image.Image) -> Image.Exif:
    """The image's EXIF, or none when its EXIF block is broken.

    The block comes from the phone untouched; a broken one (a PNG eXIf chunk or a WebP
    EXIF chunk that is not TIFF) says nothing about the pixels, so the photo is kept
    without it rather than refused. Pillow's TIFF reader raises a range of errors here.
    """
    try:
        exif = image.getexif()
        dict(exif)  # the first IFD is read lazily; read it here, where a failure is caught
        return exif
    except DECODE_ERRORS:
        return Image.Exif()


def _orientation(exif: Image.Exif) -> int:
    value = exif.get(TAG.Orientation)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def read_exif(exif: Image.Exif) -> dict[str, Any]:
    """Position, time and camera from EXIF; a field that is missing or broken is None."""
    gps = _ifd(exif, ExifTags.IFD.GPSInfo)
    details = _ifd(exif, ExifTags.IFD.Exif)
    lat = _degrees(gps.get(GPS.GPSLatitude), gps.get(GPS.GPSLatitudeRef), "S", 90)
    lon = _degrees(gps.get(GPS.GPSLongitude), gps.get(GPS.GPSLongitudeRef), "W", 180)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        lat = lon = None  # 0,0 is what an unset GPS writes, not a place
    taken = _time(details.get(TAG.DateTimeOriginal), details.get(TAG.OffsetTimeOriginal))
    if taken is None:
        taken = _time(exif.get(TAG.DateTime), details.get(TAG.OffsetTime))
    return {
        "exif_lat": _rounded(lat), "exif_lon": _rounded(lon),
        "exif_alt_m": _altitude(gps.get(GPS.GPSAltitude), gps.get(GPS.GPSAltitudeRef)),
        "exif_taken_at": taken,
        "make": _text(exif.get(TAG.Make)), "model": _text(exif.get(TAG.Model)),
        "software": _text(exif.get(TAG.Software)),
    }


def _ifd(exif: Image.Exif, ifd: int) -> dict[int, Any]:
    try:
        found = exif.get_ifd(ifd)
    except (KeyError, OSError, SyntaxError, ValueError, TypeError, struct.error):
        return {}
    return found if isinstance(found, dict) else {}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _degrees(parts: Any, ref: Any, negative_ref: str, limit: float) -> float | None:
    if not isinstance(parts, tuple | list) or not 1 <= len(parts) <= 3:
        return None
    numbers = [_number(part) for part in parts]
    if any(number is None or number < 0 for number in numbers):
        return None
    degrees = sum(number / 60**index for index, number in enumerate(numbers))
    if _text(ref) == negative_ref:
        degrees = -degrees
    return degrees if abs(degrees) <= limit else None


def _altitude(value: Any, ref: Any) -> float | None:
    altitude = _number(value)
    if altitude is None:
        return None
    below = ref in (1, b"\x01", "1") or (isinstance(ref, bytes) and ref[:1] == b"\x01")
    return round(-altitude if below else altitude, 2)


def _time(value: Any, offset: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = _offset(_text(offset))
    return (taken.replace(tzinfo=zone) if zone else taken).isoformat()


def _offset(text: str | None) -> timezone | None:
    if not text or len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "").strip()
    return cleaned[:128] or None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 7)

"""Photo ingest benchmark: the server's whole ingest of one camera photo beside a bare decode.

    .venv/bin/python bench/photos.py [--file PATH] [--repeat N] [--storage-dir DIR] [--profile]

- photo: a 12-megapixel (4000×3000) camera JPEG generated in memory at quality 92, with
  smooth gradients, shapes, texture and sensor grain (so it weighs what a phone photo
  weighs) and phone EXIF: GPS, DateTimeOriginal + OffsetTimeOriginal, Make/Model and
  Orientation 6, so the pixels must be turned upright. --file uses a given photo instead
  (e.g. ../shared/fixtures/photos/HMD_Nokia_8.3_5G.jpg).
- ingest: what the server does once the last byte of an upload is in (evidence.service
  ``ingest`` without the database): SHA-256 verify, ``pipeline.describe`` (sniff, size
  and pixel limits, EXIF, orientation, display and thumb derivatives, perceptual hash),
  then the original written once (``put_once``, under a fresh key each time so the write
  really happens) and both derivatives (``put``) through LocalStorage, fsync included.
- baseline: a bare full decode of the same bytes, ``Image.open(io.BytesIO(data)).load()``.

One warm-up of each, then the two alternate --repeat times. Aim: ingest no slower than
1.5 × the bare decode (met or MISSED). --profile prints where one ingest's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import pstats
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageDraw, ImageFilter

from backend.config import SETTINGS
from backend.evidence import pipeline
from backend.evidence.service import storage_key
from backend.storage import LocalStorage

WIDTH, HEIGHT = 4000, 3000
QUALITY = 92
AIM = 1.5
DEFAULTS = {setting.name: setting.default for setting in SETTINGS}
MAX_BYTES, MAX_PIXELS = DEFAULTS["PHOTO_MAX_BYTES"], DEFAULTS["PHOTO_MAX_PIXELS"]


# --- the photo ---------------------------------------------------------------------------

def camera_exif() -> Image.Exif:
    """What a phone writes: camera, time with its offset, GPS with altitude, portrait orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "HMD Global"
    exif[ExifTags.Base.Model] = "Nokia 8.3 5G"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.DateTime] = "2026:11:20 09:31:02"
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "2026:11:20 09:31:02"
    details[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (29.0, 27.0, 4.32)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (119.0, 53.0, 13.56)
    gps[ExifTags.GPS.GPSAltitudeRef] = b"\x00"
    gps[ExifTags.GPS.GPSAltitude] = 85.3
    return exif


def camera_jpeg(seed: int = 4) -> bytes:
    """A 4000×3000 JPEG that compresses like a photo: sky gradient with cloudy low-frequency
    variation, softened shapes in the lower two thirds, fine texture and sensor grain."""
    rng = np.random.default_rng(seed)

    def smooth_noise(cell: int) -> np.ndarray:
        small = rng.standard_normal((HEIGHT // cell + 2, WIDTH // cell + 2)).astype(np.float32)
        grown = Image.fromarray(small, "F").resize((WIDTH + 2 * cell, HEIGHT + 2 * cell), Image.Resampling.BILINEAR)
        return np.asarray(grown)[:HEIGHT, :WIDTH]

    clouds = smooth_noise(200) * 25 + smooth_noise(40) * 12 + smooth_noise(8) * 6
    down = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None]
    sky = np.empty((HEIGHT, WIDTH, 3), np.float32)
    for channel, (top, change) in enumerate(((120, 60), (160, 40), (230, -50))):
        sky[..., channel] = top + change * down + clouds
    image = Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(120):
        x, y = int(rng.integers(0, WIDTH)), int(rng.integers(HEIGHT // 3, HEIGHT))
        w, h = int(rng.integers(60, 700)), int(rng.integers(60, 500))
        colour = tuple(int(value) for value in rng.integers(20, 230, 3))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        else:
            draw.polygon([(x, y), (x + w, y + int(rng.integers(-100, 100))), (x + int(rng.integers(0, w)), y + h)],
                         fill=colour)
    image = image.filter(ImageFilter.BoxBlur(1))
    pixels = np.asarray(image).astype(np.int16)
    pixels += (smooth_noise(2) * 11).astype(np.int16)[..., None]
    pixels += rng.integers(-5, 6, (HEIGHT, WIDTH, 3), dtype=np.int16)
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=QUALITY, exif=camera_exif())
    return out.getvalue()


# --- what is timed -----------------------------------------------------------------------

def bare_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def ingest(data: bytes, expected: str, storage: LocalStorage) -> tuple[float, float, float, pipeline.Described]:
    """The server's ingest minus the database; seconds of its three parts, and the description."""
    start = time.perf_counter()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == expected
    hashed = time.perf_counter()
    described = pipeline.describe(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    done = time.perf_counter()
    # A fresh key each time: put_once on a key already there would skip the write.
    key = uuid.uuid4().hex + digest[32:]
    assert storage.put_once(storage_key("original", key), data)
    storage.put(storage_key("display", key), described.display)
    storage.put(storage_key("thumb", key), described.thumb)
    stored = time.perf_counter()
    return hashed - start, done - hashed, stored - done, described


def profile(data: bytes, expected: str, storage: LocalStorage, runs: int = 3) -> None:
    profiler = cProfile.Profile()
    for _ in range(runs):
        profiler.runcall(ingest, data, expected, storage)
    print(f"\n--- profile: {runs} ingests")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a photo to ingest instead of the generated 12-megapixel JPEG")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs of each (after one warm-up)")
    parser.add_argument("--storage-dir", type=Path,
                        help="where LocalStorage writes (default: a temporary directory, removed afterwards)")
    parser.add_argument("--profile", action="store_true", help="then profile three ingests (cProfile)")
    args = parser.parse_args()

    if args.file:
        data, source = args.file.read_bytes(), str(args.file)
    else:
        start = time.perf_counter()
        data, source = camera_jpeg(), f"generated {WIDTH}×{HEIGHT} JPEG, quality {QUALITY}"
        source += f", made in {time.perf_counter() - start:.1f} s"
    expected = hashlib.sha256(data).hexdigest()
    root = Path(tempfile.mkdtemp(prefix="zoufang-bench-photos-", dir=args.storage_dir))
    storage = LocalStorage(root)
    try:
        # Warm-up: imports, libjpeg, the first perceptual hash (scipy's DCT), the directories.
        bare_decode(data)
        _, _, _, described = ingest(data, expected, storage)
        with Image.open(io.BytesIO(data)) as image:
            stored_size, orientation = image.size, image.getexif().get(ExifTags.Base.Orientation, 1)
        print(f"photo: {source}; {len(data) / 1e6:.2f} MB, {stored_size[0]}×{stored_size[1]} stored, "
              f"orientation {orientation}, upright {described.width}×{described.height}, {described.mime}")
        with Image.open(io.BytesIO(described.display)) as display, Image.open(io.BytesIO(described.thumb)) as thumb:
            print(f"       display {display.width}×{display.height} ({len(described.display) / 1e3:.0f} KB), "
                  f"thumb {thumb.width}×{thumb.height} ({len(described.thumb) / 1e3:.0f} KB), phash "
                  f"{described.phash}, EXIF lat/lon {described.exif['exif_lat']}, {described.exif['exif_lon']}, "
                  f"taken {described.exif['exif_taken_at']}")

        decodes, ingests, hashes, describes, writes = [], [], [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            bare_decode(data)
            decodes.append(time.perf_counter() - start)
            start = time.perf_counter()
            hashed, described_in, written, _ = ingest(data, expected, storage)
            ingests.append(time.perf_counter() - start)
            hashes.append(hashed)
            describes.append(described_in)
            writes.append(written)

        decode, whole = statistics.median(decodes), statistics.median(ingests)
        ratio = whole / decode
        print(f"{args.repeat} runs of each, alternating, after one warm-up; medians:")
        print(f"ingest   {whole * 1e3:8.1f} ms  {1 / whole:6.2f} photos/s   vs bare full decode {decode * 1e3:8.1f} ms"
              f"   ratio {ratio:5.2f}   aim: ratio <= {AIM} {'met' if ratio <= AIM else 'MISSED'}")
        print(f"  sha256   {statistics.median(hashes) * 1e3:8.1f} ms")
        print(f"  describe {statistics.median(describes) * 1e3:8.1f} ms   (sniff, EXIF, orient, derivatives, phash)")
        print(f"  storage  {statistics.median(writes) * 1e3:8.1f} ms   (original put_once + 2 derivatives put, fsync)")
        if args.profile:
            profile(data, expected, storage)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Settings: the only module that reads environment variables.

Every setting is a ``ZOUFANG_<NAME>`` environment variable listed in ``SETTINGS``; the
README's configuration table and the docker-compose test are checked against that list.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "ZOUFANG_"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be 1 or more")
    return number


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def _rate(value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError("not a rate like 30 per minute") from None
    return value


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not a time zone name like Asia/Shanghai") from None
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_DIR", None, str,
            "Directory for local state (SQLite file, secret key, photos). "
            "Default: `instance/` beside `backend/`."),
    Setting("DATABASE_URL", None, str,
            "SQLAlchemy URL, e.g. `postgresql+psycopg://user:pw@host/db`. "
            "Default: SQLite file `<instance>/zoufang.sqlite3`."),
    Setting("STORAGE", "local", _choice("local", "s3"),
            "Where photo files go: `local` (the directory `ZOUFANG_STORAGE_DIR`) or `s3` (an S3-compatible "
            "bucket: MinIO, Aliyun OSS, AWS S3)."),
    Setting("STORAGE_DIR", None, str,
            "Directory for photo files when stored locally. Default: `<instance>/storage`."),
    Setting("S3_BUCKET", "", str,
            "Bucket for photo files when `ZOUFANG_STORAGE=s3`; `zoufang storage check` creates it if missing."),
    Setting("S3_ENDPOINT_URL", "", str,
            "Endpoint of the S3-compatible store, e.g. `http://minio:9000`. Empty: AWS S3."),
    Setting("S3_REGION", "", str,
            "Region of the bucket. Empty: boto3's default."),
    Setting("S3_ACCESS_KEY_ID", "", str,
            "Access key of the store. Empty: boto3's usual chain (AWS_ environment, instance role)."),
    Setting("S3_SECRET_ACCESS_KEY", "", str,
            "Secret key of the store. Empty: boto3's usual chain."),
    Setting("SECRET_KEY", None, str,
            "Flask secret key. Default: generated once into `<instance>/secret_key` (mode 600). "
            "Set it when running app processes on several machines."),
    Setting("MAX_REQUEST_BYTES", 8 * 1024 * 1024, _positive_int,
            "Largest request body accepted; larger ones get 413."),
    Setting("TOKEN_IDLE_DAYS", 30, _positive_int,
            "A device token unused for this many days expires."),
    Setting("TOKEN_MAX_DAYS", 180, _positive_int,
            "A device token expires this many days after login, however often it is used."),
    Setting("LOGIN_MAX_FAILURES", 5, _positive_int,
            "Failed logins in a row that lock a username."),
    Setting("LOGIN_LOCK_MINUTES", 15, _positive_int,
            "How long a locked username stays locked."),
    Setting("LOGIN_RATE", "30 per minute", _rate,
            "Sign-in attempts (`POST /api/auth/login` and `/api/auth/password` together) accepted from one client "
            "address, e.g. `30 per minute` or `100 per hour`; more get 429 `rate_limited`."),
    Setting("RATE_LIMIT_STORAGE_URL", "", str,
            "Where the sign-in rate limit counts: empty for a table in the app's database (holds across processes "
            "and machines), `redis://host:6379/0` for Redis, `memory://` for one process only."),
    Setting("REDIS_URL", "", str,
            "Where background jobs wait: empty for a SQLite file in the instance directory (`jobs.sqlite3`, one "
            "machine), `redis://host:6379/0` for Redis (app and worker processes on several machines)."),
    Setting("SYNC_RETENTION_DAYS", 90, _positive_int,
            "`zoufang sync prune` drops change-log entries (superseded, deleted) older than this; "
            "a phone whose cursor is older rebuilds its mirror."),
    Setting("PHOTO_MAX_BYTES", 25 * 1024 * 1024, _positive_int,
            "Largest photo file accepted for upload (tus `Tus-Max-Size`)."),
    Setting("PHOTO_MAX_PIXELS", 60_000_000, _positive_int,
            "Largest photo in pixels (width × height); larger ones, and decompression bombs, are rejected."),
    Setting("PHOTO_DECODE_MAX_BYTES", 256 * 1024 * 1024, _positive_int,
            "Memory one photo's decode may take, estimated from its size, type and colour mode before any "
            "pixel is decoded; a photo over it is rejected (`too_many_pixels`). JPEGs decode scaled down and "
            "stay far below; a 48-megapixel HEIC needs about 390 MB."),
    Setting("UPLOAD_EXPIRY_HOURS", 24, _positive_int,
            "An unfinished photo upload is dropped, with its bytes, this many hours after its last chunk."),
    Setting("FLAG_EXIF_DEVICE_M", 200, _positive_int,
            "Photo flag `exif_far_from_device`: the photo's EXIF GPS is farther than this many metres "
            "(or twice the device's accuracy, if more) from the phone's own fix."),
    Setting("FLAG_TARGET_M", 300, _positive_int,
            "Photo flag `far_from_target`: the photo or the phone was farther than this many metres from the "
            "household or hotspot."),
    Setting("FLAG_TIME_MINUTES", 120, _positive_int,
            "Photo flag `time_mismatch`: the EXIF capture time is more than this many minutes from the "
            "record's time."),
    Setting("FLAG_OLDER_HOURS", 24, _positive_int,
            "Photo flag `older_than_record`: the EXIF capture time is more than this many hours before the "
            "visit or inspection."),
    Setting("FLAG_NEAR_DUPLICATE_BITS", 8, _count,
            "Photo flag `near_duplicate`: perceptual hashes (64 bits) at most this many bits apart."),
    Setting("FLAG_NEAR_DUPLICATE_DAYS", 90, _positive_int,
            "Photo flag `near_duplicate` compares with photos of the same county from this many days back."),
    Setting("TIMEZONE", "Asia/Shanghai", _timezone,
            "Time zone of the county: EXIF times without an offset are read in it, metrics count its days, and "
            "ledgers show times in it."),
    Setting("PROXY_COUNT", 0, _count,
            "Number of reverse proxies in front of the app whose `X-Forwarded-For`/`-Proto` headers "
            "are trusted (client IPs in the audit)."),
    Setting("LOG_LEVEL", "INFO", str.upper,
            "Python log level of the app's logger."),
)


class ConfigError(RuntimeError):
    """A setting has a value the app cannot use."""


def read_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse every ``ZOUFANG_`` setting from the environment, defaults filled in."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(PREFIX + setting.name)
        if raw is None or raw == "":
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}{setting.name}={raw!r}: {exc}") from exc
    return values


def engine_options(database_url: str) -> dict[str, Any]:
    options: dict[str, Any] = {"pool_pre_ping": True}
    if database_url.startswith("postgresql"):
        # psycopg prepares a statement run five times, and PostgreSQL may then plan it once
        # for any parameters. Scoped queries filter on an area path prefix (LIKE '…%'):
        # planned without the prefix, a ledger's per-batch query went from milliseconds to
        # 0.7 s. Each execution is planned with its own values instead.
        options["connect_args"] = {"options": "-c plan_cache_mode=force_custom_plan"}
    return options


def flask_config(settings: Mapping[str, Any], instance_dir: Path) -> dict[str, Any]:
    """Translate settings into the keys Flask and its extensions read."""
    database_url = settings["DATABASE_URL"] or f"sqlite:///{instance_dir / 'zoufang.sqlite3'}"
    return {
        **settings,
        "SECRET_KEY": settings["SECRET_KEY"] or instance_secret_key(instance_dir),
        "STORAGE_DIR": settings["STORAGE_DIR"] or str(instance_dir / "storage"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "RATELIMIT_STORAGE_URI": settings["RATE_LIMIT_STORAGE_URL"] or "zoufang+database://",
        "MAX_CONTENT_LENGTH": settings["MAX_REQUEST_BYTES"],
        "JSON_SORT_KEYS": False,
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_LEVEL": 6,
        "COMPRESS_BR_LEVEL": 5,
        "COMPRESS_MIN_SIZE": 1024,
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/plain", "text/javascript", "application/javascript",
                               "application/json", "application/manifest+json", "application/geo+json",
                               "text/csv", "image/svg+xml"],
        "API_TITLE": "Zoufang 走访 API",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        # Every operation needs a device token unless it says otherwise (login, health).
        "API_SPEC_OPTIONS": {"security": [{"bearerAuth": []}]},
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
    }


def instance_secret_key(instance_dir: Path) -> str:
    """Read the generated secret key, creating it on first run.

    Several gunicorn workers may start at once: the key is written to a private
    temporary file and linked into place, so exactly one key ever exists.
    """
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        tmp = instance_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()

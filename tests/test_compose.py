"""docker-compose.yml and the Dockerfile agree with the settings in backend/config.py.

No Docker engine runs where the tests run, so the files are checked by reading them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from backend.config import PREFIX, SETTINGS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_BY_VARIABLE = {PREFIX + setting.name: setting for setting in SETTINGS}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(compose, dict) and isinstance(compose.get("services"), dict), \
        f"{COMPOSE_FILE.name} must have a top-level 'services:' mapping"
    return compose["services"]


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's environment, from either compose form: a mapping or a list of NAME=value."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {name: None if value is None else str(value) for name, value in env.items()}
    pairs = (item.partition("=") for item in env)
    return {name: value if sep else None for name, sep, value in pairs}


def test_services_exist(services: dict[str, Any]) -> None:
    missing = {"db", "minio", "redis", "app", "worker"} - services.keys()
    assert not missing, f"{COMPOSE_FILE.name} lacks the service(s) {sorted(missing)}"


def test_the_worker_runs_jobs_with_the_apps_settings_on_redis(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert worker["command"][:3] == ["zoufang", "jobs", "worker"], worker["command"]
    assert environment(worker) == environment(services["app"]), (
        "the worker must read the same database, store and queue as the app")
    assert environment(worker)[PREFIX + "REDIS_URL"].startswith("redis://redis:"), (
        "app and worker replicas share the queue only through Redis")


def test_app_sets_every_setting(services: dict[str, Any]) -> None:
    env = environment(services["app"])
    missing = [name for name in SETTINGS_BY_VARIABLE if env.get(name) is None]
    assert not missing, (
        f"app's environment in {COMPOSE_FILE.name} lacks {missing}: add each, at its default if nothing "
        "else fits, so the file shows every setting of backend/config.py"
    )


def test_app_has_no_unknown_setting(services: dict[str, Any]) -> None:
    unknown = [name for name in environment(services["app"])
               if name.startswith(PREFIX) and name not in SETTINGS_BY_VARIABLE]
    assert not unknown, (
        f"app's environment in {COMPOSE_FILE.name} sets {unknown}, which backend/config.py SETTINGS "
        "does not know: a typo, or a setting to add to SETTINGS first"
    )


def test_app_settings_parse(services: dict[str, Any]) -> None:
    for name, value in environment(services["app"]).items():
        setting = SETTINGS_BY_VARIABLE.get(name)
        if setting is None or value is None or "${" in value:
            continue  # interpolated from the host's environment when compose starts
        try:
            setting.parse(value)
        except ValueError as exc:
            pytest.fail(f"{name}={value!r} in {COMPOSE_FILE.name} would stop the app from starting: {exc}")


def test_secret_key_is_required_from_the_host(services: dict[str, Any]) -> None:
    value = environment(services["app"]).get(PREFIX + "SECRET_KEY") or ""
    assert re.fullmatch(r"\$\{ZOUFANG_SECRET_KEY:\?[^}]+\}", value), (
        f"ZOUFANG_SECRET_KEY in {COMPOSE_FILE.name} is {value!r}: write it as "
        "${ZOUFANG_SECRET_KEY:?set ZOUFANG_SECRET_KEY}, so every replica shares one key and none is committed"
    )


def test_database_url_matches_db_service(services: dict[str, Any]) -> None:
    raw = environment(services["app"]).get(PREFIX + "DATABASE_URL")
    assert raw, f"app's environment in {COMPOSE_FILE.name} lacks ZOUFANG_DATABASE_URL"
    url = make_url(raw)
    db_env = environment(services["db"])
    expected = {
        "driver": ("postgresql+psycopg", url.drivername),
        "host": ("db", url.host),
        "user (POSTGRES_USER)": (db_env.get("POSTGRES_USER"), url.username),
        "password (POSTGRES_PASSWORD)": (db_env.get("POSTGRES_PASSWORD"), url.password),
        "database (POSTGRES_DB)": (db_env.get("POSTGRES_DB"), url.database),
    }
    wrong = {part: pair for part, pair in expected.items() if pair[0] != pair[1]}
    assert not wrong, (
        f"ZOUFANG_DATABASE_URL={raw!r} does not reach the db service; expected vs found: {wrong}. "
        "Write it as postgresql+psycopg://<POSTGRES_USER>:<POSTGRES_PASSWORD>@db:5432/<POSTGRES_DB>"
    )
    assert url.port in (None, 5432), f"ZOUFANG_DATABASE_URL uses port {url.port}; PostgreSQL listens on 5432 in db"


def test_photo_storage_is_the_minio_service(services: dict[str, Any]) -> None:
    env = environment(services["app"])
    minio = environment(services["minio"])
    endpoint = env.get(PREFIX + "S3_ENDPOINT_URL") or ""
    assert env.get(PREFIX + "STORAGE") == "s3", (
        f"app in {COMPOSE_FILE.name} keeps photos in its own volume: set ZOUFANG_STORAGE=s3, so replicas share minio")
    assert re.fullmatch(r"http://minio:9000/?", endpoint), (
        f"ZOUFANG_S3_ENDPOINT_URL={endpoint!r} does not reach the minio service's API (http://minio:9000)")
    credentials = (env.get(PREFIX + "S3_ACCESS_KEY_ID"), env.get(PREFIX + "S3_SECRET_ACCESS_KEY"))
    assert credentials == (minio.get("MINIO_ROOT_USER"), minio.get("MINIO_ROOT_PASSWORD")), (
        "the app's S3 access key and secret are not an account of the minio service")
    assert env.get(PREFIX + "S3_BUCKET"), "ZOUFANG_S3_BUCKET is empty"


def test_container_creates_the_bucket_before_serving() -> None:
    stage = final_stage(DOCKERFILE.read_text(encoding="utf-8"))
    command = re.search(r"(?m)^CMD .*$", stage)
    assert command and re.search(r"zoufang storage check\b.*gunicorn", command.group(0)), (
        f"{DOCKERFILE.name}'s CMD should run `zoufang storage check` (creates the S3 bucket) before gunicorn")


def container_ports(service: dict[str, Any]) -> set[int]:
    """Container-side ports of a compose `ports:` list, short ("8000:8000/tcp") or long syntax."""
    ports = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def final_stage(dockerfile: str) -> str:
    """The lines of the Dockerfile's last stage: only its EXPOSE and CMD matter at run time."""
    return re.split(r"(?im)^FROM\s", dockerfile)[-1]


def test_dockerfile_port_matches_compose(services: dict[str, Any]) -> None:
    stage = final_stage(DOCKERFILE.read_text(encoding="utf-8"))
    exposed = {int(port) for line in re.findall(r"(?im)^EXPOSE\s+(.+)$", stage)
               for port in re.findall(r"(\d+)(?:/tcp)?", line)}
    bound = {int(port) for port in re.findall(r"--bind[= ]\S*?0\.0\.0\.0:(\d+)", stage)}
    published = container_ports(services["app"])
    assert exposed, f"{DOCKERFILE.name}'s final stage has no EXPOSE"
    assert bound, (f"{DOCKERFILE.name}'s CMD should bind gunicorn to 0.0.0.0:<port> "
                   "(reachable from outside the container)")
    assert bound <= exposed, f"{DOCKERFILE.name} binds gunicorn to {sorted(bound)} but EXPOSEs {sorted(exposed)}"
    assert published and published <= bound, (
        f"app's ports in {COMPOSE_FILE.name} map to container port(s) {sorted(published)}, "
        f"but gunicorn listens on {sorted(bound)} ({DOCKERFILE.name})"
    )


def test_no_request_needs_a_long_gunicorn_timeout() -> None:
    # Ledgers are jobs now (docs/jobs.md): gunicorn keeps its default 30 s in the image and in `make run`.
    for path in (DOCKERFILE, ROOT / "Makefile"):
        gunicorn = [line for line in path.read_text(encoding="utf-8").splitlines() if "gunicorn --bind" in line]
        assert gunicorn and not any("--timeout" in line for line in gunicorn), (path.name, gunicorn)

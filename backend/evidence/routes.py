"""/api/photos, /api/blobs and the tus 1.0 upload endpoint /api/uploads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from email.utils import format_datetime
from functools import cache
from typing import Any

from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.auth import current_user, login_required
from backend.errors import BadRequest, ErrorSchema
from backend.evidence import service, uploads, view
from backend.evidence.models import Upload
from backend.evidence.schemas import (
    SHA256,
    PhotoPageSchema,
    PhotoQueryArgsSchema,
    PhotoSchema,
    evidence_schema,
)
from backend.extensions import db
from backend.headers import header_number
from backend.records import kinds

photos_blp = Blueprint("photos", __name__, url_prefix="/api/photos", description="Photo evidence 照片")
blobs_blp = Blueprint("blobs", __name__, url_prefix="/api/blobs", description="Bytes the server already holds")
uploads_blp = Blueprint("uploads", __name__, url_prefix="/api/uploads",
                        description="Resumable photo uploads (tus 1.0: creation, creation-with-upload, "
                                    "expiration, checksum, termination)")

# A field phone is often shared: an image may stay in its browser cache but is shown again only
# after the server has checked the reader (If-None-Match: a 304 costs no bytes). An original, with
# its EXIF, is not written to the cache at all.
REVALIDATE = "private, no-cache"
NO_STORE = "no-store"
ERROR = {"description": "Error", "content": {"application/json": {"schema": ErrorSchema}}}
BINARY = {"schema": {"type": "string", "format": "binary"}}


# --- photos ------------------------------------------------------------------------

@photos_blp.route("")
class Photos(MethodView):
    @login_required()
    @photos_blp.doc(summary="Photos in your area, e.g. of one record (record_type and record_id)")
    @photos_blp.arguments(PhotoQueryArgsSchema, location="query")
    @photos_blp.response(200, PhotoPageSchema)
    def get(self, args):
        return service.list_photos(actor=current_user(), **args)


@photos_blp.route("/<uuid:photo_id>")
@login_required()
@photos_blp.doc(summary="One photo: what the phone said, what the file says, and its flags")
@photos_blp.response(200, PhotoSchema)
def get_photo(photo_id):
    photo = service.get_photo(actor=current_user(), photo_id=photo_id)
    return photo, 200, {"ETag": f'"{photo.version}"'}


@photos_blp.route("/<uuid:photo_id>/<any(thumb, display, original):variant>")
@login_required()
@photos_blp.doc(summary="The image: thumb (≤320 px) and display (≤1600 px) JPEGs without EXIF; original "
                        "(supervisors and admins, audited)",
                responses={200: {"description": "The image", "content": {"image/jpeg": BINARY, "image/png": BINARY,
                                                                         "image/webp": BINARY, "image/heic": BINARY,
                                                                         "image/heif": BINARY}},
                           304: {"description": "Not modified (If-None-Match)"}, 403: ERROR, 404: ERROR})
def get_photo_file(photo_id, variant):
    data, mime, etag = service.read_variant(actor=current_user(), photo_id=photo_id, variant=variant)
    db.session.commit()  # the audit entry of an original's read
    headers = {"ETag": etag, "Cache-Control": NO_STORE if variant == "original" else REVALIDATE,
               "X-Content-Type-Options": "nosniff"}
    if request.if_none_match.contains(etag.strip('"')):
        return Response(status=304, headers=headers)
    return Response(data, mimetype=mime, headers=headers)


# --- blobs -------------------------------------------------------------------------

@blobs_blp.route("/<sha256>", methods=["HEAD"])
@login_required()
@blobs_blp.doc(summary="200 when a live photo you can see holds these bytes: skip the upload; your photos "
                       "that name them are linked. 404 otherwise (also when only another area holds them): "
                       "upload them", responses={200: {"description": "Held"}, 404: ERROR})
def head_blob(sha256):
    if not SHA256.regex.match(sha256):
        raise BadRequest("The path must end in a SHA-256: 64 lowercase hexadecimal digits.", reason="bad_sha256")
    service.link_waiting(actor=current_user(), sha256=sha256)
    db.session.commit()
    return Response(status=200)


# --- tus uploads -------------------------------------------------------------------

TUS_HEADERS = {"Tus-Resumable": uploads.TUS_VERSION}


@uploads_blp.before_request
def _check_tus_version() -> None:
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != uploads.TUS_VERSION:
        raise uploads.WrongVersion(f"Send Tus-Resumable: {uploads.TUS_VERSION}.",
                                   headers={"Tus-Version": uploads.TUS_VERSION})


@uploads_blp.after_request
def _tus_headers(response: Response) -> Response:
    response.headers.update(TUS_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _advertised(status: int = 204) -> Response:
    return Response(status=status, headers={
        "Tus-Version": uploads.TUS_VERSION, "Tus-Extension": ",".join(uploads.EXTENSIONS),
        "Tus-Max-Size": str(current_app.config["PHOTO_MAX_BYTES"]),
        "Tus-Checksum-Algorithm": ",".join(uploads.CHECKSUMS)})


def _int_header(name: str, *, required: bool) -> int | None:
    value = request.headers.get(name)
    if value is None:
        if required:
            raise BadRequest(f"The {name} header is required.", reason="header_missing")
        return None
    number = header_number(value, max_digits=15)
    if number is None:
        raise BadRequest(f"{name} must be a whole number of bytes in digits 0-9.", reason="bad_header")
    return number


def _chunk() -> bytes | None:
    """The request body when it is upload data, else None."""
    if request.mimetype != "application/offset+octet-stream":
        return None
    return request.get_data(cache=False)


def _state(upload: Upload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}
    if upload.completed_at is None:
        headers["Upload-Expires"] = format_datetime(upload.expires_at.astimezone(UTC), usegmt=True)
    return headers


@contextmanager
def _restart_committed() -> Iterator[None]:
    """An upload that went back to byte 0 is committed so before its error is answered: the
    client's next HEAD says 0, and the dropped chunks are deleted after that commit."""
    try:
        yield
    except uploads.Restarted:
        db.session.commit()
        raise


@uploads_blp.route("", methods=["OPTIONS"])
@uploads_blp.doc(summary="What this tus server supports", security=[],
                 responses={204: {"description": "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm"}})
def options_uploads():
    return _advertised()


@uploads_blp.route("", methods=["POST"])
@login_required()
@uploads_blp.doc(summary="Start an upload (Upload-Length; Upload-Metadata with photo_id and sha256; optionally "
                         "the first chunk as application/offset+octet-stream)",
                 responses={201: {"description": "Created: Location is the upload's URL"},
                            403: {"description": "Not the author of the photo's record (`not_author`)"},
                            "default": ERROR})
def create_upload():
    with _restart_committed():
        upload = uploads.create(actor=current_user(), length=_int_header("Upload-Length", required=False),
                                metadata=request.headers.get("Upload-Metadata", ""), first_chunk=_chunk(),
                                checksum=request.headers.get("Upload-Checksum"))
    headers = {"Location": url_for("uploads.upload", upload_id=upload.id, _external=True), **_state(upload)}
    db.session.commit()
    return Response(status=201, headers=headers)


@uploads_blp.route("/<upload_id>", methods=["HEAD", "PATCH", "DELETE"], endpoint="upload")
@login_required()
@uploads_blp.doc(summary="HEAD: where the upload stands (Upload-Offset). PATCH: the next chunk at Upload-Offset "
                         "(application/offset+octet-stream, optional Upload-Checksum). DELETE: stop it. "
                         "Only the user who created the upload; anyone else gets 404.",
                 responses={200: {"description": "Upload-Offset, Upload-Length, Upload-Expires"},
                            204: {"description": "Chunk stored, or upload terminated"},
                            460: {"description": "The chunk does not match Upload-Checksum (`checksum_mismatch`, "
                                                 "chunk discarded), or the whole file not the photo's SHA-256 "
                                                 "(`sha256_mismatch`, the upload starts again from byte 0)"},
                            "default": ERROR})
def upload(upload_id):
    actor = current_user()
    if request.method == "HEAD":
        found = uploads.get(actor=actor, upload_id=upload_id)
        return Response(status=200, headers={**_state(found), "Upload-Metadata": found.upload_metadata})
    if request.method == "DELETE":
        uploads.terminate(actor=actor, upload_id=upload_id)
        db.session.commit()
        return Response(status=204)
    data = _chunk()
    if data is None:
        raise uploads.NotUploadData("A chunk is sent as Content-Type: application/offset+octet-stream.")
    with _restart_committed():
        updated = uploads.append(actor=actor, upload_id=upload_id,
                                 offset=_int_header("Upload-Offset", required=True), data=data,
                                 checksum=request.headers.get("Upload-Checksum"))
    headers = _state(updated)
    db.session.commit()
    return Response(status=204, headers=headers)


# --- the evidence view of a record -------------------------------------------------------

@cache
def record_evidence_blueprint() -> Blueprint:
    """GET /api/<plural>/{id}/evidence for each kind whose photos a reviewer weighs.

    Built once, on the first app's creation, after every room has registered its kinds:
    the routes and their answer schemas come from the registry, not from a list here.
    """
    blp = Blueprint("record_evidence", __name__, url_prefix="/api",
                    description="The evidence behind a record: target, fixes, photos, flags and distances "
                                "(supervisors, admins, the record's author)")
    for kind in kinds.evidence_viewed():
        _add_evidence_route(blp, kind)
    return blp


def _add_evidence_route(blp: Blueprint, kind: kinds.Kind[Any]) -> None:
    assert kind.photos is not None and kind.out_schema is not None
    answer = evidence_schema(kind)
    target = kind.photos.target_kind if kind.photos.target_field else "itself"

    @blp.route(f"/{kind.plural}/<uuid:record_id>/evidence", endpoint=f"{kind.name}_evidence")
    @login_required()
    @blp.doc(summary=f"One {kind.name}'s evidence: its target ({target}), fixes, photos with flags, "
                     "distances in metres")
    @blp.response(200, answer)
    def evidence(record_id):
        return view.record_evidence(actor=current_user(), record_type=kind.name, record_id=record_id)

"""/api/geo: records as GeoJSON (RFC 7946) for the supervisors' map."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from backend.auth import current_user, login_required
from backend.geo import service
from backend.geo.schemas import (
    MAX_FEATURES,
    HotspotCollectionSchema,
    HotspotGeoArgsSchema,
    InspectionCollectionSchema,
    PhotoCollectionSchema,
    PhotoGeoArgsSchema,
    ReviewedGeoArgsSchema,
    VisitCollectionSchema,
)

blp = Blueprint("geo", __name__, url_prefix="/api/geo", description="Map layers (GeoJSON)")

GEOJSON = "application/geo+json"
LIMITED = (f"One Point per record (photo) with a position, newest first; at most `limit` (≤{MAX_FEATURES}) features, "
           "with `truncated` and `total` (foreign members, RFC 7946 §6.1) telling how many matched.")


def geojson(collection: dict[str, Any]) -> Response:
    """The collection as application/geo+json, serialised directly: no schema walks thousands of features."""
    return Response(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), mimetype=GEOJSON)


@blp.route("/visits")
@login_required()
@blp.doc(summary="Visits in your area as GeoJSON", description=LIMITED)
@blp.arguments(ReviewedGeoArgsSchema, location="query")
@blp.response(200, VisitCollectionSchema, content_type=GEOJSON)
def visits(args):
    return geojson(service.visits(actor=current_user(), **args))


@blp.route("/inspections")
@login_required()
@blp.doc(summary="Inspections in your area as GeoJSON", description=LIMITED)
@blp.arguments(ReviewedGeoArgsSchema, location="query")
@blp.response(200, InspectionCollectionSchema, content_type=GEOJSON)
def inspections(args):
    return geojson(service.inspections(actor=current_user(), **args))


@blp.route("/hotspots")
@login_required()
@blp.doc(summary="Hotspots in your area as GeoJSON", description=LIMITED)
@blp.arguments(HotspotGeoArgsSchema, location="query")
@blp.response(200, HotspotCollectionSchema, content_type=GEOJSON)
def hotspots(args):
    return geojson(service.hotspots(actor=current_user(), **args))


@blp.route("/photos")
@login_required()
@blp.doc(summary="Photos in your area as GeoJSON, at their EXIF position, else the phone's fix",
         description=LIMITED)
@blp.arguments(PhotoGeoArgsSchema, location="query")
@blp.response(200, PhotoCollectionSchema, content_type=GEOJSON)
def photos(args):
    return geojson(service.photos(actor=current_user(), **args))

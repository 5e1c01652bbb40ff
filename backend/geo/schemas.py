"""Query arguments of /api/geo, and the GeoJSON (RFC 7946) its layers answer, for the OpenAPI document.

The responses are built as plain dicts (``service.py``); these schemas only describe them.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from backend.areas.schemas import AREA_CODE
from backend.evidence.flags import CODES as FLAG_CODES
from backend.evidence.models import PHOTO_STATUSES
from backend.hotspots.models import HOTSPOT_STATUSES
from backend.records import kinds
from backend.records.models import REVIEW_STATUSES
from backend.records.schemas import BBox, Instant

MAX_FEATURES = 5000
POSITIONS = ("exif", "device")


class GeoArgsSchema(ma.Schema):
    bbox = BBox(metadata={"description": "minLon,minLat,maxLon,maxLat (WGS-84 degrees)"})
    area = ma.fields.String(validate=AREA_CODE, metadata={"description": "Only this area's subtree"})
    since = Instant(metadata={"description": "Time (the `time` property) at or after"})
    until = Instant(metadata={"description": "Time (the `time` property) before"})
    flag = ma.fields.String(validate=validate.OneOf(FLAG_CODES),
                            metadata={"description": "Only those with a live photo carrying this flag "
                                                     "(photos: carrying it themselves)"})
    limit = ma.fields.Integer(load_default=MAX_FEATURES, validate=validate.Range(min=1, max=MAX_FEATURES),
                              metadata={"description": "At most this many features, newest first"})


class ReviewedGeoArgsSchema(GeoArgsSchema):
    review_status = ma.fields.String(validate=validate.OneOf(REVIEW_STATUSES))


class HotspotGeoArgsSchema(GeoArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(HOTSPOT_STATUSES))


class PhotoGeoArgsSchema(GeoArgsSchema):
    record_type = ma.fields.String(validate=kinds.KindName(kinds.photo_carriers))
    status = ma.fields.String(validate=validate.OneOf(PHOTO_STATUSES))


# --- responses ---------------------------------------------------------------------

def _time(description: str) -> ma.fields.AwareDateTime:
    return ma.fields.AwareDateTime(required=True, metadata={"description": description})


class _Common(ma.Schema):
    flag_count = ma.fields.Integer(required=True, metadata={"description": "Flags on its live photos"})
    area_code = ma.fields.String(required=True)


class VisitPropertiesSchema(_Common):
    kind = ma.fields.String(required=True)
    review_status = ma.fields.String(required=True)
    time = _time("visited_at")


class InspectionPropertiesSchema(_Common):
    result = ma.fields.String(required=True)
    review_status = ma.fields.String(required=True)
    hotspot_id = ma.fields.UUID(required=True)
    time = _time("inspected_at")


class HotspotPropertiesSchema(_Common):
    name = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    risk_level = ma.fields.String(required=True)
    deadline = ma.fields.Date(required=True, allow_none=True)
    time = _time("updated_at")
    flag_count = ma.fields.Integer(required=True, metadata={"description": "Flags on its own live photos "
                                                                          "(not its inspections')"})


class PhotoPropertiesSchema(_Common):
    record_type = ma.fields.String(required=True)
    record_id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True)
    flags = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "Its flag codes"})
    position = ma.fields.String(required=True, validate=validate.OneOf(POSITIONS),
                                metadata={"description": "Where the point comes from: the photo's EXIF, "
                                                         "else the phone's fix at capture"})
    time = _time("captured_at, else when it was attached")
    flag_count = ma.fields.Integer(required=True)


class PointSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=validate.OneOf(["Point"]))
    coordinates = ma.fields.List(ma.fields.Float(validate=validate.Range(min=-180, max=180)), required=True,
                                 validate=validate.Length(equal=2),
                                 metadata={"description": "[longitude, latitude], WGS-84"})


def feature_collection(properties: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The schema of a FeatureCollection of Points with these properties, named ``<name>FeatureCollection``."""
    feature = ma.Schema.from_dict({
        "type": ma.fields.String(required=True, validate=validate.OneOf(["Feature"])),
        "id": ma.fields.UUID(required=True, metadata={"description": "The record's id"}),
        "geometry": ma.fields.Nested(PointSchema, required=True),
        "properties": ma.fields.Nested(properties, required=True),
    }, name=f"{name}Feature")
    return ma.Schema.from_dict({
        "type": ma.fields.String(required=True, validate=validate.OneOf(["FeatureCollection"])),
        "features": ma.fields.List(ma.fields.Nested(feature), required=True),
        "truncated": ma.fields.Boolean(required=True, metadata={"description": "More matched than `limit`"}),
        "total": ma.fields.Integer(required=True, metadata={"description": "How many matched in all"}),
    }, name=f"{name}FeatureCollection")


VisitCollectionSchema = feature_collection(VisitPropertiesSchema, "Visit")
InspectionCollectionSchema = feature_collection(InspectionPropertiesSchema, "Inspection")
HotspotCollectionSchema = feature_collection(HotspotPropertiesSchema, "Hotspot")
PhotoCollectionSchema = feature_collection(PhotoPropertiesSchema, "Photo")

"""Body of /api/categories."""

from __future__ import annotations

import marshmallow as ma


class CategorySchema(ma.Schema):
    code = ma.fields.String(required=True)
    zh = ma.fields.String(required=True)
    en = ma.fields.String(required=True)


class CategoryListsSchema(ma.Schema):
    dispute_types = ma.fields.List(ma.fields.Nested(CategorySchema), required=True, data_key="dispute_types",
                                   attribute="dispute_type")
    hotspot_types = ma.fields.List(ma.fields.Nested(CategorySchema), required=True, attribute="hotspot_type")
    visit_kinds = ma.fields.List(ma.fields.Nested(CategorySchema), required=True, attribute="visit_kind")

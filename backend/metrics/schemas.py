"""Bodies of /api/metrics."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import validate

from backend.areas.schemas import AREA_CODE

# Dates whose local midnights, and the day after, every database stores.
DATE_RANGE = validate.Range(min=date(1970, 1, 1), max=date(9999, 12, 30),
                            error="Give a date between {min} and {max}.")


class MetricsAreaArgsSchema(ma.Schema):
    area = ma.fields.String(validate=AREA_CODE, metadata={"description": "Area code; default: your own area"})


class CoverageArgsSchema(MetricsAreaArgsSchema):
    start = ma.fields.Date(data_key="from", validate=DATE_RANGE,
                           metadata={"description": "First day (YYYY-MM-DD, county time); default: `to` − 29 days"})
    end = ma.fields.Date(data_key="to", validate=DATE_RANGE,
                         metadata={"description": "Last day, included (YYYY-MM-DD, county time); default: today"})


class RateSchema(ma.Schema):
    numerator = ma.fields.Integer(required=True)
    denominator = ma.fields.Integer(required=True)
    rate = ma.fields.Float(required=True, allow_none=True,
                           metadata={"description": "numerator ÷ denominator (0–1, 4 decimals); null when 0 ÷ 0"})


class MetricsAreaSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    level = ma.fields.String(required=True)


class CoverageRowSchema(MetricsAreaSchema):
    households = ma.fields.Integer(required=True, metadata={"description": "Live households"})
    visited_households = ma.fields.Integer(
        required=True, metadata={"description": "Live households with a live visit in the period"})
    coverage = ma.fields.Nested(RateSchema, required=True, metadata={"description": "visited ÷ households"})
    visits = ma.fields.Integer(required=True, metadata={"description": "Live visits in the period"})
    flagged_visits = ma.fields.Integer(
        required=True, metadata={"description": "Of those, visits with a live photo carrying a flag"})
    pending_visits = ma.fields.Integer(required=True, metadata={"description": "Of those, awaiting review"})
    overdue_follow_ups = ma.fields.Integer(
        required=True, metadata={"description": "Live visits whose follow-up is overdue today (any visit date)"})


class _PeriodReportSchema(ma.Schema):
    area = ma.fields.Nested(MetricsAreaSchema, required=True)
    start = ma.fields.Date(required=True, data_key="from")
    end = ma.fields.Date(required=True, data_key="to")
    today = ma.fields.Date(required=True, metadata={"description": "The county's date that 'overdue' refers to"})
    timezone = ma.fields.String(required=True)


class CoverageSchema(_PeriodReportSchema):
    total = ma.fields.Nested(CoverageRowSchema, required=True, metadata={"description": "The whole area"})
    children = ma.fields.List(ma.fields.Nested(CoverageRowSchema), required=True)


class RectificationRowSchema(MetricsAreaSchema):
    listed = ma.fields.Integer(required=True, metadata={"description": "Live hotspots, any status"})
    closed_after_inspection = ma.fields.Integer(
        required=True, metadata={"description": "Closed, with at least one live inspection"})
    overdue = ma.fields.Integer(required=True, metadata={"description": "Deadline before today and not closed"})
    relapsed = ma.fields.Integer(required=True, metadata={"description": "Status relapsed now"})
    due = ma.fields.Integer(required=True, metadata={"description": "Deadline today or earlier, or closed"})
    rectification = ma.fields.Nested(RateSchema, required=True,
                                     metadata={"description": "closed after an inspection ÷ due"})


class RectificationSchema(ma.Schema):
    area = ma.fields.Nested(MetricsAreaSchema, required=True)
    today = ma.fields.Date(required=True)
    timezone = ma.fields.String(required=True)
    total = ma.fields.Nested(RectificationRowSchema, required=True)
    children = ma.fields.List(ma.fields.Nested(RectificationRowSchema), required=True)


class DaySchema(ma.Schema):
    date = ma.fields.Date(required=True, attribute="day", metadata={"description": "A county day"})
    visits = ma.fields.Integer(required=True, metadata={"description": "Live visits that day"})
    flagged_visits = ma.fields.Integer(
        required=True, metadata={"description": "Of those, visits with a live photo carrying a flag"})


class VisitsPerDaySchema(_PeriodReportSchema):
    days = ma.fields.List(ma.fields.Nested(DaySchema), required=True,
                          metadata={"description": "Every day from `from` to `to`, in order, days without visits too"})

"""The scheduler's housekeeping, each run recorded as a job that admins see.

Times are UTC (huey's clock here); the comments give them in China Standard Time, where the
quiet hours of a county are. Case work adds its own when it lands: deadline reminders
(3 working days before, and overdue) and 督办 escalation are kinds that ``backend/cases``
will ``service.register`` and put in ``SCHEDULE`` next to these. Nothing runs for them yet.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from huey import crontab
from sqlalchemy import select

from backend.areas.models import Area
from backend.extensions import db
from backend.jobs import service
from backend.jobs.models import Job, RateSnapshot
from backend.models_base import utcnow

SCHEDULE: dict[str, Any] = {
    "sign_in_prune": crontab(minute="17"),                  # hourly
    "upload_expiry": crontab(minute="47"),                  # hourly
    "rates_snapshot": crontab(minute="10", hour="16"),      # 00:10: the county day just ended
    "sync_prune": crontab(minute="30", hour="19"),          # 03:30
    "jobs_prune": crontab(minute="0", hour="20"),           # 04:00
}


def _sync_prune(job: Job, run: service.Run) -> dict[str, Any]:
    from backend.sync import service as sync_service

    days = current_app.config["SYNC_RETENTION_DAYS"]
    return {"dropped": sync_service.prune(older_than=utcnow() - timedelta(days=days)), "days": days}


def _upload_expiry(job: Job, run: service.Run) -> dict[str, Any]:
    from backend.evidence import uploads

    return {"dropped": uploads.expire_old()}


def _sign_in_prune(job: Job, run: service.Run) -> dict[str, Any]:
    from backend.accounts import rate_limit
    from backend.accounts import service as accounts_service

    return {"throttles": accounts_service.prune_login_throttles(), "counters": rate_limit.prune_counters()}


def _jobs_prune(job: Job, run: service.Run) -> dict[str, Any]:
    return service.prune()


def _rates_snapshot(job: Job, run: service.Run) -> dict[str, Any]:
    """Each county's coverage (the 30 days ending yesterday) and rectification, one row per county and day."""
    from backend.metrics import service as metrics_service

    zone = metrics_service.county_zone()
    day = metrics_service.local_today(zone) - timedelta(days=1)
    counties = list(db.session.scalars(select(Area).where(Area.level == "county").order_by(Area.code)))
    for number, county in enumerate(counties):
        run.progress(number, len(counties), county.name)
        coverage = metrics_service.coverage(actor=None, area=county.code, end=day).total
        rectification = metrics_service.rectification(actor=None, area=county.code).total
        db.session.merge(RateSnapshot(
            area_code=county.code, day=day, households=coverage.households,
            visited_households=coverage.visited_households, visits=coverage.visits,
            flagged_visits=coverage.flagged_visits, overdue_follow_ups=coverage.overdue_follow_ups,
            hotspots_due=rectification.due, hotspots_closed=rectification.closed_after_inspection,
            hotspots_overdue=rectification.overdue, hotspots_relapsed=rectification.relapsed, taken_at=utcnow()))
    db.session.flush()
    return {"day": day.isoformat(), "counties": len(counties)}


service.register("sync_prune", _sync_prune, label="清理同步日志 Sync change-log prune")
service.register("upload_expiry", _upload_expiry, label="清理过期上传 Expired uploads")
service.register("sign_in_prune", _sign_in_prune, label="清理登录限制记录 Sign-in throttle prune")
service.register("jobs_prune", _jobs_prune, label="清理任务文件 Old job files")
service.register("rates_snapshot", _rates_snapshot, label="每日指标快照 Daily rates snapshot")

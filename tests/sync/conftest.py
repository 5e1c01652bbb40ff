"""Helpers for the sync scenarios: devices that push numbered mutations, and pulls that follow has_more.

Each scenario is one failure mode of an offline client (DESIGN §4) and checks the server
state afterwards through the API and the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import flask_migrate
import pytest
from sqlalchemy import func, select

from backend import create_app
from backend.accounts import service as accounts_service
from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.audit.models import AuditEvent
from backend.changes.models import Change
from backend.extensions import db
from backend.visits.models import Visit
from tests.factories import bearer, make_user, token_for

MAX_PAGES = 50


@dataclass
class Device:
    """One installed app of one user: its token, its client id and its next mutation id."""

    user: User
    headers: dict[str, str]
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    next_id: int = 1

    def mutation(self, type_: str, record_id: Any, fields: dict[str, Any] | None = None,
                 base_version: int | None = None) -> dict[str, Any]:
        """The next mutation this device queues."""
        queued = mutation(self.next_id, type_, record_id, fields, base_version)
        self.next_id += 1
        return queued


def device(username: str, area_code: str, *roles: str) -> Device:
    user = make_user(username, area_code, *roles)
    return Device(user, bearer(token_for(user)))


@pytest.fixture
def cadre(tree) -> Device:
    """A village cadre of V1, on one phone."""
    return device("cadre-v1", tree.V1, "cadre")


@pytest.fixture
def supervisor(tree) -> Device:
    """A county supervisor of A."""
    return device("supervisor-a", tree.A, "supervisor")


def new_id() -> str:
    return str(uuid.uuid4())


def mutation(id_: int, type_: str, record_id: Any, fields: dict[str, Any] | None = None,
             base_version: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": id_, "type": type_, "record_id": str(record_id), "base_version": base_version}
    if fields is not None:
        body["fields"] = fields
    return body


def visit_fields(**overrides: Any) -> dict[str, Any]:
    """A valid new visit in V1."""
    return {"area_code": "990101001001", "kind": "household", "visited_at": "2026-11-20T09:30:00+08:00",
            "summary": "入户走访，了解邻里纠纷情况。",
            "concerns": [{"category": "neighbourhood", "description": "宅基地边界争议"}], **overrides}


def household_fields(**overrides: Any) -> dict[str, Any]:
    """A valid new household in V1."""
    return {"area_code": "990101001001", "address": "一村3组12号", "head_name": "张三", **overrides}


def hotspot_fields(**overrides: Any) -> dict[str, Any]:
    """A valid new hotspot in V1."""
    return {"area_code": "990101001001", "name": "一村集贸市场", "category": "market", **overrides}


def push(client, headers: dict[str, str], client_id: str, mutations: list[dict[str, Any]],
         status: int = 200) -> dict[str, Any]:
    """POST /api/sync/push; the JSON answer, after checking the status."""
    response = client.post("/api/sync/push", headers=headers, json={"client_id": client_id, "mutations": mutations})
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def pull(client, headers: dict[str, str], client_id: str, cursor: str | None = None,
         limit: int | None = None) -> dict[str, Any]:
    """One GET /api/sync/pull page."""
    query: dict[str, Any] = {"client_id": client_id}
    if cursor is not None:
        query["cursor"] = cursor
    if limit is not None:
        query["limit"] = limit
    response = client.get("/api/sync/pull", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@dataclass
class Pulled:
    """Pages of one pull, from a cursor until has_more is false."""

    pages: list[dict[str, Any]]

    @property
    def cursor(self) -> str:
        return self.pages[-1]["cursor"]

    def upserted(self, plural: str) -> dict[str, dict[str, Any]]:
        """The last state of each upserted record, by id."""
        return {record["id"]: record for page in self.pages for record in page["changes"][plural]["upserted"]}

    def deleted(self, plural: str) -> set[str]:
        return {record_id for page in self.pages for record_id in page["changes"][plural]["deleted"]}


def pull_all(client, headers: dict[str, str], client_id: str, cursor: str | None = None,
             limit: int | None = None) -> Pulled:
    """Pull pages, saving each cursor as a client does, until has_more is false."""
    pages = []
    while True:
        page = pull(client, headers, client_id, cursor, limit)
        pages.append(page)
        cursor = page["cursor"]
        if not page["has_more"]:
            return Pulled(pages)
        assert len(pages) < MAX_PAGES, f"pull did not finish in {MAX_PAGES} pages: {[p['cursor'] for p in pages]}"


def count(db, model: type, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def written(db) -> tuple[int, int, int]:
    """(visit rows, change-log rows, record audit rows): what a write leaves behind."""
    record_events = AuditEvent.entity.in_(("household", "visit", "hotspot", "inspection"))
    return count(db, Visit), count(db, Change), count(db, AuditEvent, record_events)


COUNTY, TOWNSHIP, VILLAGE = "990101000000", "990101001000", "990101001001"


@pytest.fixture
def committing_app(empty_database_url, tmp_path):
    """An app on its own database, where requests really commit; a V1 cadre's token in its config."""
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path)})
    with app.app_context():
        flask_migrate.upgrade()
        for code, level, parent in ((COUNTY, "county", None), (TOWNSHIP, "township", COUNTY),
                                    (VILLAGE, "village", TOWNSHIP)):
            areas_service.create_area(actor=None, code=code, name=code, level=level, parent_code=parent)
        user = accounts_service.create_user(actor=None, username="cadre", password="a-long-password",
                                            roles=["cadre"], area_code=VILLAGE)
        token, _device = accounts_service.issue_token(user, "phone")
        db.session.commit()
    app.config["TEST_TOKEN"] = token
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

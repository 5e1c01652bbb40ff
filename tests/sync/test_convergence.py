"""Convergence of offline clients under random interleavings of sync pushes, retries and pulls.

Li (a cadre of village V1, with a phone and a tablet), Wang (a cadre of V1) and Zhao (a
cadre of township T1, which also holds village V3) keep households and visits; Chen, a
supervisor of county A, pulls and reviews visits through REST with If-Match. Each device is
an outbox of numbered mutations, a mirror of records as pulled, and a cursor.

Hypothesis draws the steps: queue a create, an edit (households are shared, so edits
collide) or a delete; push part of an outbox, where the server may commit and the
response be lost (the device resends the same ids later), the batch may arrive shuffled or
start past a gap; pull a page, where the response may be lost or the page applied without
its cursor being saved; review; prune the change log. A model of the server predicts each
mutation's result (applied, merged, conflict or rejected, the version, the conflicting
fields) at the moment the server processes it. At the end every outbox is drained and
every device pulls to the end. Then:

- each mutation was processed exactly once: a retried id answers what it answered the
  first time; per record, the audit trail holds the model's writes in order, and the
  version (and, until pruning, the change log) counts them; each client's
  last_mutation_id is its highest queued id;
- the server holds exactly the records the model holds (none lost, none doubled), live or
  deleted as their last mutation says, field for field;
- every mirror equals the server's live records in its user's area (through the REST list
  and the pull schema), deleted and moved-away records absent; this is also checked
  after every pull that reaches has_more false.
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.areas import service as areas_service
from backend.audit.models import AuditEvent
from backend.changes.models import Change
from backend.extensions import db as _db
from backend.households.models import Household
from backend.households.schemas import HouseholdSchema
from backend.models_base import utcnow
from backend.records.writes import REVIEW_TRANSITIONS
from backend.sync import service as sync_service
from backend.sync.models import SyncClient, SyncResult
from backend.visits.models import Visit
from backend.visits.schemas import VisitSchema
from tests.factories import bearer, make_user, token_for

V3 = "990101001002"  # a second village of T1: Zhao can move households out of V1 into it
ENTITIES = {"household": ("households", Household, HouseholdSchema), "visit": ("visits", Visit, VisitSchema)}
DEFAULTS = {
    "household": {"phone": None, "lat": None, "lon": None, "tags": []},
    "visit": {"household_id": None, "lat": None, "lon": None, "accuracy_m": None, "summary": "", "concerns": [],
              "satisfaction": None, "follow_up_due": None, "review_status": "pending", "review_comment": None,
              "reviewed_by_id": None},
}

MAX_PAGES = 200  # a pull that goes on longer is going round in circles
REQUIRED = {"household": ("area_code", "address", "head_name"), "visit": ("area_code", "kind", "visited_at")}
ADDRESSES = ("一组12号", "二组3号", "村口5号")
NAMES = ("张三", "李四", "王五")
PHONES = (None, "13800138000", "13912345678")
TAGS = ([], ["低保户"], ["独居老人", "低保户"])
SUMMARIES = ("", "家中一切正常", "反映邻里排水纠纷")
# The first two are the same instant: writing one over the other changes nothing.
TIMES = ("2026-11-20T09:30:00+08:00", "2026-11-20T01:30:00+00:00", "2026-11-21T15:00:00+08:00")
CONCERNS = ([], [{"category": "neighbourhood", "description": "排水沟堵塞"}],
            [{"category": "labour", "description": "拖欠工资"}, {"category": "other", "description": ""}])
KINDS = ("household", "key_person")
SATISFACTION = (None, 3, 5)
REVIEWS = ("approved", "rejected", "returned", "pending")
STEPS = (["queue_household"] * 2 + ["queue_visit"] * 3 + ["edit_household"] * 4 + ["edit_visit"] * 4
         + ["move_household"] * 2 + ["delete"] * 2 + ["push"] * 5 + ["pull"] * 4 + ["sync"] * 3
         + ["review"] * 3 + ["prune"])


def normalise(name: str, value: Any) -> Any:
    """A field value as the model compares it: instants for times, concerns with their default."""
    if name == "visited_at":
        return datetime.fromisoformat(value)
    if name == "concerns":
        return [{"category": c["category"], "description": c.get("description", "")} for c in value]
    return value


@dataclass(frozen=True)
class Person:
    name: str
    user_id: int
    headers: dict[str, str]
    scope: frozenset[str]
    household_areas: tuple[str, ...] = ()
    visit_areas: tuple[str, ...] = ()


@dataclass
class Device:
    """An installed app: outbox, mirror (record key -> record as pulled) and cursor."""

    label: str
    person: Person
    client_id: str
    outbox: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1
    mirror: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    cursor: str | None = None
    created: set[tuple[str, str]] = field(default_factory=set)

    @property
    def writer(self) -> str:
        return f"client:{self.client_id}"

    def known(self, entity: str | None = None) -> list[tuple[str, str]]:
        keys = set(self.mirror) | self.created
        return sorted(key for key in keys if entity in (None, key[0]))


@dataclass
class Expected:
    """The model's view of one server record."""

    entity: str
    author_id: int
    fields: dict[str, Any]
    written: dict[str, tuple[int, str]]  # field -> (version, writer) of its last change
    version: int = 1
    deleted: bool = False
    actions: list[str] = field(default_factory=lambda: ["create"])


class ServerModel:
    """What the server should answer, given the order in which it processes mutations."""

    def __init__(self) -> None:
        self.records: dict[str, Expected] = {}
        self.last: dict[str, int] = {}
        self.answers: dict[tuple[str, int], dict[str, Any]] = {}
        self.expired: set[tuple[str, int]] = set()
        self.pruned = False

    def process(self, device: Device, mutation: dict[str, Any]) -> dict[str, Any]:
        entity, operation = mutation["type"].split(".")
        person, record = device.person, self.records.get(mutation["record_id"])
        if operation == "delete":
            if record is None or record.fields["area_code"] not in person.scope:
                return answer("applied", None)  # a record outside the area is as good as missing
            if record.deleted:
                return answer("applied", record.version)
            if entity == "visit" and record.author_id != person.user_id:
                return answer("rejected", error="forbidden")
            write(record, {"deleted": True}, device.writer, "delete")
            return answer("applied", record.version)
        fields = {name: normalise(name, value) for name, value in mutation["fields"].items()}
        if fields.get("satisfaction") not in (None, 1, 2, 3, 4, 5):
            return answer("rejected", error="validation")
        if record is None or record.fields["area_code"] not in person.scope:
            if mutation["base_version"]:
                return answer("rejected", error="not_found")
            return self.create(device, mutation["record_id"], entity, fields, taken=record is not None)
        if record.deleted:
            return answer("rejected", error="deleted")
        if entity == "visit" and record.author_id != person.user_id:
            return answer("rejected", error="forbidden")
        if entity == "visit" and not self.keeps_its_household(person, record, fields):
            return answer("rejected", error="validation")
        changed = {name: value for name, value in fields.items() if record.fields.get(name) != value}
        base = mutation["base_version"] or 0
        by_others = {name for name, (version, writer) in record.written.items()
                     if version > base and writer != device.writer}
        if not changed:
            return answer("merged" if by_others else "applied", record.version)
        if "area_code" in changed and changed["area_code"] not in person.scope:
            return answer("rejected", error="scope")
        conflicts = sorted(by_others & set(changed))
        status = record.fields.get("review_status")
        ruled_at = record.written.get("review_status", (0, ""))[0]
        resubmits = entity == "visit" and (status == "approved" or (status in ("returned", "rejected")
                                                                     and base >= ruled_at))
        write(record, changed, device.writer, "update", server={"review_status": "pending"} if resubmits else None)
        return answer("conflict" if conflicts else "merged" if by_others else "applied", record.version, conflicts)

    def keeps_its_household(self, person: Person, record: Expected, fields: dict[str, Any]) -> bool:
        """A visit's area is its household's, checked whenever either side of the pair is written."""
        home_id = fields["household_id"] if "household_id" in fields else record.fields.get("household_id")
        if home_id is None or not ("household_id" in fields or "area_code" in fields):
            return True
        home = self.records.get(home_id)
        if home is None or home.deleted or home.fields["area_code"] not in person.scope:
            return False
        return fields.get("area_code", record.fields["area_code"]) == home.fields["area_code"]

    def create(self, device: Device, record_id: str, entity: str, fields: dict[str, Any],
               taken: bool = False) -> dict[str, Any]:
        scope = device.person.scope
        if fields.get("household_id") is not None:
            home = self.records.get(fields["household_id"])
            if home is None or home.deleted or home.fields["area_code"] not in scope:
                return answer("rejected", error="validation")
            fields.setdefault("area_code", home.fields["area_code"])
        if any(name not in fields for name in REQUIRED[entity]):
            return answer("rejected", error="validation")  # an edit of a record whose create was rejected
        if fields["area_code"] not in scope:
            return answer("rejected", error="scope")
        if taken:
            return answer("rejected", error="id_conflict")
        self.records[record_id] = Expected(entity, device.person.user_id, {**DEFAULTS[entity], **fields},
                                           {name: (1, device.writer) for name in fields})
        return answer("applied", 1)

    def review(self, supervisor: Person, record_id: str, version: int, ruling: dict[str, Any]) -> int:
        """The HTTP status of POST /api/visits/<id>/review with If-Match: "<version>"."""
        record = self.records.get(record_id)
        if record is None or record.deleted or record.fields["area_code"] not in supervisor.scope:
            return 404
        if version != record.version:
            return 412
        if ruling["review_status"] not in REVIEW_TRANSITIONS[record.fields["review_status"]]:
            return 409
        if ruling["review_status"] in ("returned", "rejected") and not ruling["review_comment"]:
            return 422
        write(record, {**ruling, "reviewed_by_id": supervisor.user_id, "reviewed_at": None},
              f"user:{supervisor.user_id}", "review")
        return 200


def answer(status: str, version: int | None = None, conflicts: list[str] | None = None,
           error: str | None = None) -> dict[str, Any]:
    return {"status": status, "version": version, "conflicts": conflicts or [], "error": error}


def write(record: Expected, changed: dict[str, Any], writer: str, action: str,
          server: dict[str, Any] | None = None) -> None:
    record.version += 1
    for name, value in (server or {}).items():
        record.fields[name] = value
        record.written[name] = (record.version, "server")
    for name, value in changed.items():
        if name == "deleted":
            record.deleted = True
        else:
            record.fields[name] = value
        record.written[name] = (record.version, writer)
    record.actions.append(action)


class Run:
    """One drawn scenario against the real app, checked step by step against the model."""

    def __init__(self, client, people: dict[str, Person], data: st.DataObject):
        self.client, self.data = client, data
        self.devices = [Device("li-phone", people["li"], str(uuid.UUID(int=(1 << 64) + 1))),
                        Device("li-tablet", people["li-tablet"], str(uuid.UUID(int=(1 << 64) + 2))),
                        Device("wang", people["wang"], str(uuid.UUID(int=(1 << 64) + 3))),
                        Device("zhao", people["zhao"], str(uuid.UUID(int=(1 << 64) + 4)))]
        self.supervisor = Device("chen", people["chen"], str(uuid.UUID(int=(1 << 64) + 5)))
        self.server = ServerModel()
        self.record_ids = itertools.count(1)

    def draw(self, strategy: st.SearchStrategy, label: str | None = None) -> Any:
        return self.data.draw(strategy, label=label)

    def play(self) -> None:
        # The village register starts with two households and a visit that every device has pulled.
        zhao = self.devices[3]
        for address in ADDRESSES[:2]:
            self.queue(zhao, "household.upsert", self.new_record(zhao, "household"),
                       {"area_code": "990101001001", "address": address, "head_name": NAMES[0]})
        li = self.devices[0]
        self.queue(li, "visit.upsert", self.new_record(li, "visit"),
                   {"area_code": "990101001001", "kind": KINDS[0], "visited_at": TIMES[0], "summary": SUMMARIES[1]})
        for device in self.devices + [self.supervisor]:
            self.sync(device, drawn=False)
        for _ in range(self.draw(st.integers(min_value=1, max_value=60), "steps")):
            step = self.draw(st.sampled_from(STEPS))
            if step in ("review", "prune", "move_household"):
                getattr(self, step)()
                continue
            pulling = step in ("pull", "sync")
            device = self.draw(st.sampled_from(self.devices + [self.supervisor] * 2 if pulling else self.devices))
            getattr(self, step)(device)
        self.finish()

    # --- a device's user at work -------------------------------------------------------

    def queue(self, device: Device, type_: str, record_id: str, fields: dict[str, Any] | None = None) -> None:
        entity = type_.partition(".")[0]
        mirrored = device.mirror.get((entity, record_id))
        mutation = {"id": device.next_id, "type": type_, "record_id": record_id,
                    "base_version": mirrored["version"] if mirrored else None}
        if fields is not None:
            mutation["fields"] = fields
        device.next_id += 1
        device.outbox.append(mutation)
        note(f"{device.label} queues {mutation}")

    def new_record(self, device: Device, entity: str) -> str:
        record_id = str(uuid.UUID(int=next(self.record_ids)))
        device.created.add((entity, record_id))
        return record_id

    def queue_household(self, device: Device) -> None:
        # V2 is outside every cadre's area: those creates are rejected.
        fields = {"area_code": self.draw(st.sampled_from(device.person.household_areas + ("990101100201",))),
                  "address": self.draw(st.sampled_from(ADDRESSES)), "head_name": self.draw(st.sampled_from(NAMES))}
        fields |= self.draw(st.fixed_dictionaries({}, optional={"phone": st.sampled_from(PHONES),
                                                                "tags": st.sampled_from(TAGS)}))
        self.queue(device, "household.upsert", self.new_record(device, "household"), fields)

    def queue_visit(self, device: Device) -> None:
        homes = device.known("household")
        if homes and self.draw(st.booleans(), "for a household"):
            fields: dict[str, Any] = {"household_id": self.draw(st.sampled_from(homes))[1]}
        else:
            fields = {"area_code": self.draw(st.sampled_from(device.person.visit_areas))}
        fields |= {"kind": self.draw(st.sampled_from(KINDS)), "visited_at": self.draw(st.sampled_from(TIMES)),
                   "summary": self.draw(st.sampled_from(SUMMARIES)),
                   "concerns": self.draw(st.sampled_from(CONCERNS))}
        fields |= self.draw(st.fixed_dictionaries({}, optional={"satisfaction": st.sampled_from(SATISFACTION)}))
        self.queue(device, "visit.upsert", self.new_record(device, "visit"), fields)

    def edit_household(self, device: Device) -> None:
        keys = device.known("household")
        if keys:
            edit = self.draw(st.fixed_dictionaries({}, optional={
                "address": st.sampled_from(ADDRESSES), "head_name": st.sampled_from(NAMES),
                "phone": st.sampled_from(PHONES), "tags": st.sampled_from(TAGS),
                "area_code": st.sampled_from(("990101001001", "990101001901", V3))}))
            self.queue(device, "household.upsert", self.draw(st.sampled_from(keys))[1],
                       edit or {"address": ADDRESSES[0]})

    def move_household(self) -> None:
        """Zhao, of the township, moves a household between V1 and V3: in or out of the V1 cadres' area."""
        zhao = self.devices[3]
        keys = zhao.known("household")
        if keys:
            key = self.draw(st.sampled_from(keys))
            area = zhao.mirror.get(key, {}).get("area_code")
            self.queue(zhao, "household.upsert", key[1], {"area_code": "990101001001" if area == V3 else V3})

    def edit_visit(self, device: Device) -> None:
        keys = device.known("visit")
        if keys:
            edit = self.draw(st.fixed_dictionaries({}, optional={
                "summary": st.sampled_from(SUMMARIES), "satisfaction": st.sampled_from(SATISFACTION + (9,)),
                "concerns": st.sampled_from(CONCERNS), "visited_at": st.sampled_from(TIMES),
                "kind": st.sampled_from(KINDS), "area_code": st.sampled_from(device.person.visit_areas + (V3,))}))
            self.queue(device, "visit.upsert", self.draw(st.sampled_from(keys))[1], edit or {"summary": "改"})

    def delete(self, device: Device) -> None:
        keys = device.known()
        if keys:
            entity, record_id = self.draw(st.sampled_from(keys))
            self.queue(device, f"{entity}.delete", record_id)

    # --- the network ---------------------------------------------------------------------

    def push(self, device: Device, size: int | None = None, lose: bool | None = None) -> dict[str, Any]:
        size = self.draw(st.integers(min_value=0, max_value=8), "size") if size is None else size
        batch = device.outbox[:size]
        if lose is None:
            lose = self.draw(st.booleans(), "response lost")
            if len(batch) > 1 and self.draw(st.integers(0, 4), "gap") == 0:
                event("a batch starting past its first mutation")
                batch = batch[1:]
            if lose:
                event("a lost push response")
            batch = self.draw(st.permutations(batch), "order") if self.draw(st.booleans(), "shuffled") else batch
        response = self.client.post("/api/sync/push", headers=device.person.headers,
                                    json={"client_id": device.client_id, "mutations": batch})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        note(f"{device.label} pushes {[m['id'] for m in batch]} -> {body}{' (lost)' if lose else ''}")
        self.check_push(device, batch, body)
        if not lose:
            device.outbox = [m for m in device.outbox if m["id"] > body["last_mutation_id"]]
        return body

    def sync(self, device: Device, drawn: bool = True) -> None:
        """What the app's sync engine does when online: drain the outbox, then pull to the end."""
        self.drain(device)
        self.pull_to_end(device, self.draw(st.sampled_from((2, 500)), "limit") if drawn else 500)

    def pull_to_end(self, device: Device, limit: int) -> None:
        for _ in range(MAX_PAGES):
            if not self.pull(device, limit=limit)["has_more"]:
                return
        pytest.fail(f"{device.label}'s pull did not end after {MAX_PAGES} pages")

    def drain(self, device: Device) -> None:
        while device.outbox:
            before = len(device.outbox)
            self.push(device, size=100, lose=False)
            assert len(device.outbox) < before, f"{device.label}'s outbox does not drain"

    def check_push(self, device: Device, batch: list[dict[str, Any]], body: dict[str, Any]) -> None:
        server = self.server
        last = server.last.get(device.client_id, 0)
        processed = []
        for mutation in sorted(batch, key=lambda m: m["id"]):
            if mutation["id"] > last + 1:
                break  # a gap: the device must resend from last + 1
            processed.append(mutation)
            last = max(last, mutation["id"])
        assert [r["id"] for r in body["results"]] == [m["id"] for m in processed]
        for mutation, result in zip(processed, body["results"], strict=True):
            key = (device.client_id, mutation["id"])
            if key in server.answers:
                event("a retried mutation")
                assert result == server.answers[key], "a retried mutation must answer what it answered first"
            elif key in server.expired:
                assert (result["status"], result["error"]["code"]) == ("rejected", "result_expired")
            else:
                predicted = server.process(device, mutation)
                seen = {"status": result["status"], "version": result["version"],
                        "conflicts": [c["field"] for c in result["conflicts"]],
                        "error": result["error"] and result["error"]["code"]}
                assert seen == predicted, f"mutation {mutation} answered {result}"
                assert result["record_id"] == mutation["record_id"]
                event(f"result {result['status']}" + (f" {result['error']['code']}" if result["error"] else ""))
                server.answers[key] = result
        server.last[device.client_id] = last
        assert body["last_mutation_id"] == last

    def pull(self, device: Device, limit: int | None = None, lose: bool = False) -> dict[str, Any]:
        save = True
        if limit is None:
            limit = self.draw(st.sampled_from((1, 2, 3, 5, 500)), "limit")
            lose = self.draw(st.integers(0, 4), "response lost") == 0
            save = self.draw(st.integers(0, 4), "cursor saved") != 0
        query: dict[str, Any] = {"client_id": device.client_id, "limit": limit}
        if device.cursor is not None:
            query["cursor"] = device.cursor
        response = self.client.get("/api/sync/pull", headers=device.person.headers, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        summary = {plural: (len(c["upserted"]), len(c["deleted"])) for plural, c in page["changes"].items()}
        note(f"{device.label} pulls after {device.cursor}: {summary}, cursor {page['cursor']}, "
             f"has_more {page['has_more']}, reset {page['reset']}{' (lost)' if lose else ''}")
        assert page["last_mutation_id"] == self.server.last.get(device.client_id, 0)
        assert page["changes"]["hotspots"] == page["changes"]["inspections"] == {"upserted": [], "deleted": []}
        if lose:
            return page
        if page["reset"]:
            event("a pull reset")
            device.mirror.clear()
        for entity, (plural, _model, _schema) in ENTITIES.items():
            for record in page["changes"][plural]["upserted"]:
                device.mirror[(entity, record["id"])] = record
            for record_id in page["changes"][plural]["deleted"]:
                device.mirror.pop((entity, record_id), None)
        # A device that lost a push response learns here what the server processed.
        device.outbox = [m for m in device.outbox if m["id"] > page["last_mutation_id"]]
        if save:
            device.cursor = page["cursor"]
            if not page["has_more"]:
                self.check_mirror(device)
        return page

    def review(self) -> None:
        chen = self.supervisor
        keys = chen.known("visit")
        if not keys:
            return
        key = self.draw(st.sampled_from(keys))
        ruling = {"review_status": self.draw(st.sampled_from(REVIEWS)),
                  "review_comment": self.draw(st.sampled_from((None, "请补充照片")))}
        version = chen.mirror[key]["version"]
        status = self.post_review(key[1], version, ruling)
        if status == 412 and self.draw(st.booleans(), "reload and review again"):
            response = self.client.get(f"/api/visits/{key[1]}", headers=chen.person.headers)
            self.post_review(key[1], int(response.headers["ETag"].strip('"')), ruling)

    def post_review(self, record_id: str, version: int, ruling: dict[str, Any]) -> int:
        chen = self.supervisor.person
        response = self.client.post(f"/api/visits/{record_id}/review", json=ruling,
                                    headers={**chen.headers, "If-Match": f'"{version}"'})
        note(f"chen reviews {record_id} at version {version}: {ruling} -> {response.status_code}")
        event(f"review {response.status_code}")
        assert response.status_code == self.server.review(chen, record_id, version, ruling), response.get_json()
        return response.status_code

    def prune(self) -> None:
        """The daily `zoufang sync prune`, with everything old enough to go."""
        dropped = sync_service.prune(older_than=utcnow() + timedelta(minutes=1))
        _db.session.commit()
        note(f"prune drops {dropped} changes")
        self.server.expired |= set(self.server.answers)
        self.server.answers.clear()
        self.server.pruned = True

    # --- the end: drain, pull, compare ----------------------------------------------------

    def finish(self) -> None:
        for device in self.devices:
            self.drain(device)
            assert self.server.last.get(device.client_id, 0) == device.next_id - 1
            if device.next_id > 1:
                stored = _db.session.get(SyncClient, uuid.UUID(device.client_id))
                assert stored.last_mutation_id == device.next_id - 1
        if self.draw(st.integers(0, 2), "prune before the last pulls") == 0:
            self.prune()  # devices that pulled before some deletes and moves must now start again
        for device in self.devices + [self.supervisor]:
            self.pull_to_end(device, self.draw(st.sampled_from((3, 500)), "limit"))
            self.check_rest_lists(device)
        self.check_server()

    def visible_records(self, person: Person) -> dict[tuple[str, str], dict[str, Any]]:
        """The server's live records in the person's area, as a pull shows them."""
        _db.session.expire_all()
        records = {}
        for entity, (_plural, model, schema) in ENTITIES.items():
            query = select(model).where(model.deleted.is_(False), model.area_code.in_(person.scope))
            for row in _db.session.scalars(query):
                records[(entity, str(row.id))] = schema().dump(row)
        return records

    def check_mirror(self, device: Device) -> None:
        expected = self.visible_records(device.person)
        missing = sorted(set(expected) - set(device.mirror))
        extra = sorted(set(device.mirror) - set(expected))
        stale = sorted(key for key in set(expected) & set(device.mirror) if expected[key] != device.mirror[key])
        assert not (missing or extra or stale), (f"{device.label}'s mirror differs from the server: "
                                                 f"missing {missing}, extra {extra}, stale {stale}")

    def check_rest_lists(self, device: Device) -> None:
        for entity, (plural, _model, _schema) in ENTITIES.items():
            listed, cursor = set(), None
            while True:
                query = {"limit": 200} | ({"cursor": cursor} if cursor else {})
                response = self.client.get(f"/api/{plural}", headers=device.person.headers, query_string=query)
                assert response.status_code == 200
                listed |= {item["id"] for item in response.get_json()["items"]}
                cursor = response.get_json()["next_cursor"]
                if cursor is None:
                    break
            assert listed == {record_id for kind, record_id in device.mirror if kind == entity}, device.label

    def check_server(self) -> None:
        server = self.server
        for entity, (_plural, model, schema) in ENTITIES.items():
            rows = {str(row.id): row for row in _db.session.scalars(select(model))}
            expected = {record_id: record for record_id, record in server.records.items() if record.entity == entity}
            assert set(rows) == set(expected), f"{entity} records on the server differ from the model"
            for record_id, record in expected.items():
                row = rows[record_id]
                dumped = schema().dump(row)
                assert (row.deleted, row.version, row.created_by_id) == (record.deleted, record.version,
                                                                         record.author_id), record_id
                for name, value in record.fields.items():
                    if name != "reviewed_at":
                        assert normalise(name, dumped[name]) == value, (record_id, name)
                actions = _db.session.scalars(select(AuditEvent.action).where(
                    AuditEvent.entity == entity, AuditEvent.entity_id == record_id).order_by(AuditEvent.id)).all()
                assert actions == [f"{entity}.{action}" for action in record.actions], record_id
                if not server.pruned:
                    changes = _db.session.scalar(select(func.count()).select_from(Change)
                                                 .where(Change.entity == entity, Change.record_id == row.id))
                    assert changes == record.version, record_id
        if not server.pruned:
            for device in self.devices:
                results = _db.session.scalar(select(func.count()).select_from(SyncResult)
                                             .where(SyncResult.client_id == uuid.UUID(device.client_id)))
                assert results == device.next_id - 1, device.label


@pytest.fixture
def people(db, tree) -> dict[str, Person]:
    areas_service.create_area(actor=None, code=V3, name="三村", level="village", parent_code=tree.T1)
    _db.session.commit()
    village = frozenset({tree.V1, tree.G1})
    township = village | {tree.T1, V3}
    county = township | {tree.A, tree.T2, tree.V2}
    li, wang = make_user("li", tree.V1, "cadre"), make_user("wang", tree.V1, "cadre")
    zhao, chen = make_user("zhao", tree.T1, "cadre"), make_user("chen", tree.A, "supervisor")
    li_phone = Person("li", li.id, bearer(token_for(li, "phone")), village, (tree.V1, tree.G1), (tree.V1, tree.G1))
    return {
        "li": li_phone,
        "li-tablet": replace(li_phone, headers=bearer(token_for(li, "tablet"))),  # the same user, another token
        "wang": Person("wang", wang.id, bearer(token_for(wang)), village, (tree.V1, tree.G1), (tree.V1, tree.G1)),
        "zhao": Person("zhao", zhao.id, bearer(token_for(zhao)), township, (tree.V1, V3), (tree.T1, tree.V1, V3)),
        "chen": Person("chen", chen.id, bearer(token_for(chen)), county),
    }


# CI's short run; `make soak-sync` sets ZOUFANG_SYNC_EXAMPLES=2000 (docs/testing.md).
EXAMPLES = int(os.environ.get("ZOUFANG_SYNC_EXAMPLES", "25"))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_devices_converge_on_the_server_state(client, db, people, data):
    # Each example runs inside its own savepoint, rolled back afterwards: a clean slate
    # (records, change counter, sync clients) on top of the same users and areas.
    connection = db.session.get_bind()
    db.session.remove()
    example = connection.begin_nested()
    try:
        Run(client, people, data).play()
    finally:
        db.session.remove()
        example.rollback()

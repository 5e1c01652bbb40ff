"""GET /api/hotspots/lifecycle: the app offers the hotspot's steps from this answer, so it
must be the lifecycle the server enforces, step for step and role for role."""

from __future__ import annotations

import uuid

import pytest

from backend.hotspots.models import HOTSPOT_STATUSES
from tests.sync.conftest import device, hotspot_fields, push
from tests.test_app import assert_error


@pytest.fixture
def inspector(tree):
    return device("inspector-v1", tree.V1, "inspector")


@pytest.fixture
def supervisor(tree):
    return device("supervisor-a", tree.A, "supervisor")


def lifecycle(client, headers) -> dict:
    response = client.get("/api/hotspots/lifecycle", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_any_signed_in_user_reads_the_states_and_steps_with_their_labels(client, tree):
    cadre = device("cadre-v1", tree.V1, "cadre")
    answer = lifecycle(client, cadre.headers)

    assert answer["initial"] == "listed"
    assert [state["code"] for state in answer["states"]] == list(HOTSPOT_STATUSES)
    assert {state["code"]: state["zh"] for state in answer["states"]}["acceptance_requested"] == "待验收"
    assert {(step["from"], step["to"]): (step["zh"], step["en"]) for step in answer["steps"]}[
        ("acceptance_requested", "rectifying")] == ("退回整改", "Send back")
    assert all(step["roles"] and step["zh"] and step["en"] for step in answer["steps"])
    assert_error(client.get("/api/hotspots/lifecycle"), 401)


def test_the_server_takes_every_step_it_lists_and_no_other(client, inspector, supervisor):
    answer = lifecycle(client, inspector.headers)
    steps = {(step["from"], step["to"]): step["roles"] for step in answer["steps"]}
    record_id = str(uuid.uuid4())
    [created] = push(client, inspector.headers, inspector.client_id,
                     [inspector.mutation("hotspot.upsert", record_id, hotspot_fields())])["results"]
    status, version = answer["initial"], created["version"]

    def move(who, target):
        mutation = who.mutation("hotspot.upsert", record_id, {"status": target}, base_version=version)
        [result] = push(client, who.headers, who.client_id, [mutation])["results"]
        return result

    taken: set[tuple[str, str]] = set()
    while taken != set(steps):
        # Every move the answer does not list from here is refused, even to a supervisor.
        for target in HOTSPOT_STATUSES:
            if target != status and (status, target) not in steps:
                result = move(supervisor, target)
                assert (result["status"], result["error"]["code"]) == ("rejected", "invalid_transition"), result
        # The next step not yet taken from here (else any), by a user with the roles it names.
        ahead = [pair for pair in steps if pair[0] == status]
        source, target = next((pair for pair in ahead if pair not in taken), ahead[0])
        roles = steps[(source, target)]
        if "inspector" not in roles:
            refused = move(inspector, target)
            assert (refused["status"], refused["error"]["code"]) == ("rejected", "forbidden"), refused
        result = move(inspector if "inspector" in roles else supervisor, target)
        assert result["status"] == "applied", result
        status, version = target, result["version"]
        taken.add((source, target))

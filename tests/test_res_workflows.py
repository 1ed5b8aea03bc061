"""Workflows (CONTRACT.md §5.1, §1.9): list, get with derived inputs, execute and its
validation order, the orphaned execution and the poisoned string `inputs` row."""
from __future__ import annotations

import pytest

from fakemaestro import messages
from fakemaestro.clock import Clock, iso, parse_instant
from fakemaestro.scenario import Scenario

from . import spec
from .conftest import make_app

API = "/api/v1"
NOW = "2026-03-01T12:00:00.000Z"
U1, U2, U3 = (f"a0000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))  # key user, teammate, other
W1, W2 = (f"b0000000-0000-4000-8000-00000000000{i}" for i in (1, 2))
WF = {name: f"c0000000-0000-4000-8000-0000000000{i:02d}" for i, name in enumerate(
    ["inputs", "array", "plain", "broken", "two_broken", "no_def", "bad_format", "deleted", "system",
     "teammate", "other", "mine_elsewhere", "null_description"], 1)}
UNKNOWN = "99999999-9999-4999-8999-999999999999"
ITEM_FIELDS = ["id", "name", "description", "version", "created_at", "updated_at"]
GET_FIELDS = ["id", "name", "description", "version", "inputs", "created_at", "updated_at"]

INPUTS_DEF = {"name": "Inputs", "entryPoint": "node_topic", "nodes": {
    "node_topic": {"type": "input", "name": "Topic", "config": {
        "variableName": "topic", "inputType": "number", "label": "The topic", "required": False,
        "description": "What to write about"}},
    "node_plain": {"type": "input", "name": "Plain", "config": {"variableName": "plain"}},
    "node_blank": {"type": "input", "config": {"variableName": "blank", "inputType": "", "label": "",
                                               "required": None}},
    "node_no_config": {"type": "input", "name": "No config"},
    "llm_1": {"type": "llm", "config": {"inputType": "number", "prompt": "{{topic}} {{plain}} {{blank}}"}},
}, "edges": [{"id": "e1", "source": "node_topic", "target": "llm_1"}]}
ARRAY_DEF = {"nodes": [{"id": "input_1", "type": "input", "data": {"label": "Topic", "variableName": "topic"}},
                       {"id": "output_1", "type": "output", "data": {"outputName": "out", "value": "{{topic}}"}}],
             "edges": [{"id": "e1", "source": "input_1", "target": "output_1"}]}
PLAIN_DEF = {"nodes": {"llm_1": {"type": "llm", "config": {"prompt": "hello"}}}, "edges": []}
BROKEN_DEF = {"name": "Broken workflow", "entryPoint": "input_1", "nodes": {  # recording 034's definition
    "input_1": {"type": "input", "name": "Message", "config": {"inputName": "message", "variableName": "message",
                                                               "inputType": "text", "required": True}},
    "output_1": {"type": "output", "name": "Result", "config": {"outputName": "result", "value": "{{doesNotExist}}"}}},
    "edges": [{"id": "e1", "source": "input_1", "target": "output_1"}]}
TWO_BROKEN_DEF = {"nodes": {
    "llm_1": {"type": "llm", "config": {"prompt": "{{first}}"}},
    "output_1": {"type": "output", "config": {"outputName": "result", "value": "{{second}}"}}}, "edges": []}
NULL_DESCRIPTION_DEF = {"nodes": {"in_1": {"type": "input", "config": {"variableName": "v", "description": None}}},
                        "edges": []}
BAD_FORMAT_DEF = {"name": "Odd", "nodes": "input_1", "edges": []}


def _wf(name, definition, created, user=U1, workspace=W1, **extra):
    return {"id": WF[name], "user": user, "workspace": workspace, "name": f"WF {name}",
            "description": f"about {name}", "definition": definition, "created_at": created, **extra}


def scenario() -> Scenario:
    return Scenario({"seed": 11, "tenants": {
        "users": [{"id": U1}, {"id": U2}, {"id": U3}],
        "workspaces": [{"id": W1, "owner": U1}, {"id": W2, "owner": U3}],
        "api_keys": [{"name": "bulk", "user": U1, "workspace": W1, "per_minute": 10**6, "per_day": 10**8},
                     {"name": "teammate", "user": U2, "workspace": W1, "per_minute": 10**6, "per_day": 10**8},
                     {"name": "other", "user": U3, "workspace": W2, "per_minute": 10**6, "per_day": 10**8}]},
        "data": {"workflows": [
            _wf("inputs", INPUTS_DEF, "2026-01-01T10:00:00Z", version=3, updated_at="2026-01-05T10:00:00Z"),
            _wf("array", ARRAY_DEF, "2026-01-02T10:00:00Z", description=None),
            _wf("plain", PLAIN_DEF, "2026-01-03T10:00:00Z"),
            _wf("broken", BROKEN_DEF, "2026-01-04T10:00:00Z"),
            _wf("two_broken", TWO_BROKEN_DEF, "2026-01-05T10:00:00Z"),
            _wf("no_def", None, "2026-01-06T10:00:00Z"),
            _wf("bad_format", BAD_FORMAT_DEF, "2026-01-07T10:00:00Z"),
            _wf("deleted", PLAIN_DEF, "2026-01-08T10:00:00Z", deleted_at="2026-01-09T00:00:00Z"),
            _wf("system", PLAIN_DEF, "2026-01-09T10:00:00Z", workflow_type="system"),
            _wf("teammate", PLAIN_DEF, "2026-01-10T10:00:00Z", user=U2),
            _wf("other", PLAIN_DEF, "2026-01-11T10:00:00Z", user=U3, workspace=W2),
            _wf("mine_elsewhere", PLAIN_DEF, "2026-01-12T10:00:00Z", workspace=W2),
            _wf("null_description", NULL_DESCRIPTION_DEF, "2026-01-13T10:00:00Z", workspace=W2),
        ]}})


@pytest.fixture
def app():
    return make_app(scenario(), clock=Clock(frozen_at_ms=parse_instant(NOW)))


def _not_found(response, resource, id_):
    assert response.status_code == 404
    err = response.json()["error"]
    assert err == {"code": "resource_not_found", "message": messages.NOT_FOUND.format(resource=resource, id=id_),
                   "details": {"resource": resource, "id": id_}}


def _validation(response, message):
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "validation_error", "message": message}


def _executions_of(c, h, workflow_id):
    r = c.get(f"{API}/executions", params={"workflow_id": workflow_id}, headers=h["bulk"])
    assert r.status_code == 200
    return r.json()["data"]


# ---------------------------------------------------------------- list

def test_list_is_workspace_scoped_newest_first_without_system_or_deleted(c, h):
    r = c.get(f"{API}/workflows", headers=h["bulk"])
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["data", "pagination", "meta"]
    ids = [w["id"] for w in body["data"]]
    # teammate's workflow is listed (same workspace); deleted, system and other-workspace ones are not
    expected = ["teammate", "bad_format", "no_def", "two_broken", "broken", "plain", "array", "inputs"]
    assert ids == [WF[n] for n in expected]
    assert body["pagination"] == {"page": 1, "per_page": 20, "total_count": 8, "total_pages": 1,
                                  "has_next": False, "has_prev": False}


def test_list_items_have_exact_fields_and_no_inputs(c, h):
    items = {w["id"]: w for w in c.get(f"{API}/workflows", headers=h["bulk"]).json()["data"]}
    for item in items.values():
        assert list(item) == ITEM_FIELDS
    assert items[WF["inputs"]] == {"id": WF["inputs"], "name": "WF inputs", "description": "about inputs",
                                   "version": 3, "created_at": "2026-01-01T10:00:00.000Z",
                                   "updated_at": "2026-01-05T10:00:00.000Z"}
    assert items[WF["array"]]["description"] is None
    assert items[WF["plain"]]["version"] == 1  # DB default


def test_list_pagination_slices_and_counts_the_whole_filter(c, h):
    body = c.get(f"{API}/workflows?page=2&per_page=3", headers=h["bulk"]).json()
    assert [w["id"] for w in body["data"]] == [WF["two_broken"], WF["broken"], WF["plain"]]
    assert body["pagination"] == {"page": 2, "per_page": 3, "total_count": 8, "total_pages": 3,
                                  "has_next": True, "has_prev": True}
    past = c.get(f"{API}/workflows?page=9&per_page=3", headers=h["bulk"]).json()
    assert past["data"] == [] and past["pagination"]["has_prev"] is True and past["pagination"]["has_next"] is False


def test_other_workspace_lists_only_its_own(c, h):
    ids = [w["id"] for w in c.get(f"{API}/workflows", headers=h["other"]).json()["data"]]
    # U1's workflow stored in W2 is in W2's list even though its owner is U1
    assert ids == [WF["null_description"], WF["mine_elsewhere"], WF["other"]]


# ---------------------------------------------------------------- get

def test_get_fields_and_inputs_keyed_by_node_id_with_defaults(c, h):
    r = c.get(f"{API}/workflows/{WF['inputs']}", headers=h["bulk"])
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == GET_FIELDS
    assert data["version"] == 3 and data["description"] == "about inputs"
    assert data["inputs"] == {
        "node_topic": {"type": "number", "label": "The topic", "required": False,
                       "description": "What to write about"},
        "node_plain": {"type": "text", "label": "node_plain", "required": True},
        "node_blank": {"type": "text", "label": "node_blank", "required": True},
    }
    assert list(data["inputs"]) == ["node_topic", "node_plain", "node_blank"]
    assert list(data["inputs"]["node_topic"]) == ["type", "label", "required", "description"]
    # an undefined description is omitted from the JSON
    assert '"node_plain":{"type":"text","label":"node_plain","required":true}' in r.text.replace(" ", "")


def test_get_input_with_explicit_null_description_keeps_it_and_matches_the_spec(c, h):
    start = len(spec.VIOLATIONS)
    r = c.get(f"{API}/workflows/{WF['null_description']}", headers=h["bulk"])
    assert r.json()["data"]["inputs"] == {"in_1": {"type": "text", "label": "in_1", "required": True,
                                                   "description": None}}
    new = spec.VIOLATIONS[start:]
    del spec.VIOLATIONS[start:]  # judged here, not by the autouse fixture
    assert new == []


@pytest.mark.parametrize("name", ["array", "plain"])
def test_get_inputs_null_for_array_format_or_no_input_nodes(c, h, name):
    data = c.get(f"{API}/workflows/{WF[name]}", headers=h["bulk"]).json()["data"]
    assert "inputs" in data and data["inputs"] is None


def test_get_system_workflow_and_own_workflow_in_another_workspace(c, h):
    # get checks the user only: the key's user's workflows in any workspace, system ones included
    for name in ("system", "mine_elsewhere"):
        r = c.get(f"{API}/workflows/{WF[name]}", headers=h["bulk"])
        assert r.status_code == 200 and r.json()["data"]["id"] == WF[name]


@pytest.mark.parametrize("name", ["teammate", "deleted", "other"])
def test_get_404_for_teammates_deleted_or_foreign_workflow(c, h, name):
    _not_found(c.get(f"{API}/workflows/{WF[name]}", headers=h["bulk"]), "Workflow", WF[name])


def test_get_teammate_key_sees_own_workflow_but_not_the_key_users(c, h):
    assert c.get(f"{API}/workflows/{WF['teammate']}", headers=h["teammate"]).status_code == 200
    _not_found(c.get(f"{API}/workflows/{WF['inputs']}", headers=h["teammate"]), "Workflow", WF["inputs"])


def test_get_unknown_echoes_the_id_as_given_and_uuid_case_is_ignored(c, h):
    _not_found(c.get(f"{API}/workflows/{UNKNOWN.upper()}", headers=h["bulk"]), "Workflow", UNKNOWN.upper())
    r = c.get(f"{API}/workflows/{WF['inputs'].upper()}", headers=h["bulk"])
    assert r.status_code == 200 and r.json()["data"]["id"] == WF["inputs"]


# ---------------------------------------------------------------- execute

def test_execute_202_shape_and_the_created_execution(c, h):
    sent = {"topic": 7, "plain": "x", "nested": {"a": [1, 2]}}
    r = c.post(f"{API}/workflows/{WF['inputs']}/execute", json={"inputs": sent}, headers=h["bulk"])
    assert r.status_code == 202
    data = r.json()["data"]
    assert list(data) == ["execution_id", "workflow_id", "status", "inputs"]
    assert data["workflow_id"] == WF["inputs"] and data["status"] == "pending" and data["inputs"] == sent
    ex = c.get(f"{API}/executions/{data['execution_id']}", headers=h["bulk"]).json()["data"]
    assert ex == {"id": data["execution_id"], "workflow_id": WF["inputs"], "status": "pending", "inputs": sent,
                  "outputs": None, "error": None, "started_at": None, "completed_at": None, "created_at": NOW}


@pytest.mark.parametrize("body", [None, {}, {"inputs": None}, {"inputs": False}, {"inputs": 0}, {"inputs": ""},
                                  {"other": 1}, [1, 2]], ids=repr)
def test_execute_inputs_default_to_empty_object(c, h, body):
    kwargs = {} if body is None else {"json": body}
    r = c.post(f"{API}/workflows/{WF['plain']}/execute", headers=h["bulk"], **kwargs)
    assert r.status_code == 202 and r.json()["data"]["inputs"] == {}
    ex = c.get(f"{API}/executions/{r.json()['data']['execution_id']}", headers=h["bulk"]).json()["data"]
    assert ex["inputs"] == {}


def test_execute_text_plain_body_runs_with_empty_inputs(c, h):
    r = c.post(f"{API}/workflows/{WF['plain']}/execute", content=b'{"inputs":{"a":1}}',
               headers={**h["bulk"], "Content-Type": "text/plain"})
    assert r.status_code == 202 and r.json()["data"]["inputs"] == {}


def test_execute_array_format_definition_is_accepted(c, h):
    r = c.post(f"{API}/workflows/{WF['array']}/execute", json={"inputs": {"topic": "t"}}, headers=h["bulk"])
    assert r.status_code == 202 and r.json()["data"]["inputs"] == {"topic": "t"}


def test_execute_non_object_truthy_inputs_are_echoed(c, h):
    r = c.post(f"{API}/workflows/{WF['plain']}/execute", json={"inputs": [1, "two"]}, headers=h["bulk"])
    assert r.status_code == 202 and r.json()["data"]["inputs"] == [1, "two"]


@pytest.mark.parametrize("name,key", [("teammate", "bulk"), ("deleted", "bulk"), ("other", "bulk"),
                                      ("inputs", "teammate"), ("inputs", "other")])
def test_execute_404_follows_user_ownership(c, h, name, key):
    _not_found(c.post(f"{API}/workflows/{WF[name]}/execute", json={}, headers=h[key]), "Workflow", WF[name])


def test_execute_own_workflow_in_other_workspace_and_system_workflow(c, h):
    for name in ("mine_elsewhere", "system"):
        r = c.post(f"{API}/workflows/{WF[name]}/execute", headers=h["bulk"])
        assert r.status_code == 202 and r.json()["data"]["workflow_id"] == WF[name]


def test_execute_unknown_workflow_404_creates_nothing(c, h, app):
    before = len(app.state.fake.store.executions)
    _not_found(c.post(f"{API}/workflows/{UNKNOWN}/execute", json={"inputs": {"a": 1}}, headers=h["bulk"]),
               "Workflow", UNKNOWN)
    assert len(app.state.fake.store.executions) == before


def test_execute_without_definition_is_400_and_creates_no_execution(c, h):
    _validation(c.post(f"{API}/workflows/{WF['no_def']}/execute", json={"inputs": {"a": 1}}, headers=h["bulk"]),
                messages.WORKFLOW_NO_DEFINITION)
    assert _executions_of(c, h, WF["no_def"]) == []


def test_execute_validation_failure_message_and_no_execution(c, h):
    _validation(c.post(f"{API}/workflows/{WF['broken']}/execute", json={"inputs": {"message": "hi"}},
                       headers=h["bulk"]),
                'Workflow validation failed: Node "output" references undefined variable "{{doesNotExist}}"')
    assert _executions_of(c, h, WF["broken"]) == []


def test_execute_validation_failure_joins_every_error(c, h):
    _validation(c.post(f"{API}/workflows/{WF['two_broken']}/execute", headers=h["bulk"]),
                messages.WORKFLOW_VALIDATION_FAILED.format(errors=", ".join([
                    'Node "llm" references undefined variable "{{first}}"',
                    'Node "output" references undefined variable "{{second}}"'])))


def test_execute_invalid_format_is_400_but_leaves_an_orphan_pending_execution(c, h):
    sent = {"k": "v"}
    _validation(c.post(f"{API}/workflows/{WF['bad_format']}/execute", json={"inputs": sent}, headers=h["bulk"]),
                messages.WORKFLOW_BAD_FORMAT)
    orphans = _executions_of(c, h, WF["bad_format"])
    assert len(orphans) == 1
    orphan = orphans[0]
    assert orphan["status"] == "pending" and orphan["inputs"] == sent and orphan["created_at"] == NOW
    again = c.get(f"{API}/executions/{orphan['id']}", headers=h["bulk"])
    assert again.status_code == 200 and again.json()["data"] == orphan
    # a second attempt leaves a second orphan
    c.post(f"{API}/workflows/{WF['bad_format']}/execute", headers=h["bulk"])
    assert len(_executions_of(c, h, WF["bad_format"])) == 2


def test_string_inputs_poison_the_executions_list_until_reset(c, h, app):
    v8 = "Unexpected token 'o', \"oops\" is not valid JSON"
    r = c.post(f"{API}/workflows/{WF['plain']}/execute", json={"inputs": "oops"}, headers=h["bulk"])
    assert r.status_code == 500
    assert r.json()["error"] == {"code": "execution_failed", "message": v8}
    # the row was stored: every list that maps it answers a framework 500 with the V8 message
    for query in ("", "?status=pending", f"?workflow_id={WF['plain']}"):
        listed = c.get(f"{API}/executions{query}", headers=h["bulk"])
        assert listed.status_code == 500, query
        assert listed.json() == {"statusCode": 500, "error": "Internal Server Error", "message": v8}
    # a status filter that excludes the pending row (SQL-side) still works
    assert c.get(f"{API}/executions?status=completed", headers=h["bulk"]).status_code == 200
    app.state.fake.reset()
    healed = c.get(f"{API}/executions", headers=h["bulk"])
    assert healed.status_code == 200 and healed.json()["data"] == []


def test_execute_timestamps_come_from_the_clock(c, h, app):
    app.state.fake.clock.set(parse_instant("2026-04-01T00:00:00.250Z"))
    r = c.post(f"{API}/workflows/{WF['plain']}/execute", headers=h["bulk"])
    ex = c.get(f"{API}/executions/{r.json()['data']['execution_id']}", headers=h["bulk"]).json()["data"]
    assert ex["created_at"] == iso(parse_instant("2026-04-01T00:00:00.250Z")) == "2026-04-01T00:00:00.250Z"

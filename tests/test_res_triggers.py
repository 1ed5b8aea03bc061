"""Triggers (CONTRACT.md §5.5, §1.9): the in-memory sorted list and execute's checks,
side effects and the side effects that remain after its definition check fails."""
from __future__ import annotations

import pytest

from fakemaestro import messages
from fakemaestro.clock import Clock, parse_instant
from fakemaestro.scenario import Scenario

from .conftest import assert_error, assert_not_found, make_app

API = "/api/v1"
NOW = "2026-07-07T07:07:07.007Z"
U1, U2, U3 = (f"a0000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
W1, W2 = (f"b0000000-0000-4000-8000-00000000000{i}" for i in (1, 2))
WF = {n: f"c0000000-0000-4000-8000-00000000000{i}" for i, n in
      enumerate(["main", "team", "system", "deleted", "bad", "broken", "other"], 1)}
TR = {n: f"10000000-0000-4000-8000-0000000000{i:02d}" for i, n in enumerate(
    ["manual", "schedule_off", "webhook_team", "event", "tie_main", "tie_team", "deleted", "on_system",
     "on_deleted_wf", "bad", "broken", "other_off"], 1)}
UNKNOWN = "99999999-9999-4999-8999-999999999999"
FIELDS = ["id", "workflow_id", "name", "trigger_type", "enabled", "last_triggered_at", "trigger_count",
          "created_at", "updated_at"]
EXECUTE_FIELDS = ["execution_id", "workflow_id", "trigger_id", "status", "inputs"]
GOOD_DEF = {"nodes": {"llm_1": {"type": "llm", "config": {"prompt": "hi"}}}, "edges": []}
BROKEN_DEF = {"nodes": {"out": {"type": "output", "config": {"value": "{{nowhere}}"}}}, "edges": []}
BAD_DEF = {"steps": []}


def scenario() -> Scenario:
    big = {"per_minute": 10**6, "per_day": 10**8}

    def wf(name, user=U1, workspace=W1, definition=GOOD_DEF, **extra):
        return {"id": WF[name], "user": user, "workspace": workspace, "name": name, "definition": definition,
                "created_at": f"2026-01-0{list(WF).index(name) + 1}T00:00:00Z", **extra}

    def tr(name, workflow, created, kind="manual", **extra):
        return {"id": TR[name], "workflow": WF[workflow], "name": f"Trigger {name}", "trigger_type": kind,
                "created_at": created, **extra}
    return Scenario({"seed": 8, "tenants": {
        "users": [{"id": U1}, {"id": U2}, {"id": U3}],
        "workspaces": [{"id": W1, "owner": U1}, {"id": W2, "owner": U3}],
        "api_keys": [{"name": "bulk", "user": U1, "workspace": W1, **big},
                     {"name": "other", "user": U3, "workspace": W2, **big}]},
        "data": {
            "workflows": [wf("main"), wf("team", user=U2), wf("system", workflow_type="system"),
                          wf("deleted", deleted_at="2026-02-01T00:00:00Z"), wf("bad", definition=BAD_DEF),
                          wf("broken", definition=BROKEN_DEF), wf("other", user=U3, workspace=W2)],
            "triggers": [
                tr("manual", "main", "2026-01-20T00:00:00Z", trigger_count=4,
                   last_triggered_at="2026-01-25T12:00:00Z", updated_at="2026-01-25T12:00:00Z"),
                tr("schedule_off", "main", "2026-01-22T00:00:00Z", kind="schedule", enabled=False,
                   config={"cronExpression": "0 9 * * *"}),
                tr("webhook_team", "team", "2026-01-21T00:00:00Z", kind="webhook"),
                tr("event", "main", "2026-01-19T00:00:00Z", kind="event"),
                # a created_at tie across workflows keeps the workflow order (team is newer than main)
                tr("tie_main", "main", "2026-01-18T00:00:00Z"),
                tr("tie_team", "team", "2026-01-18T00:00:00Z", kind="schedule"),
                tr("deleted", "main", "2026-01-23T00:00:00Z", deleted_at="2026-01-24T00:00:00Z"),
                tr("on_system", "system", "2026-01-23T00:00:00Z"),
                tr("on_deleted_wf", "deleted", "2026-01-23T00:00:00Z"),
                tr("bad", "bad", "2026-01-17T00:00:00Z", trigger_count=2),
                tr("broken", "broken", "2026-01-16T00:00:00Z"),
                tr("other_off", "other", "2026-01-23T00:00:00Z", enabled=False),
            ]}})


LISTED = ["schedule_off", "webhook_team", "manual", "event", "tie_team", "tie_main", "bad", "broken"]


@pytest.fixture
def app():
    return make_app(scenario(), clock=Clock(frozen_at_ms=parse_instant(NOW)))


def _listed(c, h, key="bulk", **params):
    r = c.get(f"{API}/triggers", params=params, headers=h[key])
    assert r.status_code == 200
    return r.json()


def _trigger(c, h, name):
    return next(t for t in _listed(c, h, per_page=100)["data"] if t["id"] == TR[name])


def _execute(c, h, name, body=None, key="bulk"):
    kwargs = {} if body is None else {"json": body}
    return c.post(f"{API}/triggers/{TR[name] if name in TR else name}/execute", headers=h[key], **kwargs)


def _trigger_404(response, id_):
    assert_not_found(response, "Trigger", id_)


def _executions_of(c, h, workflow):
    r = c.get(f"{API}/executions", params={"workflow_id": WF[workflow]}, headers=h["bulk"])
    return r.json()["data"]


# ---------------------------------------------------------------- list

def test_list_includes_disabled_sorted_newest_first(c, h):
    body = _listed(c, h)
    assert [t["id"] for t in body["data"]] == [TR[n] for n in LISTED]
    assert body["pagination"] == {"page": 1, "per_page": 20, "total_count": len(LISTED), "total_pages": 1,
                                  "has_next": False, "has_prev": False}


def test_list_item_fields(c, h):
    items = {t["id"]: t for t in _listed(c, h)["data"]}
    for item in items.values():
        assert list(item) == FIELDS
    assert items[TR["manual"]] == {
        "id": TR["manual"], "workflow_id": WF["main"], "name": "Trigger manual", "trigger_type": "manual",
        "enabled": True, "last_triggered_at": "2026-01-25T12:00:00.000Z", "trigger_count": 4,
        "created_at": "2026-01-20T00:00:00.000Z", "updated_at": "2026-01-25T12:00:00.000Z"}
    off = items[TR["schedule_off"]]
    assert off["enabled"] is False and off["last_triggered_at"] is None and off["trigger_count"] == 0
    assert off["trigger_type"] == "schedule"


@pytest.mark.parametrize("page,per_page", [(1, 3), (2, 3), (3, 3), (4, 3), (2, 7)])
def test_list_pagination_slices_the_sorted_list(c, h, page, per_page):
    body = _listed(c, h, page=page, per_page=per_page)
    offset = (page - 1) * per_page
    assert [t["id"] for t in body["data"]] == [TR[n] for n in LISTED[offset:offset + per_page]]
    pages = -(-len(LISTED) // per_page)
    assert body["pagination"] == {"page": page, "per_page": per_page, "total_count": len(LISTED),
                                  "total_pages": pages, "has_next": page < pages, "has_prev": page > 1}


def test_list_other_workspace(c, h):
    assert [t["id"] for t in _listed(c, h, key="other")["data"]] == [TR["other_off"]]


# ---------------------------------------------------------------- execute

def test_execute_202_shape_and_side_effects(c, h):
    sent = {"order_id": 42, "tags": ["a"]}
    r = _execute(c, h, "manual", {"inputs": sent})
    assert r.status_code == 202
    data = r.json()["data"]
    assert list(data) == EXECUTE_FIELDS
    assert data == {"execution_id": data["execution_id"], "workflow_id": WF["main"], "trigger_id": TR["manual"],
                    "status": "pending", "inputs": sent}
    trigger = _trigger(c, h, "manual")
    assert trigger["trigger_count"] == 5 and trigger["last_triggered_at"] == NOW
    ex = c.get(f"{API}/executions/{data['execution_id']}", headers=h["bulk"]).json()["data"]
    assert ex["status"] == "pending" and ex["inputs"] == sent and ex["workflow_id"] == WF["main"]
    assert ex["created_at"] == NOW
    again = _execute(c, h, "manual")
    assert again.status_code == 202 and again.json()["data"]["execution_id"] != data["execution_id"]
    assert _trigger(c, h, "manual")["trigger_count"] == 6


@pytest.mark.parametrize("body", [None, {}, {"inputs": None}, {"inputs": False}, {"inputs": ""}, [1]], ids=repr)
def test_execute_inputs_default_to_empty_object(c, h, body):
    r = _execute(c, h, "event", body)
    assert r.status_code == 202 and r.json()["data"]["inputs"] == {}


def test_execute_first_time_sets_last_triggered(c, h):
    assert _trigger(c, h, "event")["last_triggered_at"] is None
    assert _execute(c, h, "event").status_code == 202
    trigger = _trigger(c, h, "event")
    assert trigger["trigger_count"] == 1 and trigger["last_triggered_at"] == NOW


def test_execute_teammates_workflow_trigger_in_workspace(c, h):
    r = _execute(c, h, "webhook_team")
    assert r.status_code == 202 and r.json()["data"]["workflow_id"] == WF["team"]


def test_execute_skips_pre_execution_validation(c, h):
    # unlike workflow execute, there is no validateWorkflowForExecution here
    assert _execute(c, h, "broken").status_code == 202


def test_execute_disabled_is_400_without_side_effects(c, h):
    before = _trigger(c, h, "schedule_off")
    assert_error(_execute(c, h, "schedule_off", {"inputs": {"a": 1}}), 400, "validation_error",
           messages.TRIGGER_NOT_ENABLED)
    assert _trigger(c, h, "schedule_off") == before
    assert all(e["inputs"] != {"a": 1} for e in _executions_of(c, h, "main"))


def test_execute_bad_definition_is_400_but_side_effects_remain(c, h):
    assert_error(_execute(c, h, "bad", {"inputs": {"x": 1}}), 400, "validation_error", messages.TRIGGER_BAD_DEFINITION)
    trigger = _trigger(c, h, "bad")
    assert trigger["trigger_count"] == 3 and trigger["last_triggered_at"] == NOW
    orphans = _executions_of(c, h, "bad")
    assert [(e["status"], e["inputs"]) for e in orphans] == [("pending", {"x": 1})]


@pytest.mark.parametrize("name", ["deleted", "on_deleted_wf", "other_off"])
def test_execute_404(c, h, name):
    # other_off is disabled, but the workspace check comes first
    _trigger_404(_execute(c, h, name), TR[name])


def test_execute_unknown_is_404(c, h):
    _trigger_404(_execute(c, h, UNKNOWN), UNKNOWN)


def test_execute_other_workspace_key(c, h):
    _trigger_404(_execute(c, h, "manual", key="other"), TR["manual"])
    assert _trigger(c, h, "manual")["trigger_count"] == 4
    assert_error(_execute(c, h, "other_off", key="other"), 400, "validation_error", messages.TRIGGER_NOT_ENABLED)


def test_execute_non_uuid_is_execution_failed_envelope(c, h):
    assert_error(_execute(c, h, "trig_1"), 500, "execution_failed", messages.INVALID_UUID.format(value="trig_1"))

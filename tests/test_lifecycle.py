"""Executions that run (sim/lifecycle.py; CONTRACT.md §5.2 "Execution lifecycle", §5.1,
§5.5, §8.2): pending -> running -> completed | failed | paused on the fake clock, as the
scenario's behaviours say, with production's WebSocketEvent payloads and §8.2 domain
events; the quirks cancel_keeps_completed_at_null, executions_list_window,
string_inputs_poison and execute_orphan_pending in both states; determinism.

In process on a frozen clock (moved by the tests); the official SDK over a real socket
where a user would wait for an execution."""
from __future__ import annotations

import pytest
from flowmaestro import FlowMaestroClient
from flowmaestro.errors import TimeoutError as SdkTimeoutError
from starlette.testclient import TestClient

from fakemaestro import messages
from fakemaestro.clock import Clock, iso, parse_instant
from fakemaestro.messages import INPUTS_NOT_AN_OBJECT
from fakemaestro.scenario import Scenario
from fakemaestro.sim import lifecycle
from fakemaestro.testing import serve_in_thread

from .conftest import make_app

API = "/api/v1"
T0 = parse_instant("2026-03-01T09:00:00Z")
USER, OTHER = "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002"
WS, WS2 = "b0000000-0000-4000-8000-000000000001", "b0000000-0000-4000-8000-000000000002"
WF = {name: f"c0000000-0000-4000-8000-{n:012d}" for n, name in enumerate(
    ("echo", "array", "fail", "pause", "template", "never", "no_output", "bad", "other"), 1)}
TRIGGER = "10000000-0000-4000-8000-000000000001"
SEEDED_PENDING, SEEDED_RUNNING = "d0000000-0000-4000-8000-000000000001", "d0000000-0000-4000-8000-000000000002"
FAIL_ERROR = "Node http_1 failed: HTTP 502 from https://shop.example.test/orders"

ECHO = {"name": "Echo", "entryPoint": "input_1",
        "nodes": {"input_1": {"type": "input", "name": "Message", "config": {"inputName": "message"}},
                  "output_1": {"type": "output", "config": {"outputName": "result", "value": "You said {{message}}"}}},
        "edges": [{"id": "e1", "source": "input_1", "target": "output_1"}]}
ARRAY = {"nodes": [{"id": "in", "type": "input", "data": {"label": "Topic", "inputName": "topic"}},
                   {"id": "out", "type": "output", "data": {"label": "Out", "outputName": "out", "value": "{{topic}}"}}],
         "edges": [{"id": "e1", "source": "in", "target": "out"}]}
HTTP = {"nodes": {"input_1": {"type": "input", "config": {"variableName": "batch"}},
                  "http_1": {"type": "http", "name": "Fetch orders", "config": {"url": "https://shop.example.test"}},
                  "output_1": {"type": "output", "config": {"outputName": "result", "value": "{{http_1.body}}"}}},
        "edges": [{"id": "e1", "source": "input_1", "target": "http_1"},
                  {"id": "e2", "source": "http_1", "target": "output_1"}]}
REVIEW = {"nodes": {"input_1": {"type": "input", "config": {"variableName": "doc"}},
                    "review_1": {"type": "human-review", "name": "Approve",
                                 "config": {"variableName": "approved", "inputType": "boolean", "prompt": "OK?"}}},
          "edges": [{"id": "e1", "source": "input_1", "target": "review_1"}]}
NO_OUTPUT = {"nodes": {"input_1": {"type": "input", "config": {}}, "llm_1": {"type": "llm", "config": {}}},
             "edges": [{"id": "e1", "source": "input_1", "target": "llm_1"}]}


def scenario(**top) -> Scenario:
    def wf(name, definition, user=USER, ws=WS):
        return {"id": WF[name], "user": user, "workspace": ws, "name": f"{name} workflow",
                "created_at": "2026-01-01T00:00:00Z", "definition": definition}
    big = {"per_minute": 10**6, "per_day": 10**8}
    return Scenario({"seed": 42, "tenants": {
        "users": [{"id": USER}, {"id": OTHER}],
        "workspaces": [{"id": WS, "owner": USER}, {"id": WS2, "owner": OTHER}],
        "api_keys": [{"name": "ci", "user": USER, "workspace": WS, **big},
                     {"name": "other", "user": OTHER, "workspace": WS2, **big}]},
        "data": {
            "workflows": [wf("echo", ECHO), wf("array", ARRAY), wf("fail", HTTP), wf("pause", REVIEW),
                          wf("template", ECHO), wf("never", ECHO), wf("no_output", NO_OUTPUT),
                          wf("bad", {"nodes": "not a map"}), wf("other", ECHO, OTHER, WS2)],
            "executions": [
                {"id": SEEDED_PENDING, "workflow": WF["echo"], "status": "pending", "created_at": "2026-02-01T00:00:00Z"},
                {"id": SEEDED_RUNNING, "workflow": WF["echo"], "status": "running",
                 "started_at": "2026-02-01T00:00:01Z", "created_at": "2026-02-01T00:00:00Z"}],
            "triggers": [{"id": TRIGGER, "workflow": WF["echo"], "workspace": WS, "name": "Manual echo",
                          "trigger_type": "manual"},
                         {"id": "10000000-0000-4000-8000-000000000002", "workflow": WF["bad"], "workspace": WS,
                          "name": "Bad", "trigger_type": "manual"}]},
        "behaviours": {"workflows": {
            WF["fail"]: {"outcome": "failed", "duration_ms": 1000, "error": FAIL_ERROR, "nodes": ["input_1", "http_1"]},
            WF["pause"]: {"outcome": "paused", "duration_ms": 500},
            WF["template"]: {"duration_ms": 300, "outputs": {
                "greeting": "Hello {{inputs.name}} from {{workflow.name}}", "count": "{{ inputs.count }}",
                "first": "{{inputs.tags[0]}}", "run": "{{execution.id}}", "missing": "{{inputs.nope}}",
                "nested": [{"n": "{{inputs.count}}!"}]}},
            WF["never"]: {"outcome": "pending"}}},
        **top})


class Fake:
    """An in-process app on a frozen clock, with the domain events it publishes."""

    def __init__(self, **top) -> None:
        self.clock = Clock(frozen_at_ms=T0)
        self.app = make_app(scenario(**top), clock=self.clock)
        self.state = self.app.state.fake
        self.published = []
        self.state.world.subscribers.append(self.published.append)
        self.client = TestClient(self.app, base_url="http://127.0.0.1")
        self.key = {"X-API-Key": self.state.store.key_by_name("ci").raw}

    def execute(self, name: str, inputs=None, status: int = 202) -> dict:
        r = self.client.post(f"{API}/workflows/{WF[name]}/execute", json={"inputs": inputs or {}}, headers=self.key)
        assert r.status_code == status, r.text
        return r.json()["data"] if status == 202 else r.json()["error"]

    def get(self, execution_id: str) -> dict:
        r = self.client.get(f"{API}/executions/{execution_id}", headers=self.key)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def advance(self, ms: int) -> None:
        self.clock.advance(ms)

    def events(self, execution_id: str) -> list[dict]:
        self.state.world.settle()  # as a request or an event stream would, first
        return lifecycle.events_of(self.state.store, execution_id)


@pytest.fixture
def fake():
    return Fake()


@pytest.fixture
def intended():
    return Fake(profile="intended")


# ---------------------------------------------------------------- the default run

def test_an_execution_goes_pending_running_completed_on_the_clock(fake):
    eid = fake.execute("echo", {"message": "hi"})["execution_id"]
    assert fake.get(eid)["status"] == "pending"                     # the 202 and the read right after
    fake.advance(lifecycle.PICKUP_MS - 1)
    assert fake.get(eid)["status"] == "pending"
    fake.advance(1)
    running = fake.get(eid)
    assert (running["status"], running["started_at"], running["completed_at"]) == (
        "running", iso(T0 + lifecycle.PICKUP_MS), None)
    fake.advance(60_000)
    done = fake.get(eid)
    assert done["status"] == "completed" and done["outputs"] == {"result": "You said hi"}
    assert done["error"] is None and done["started_at"] == running["started_at"]
    types = [e["type"] for e in fake.events(eid)]
    assert types == ["execution:started", "node:started", "node:completed", "execution:progress",
                     "node:started", "node:completed", "execution:progress", "execution:completed"]
    completed = fake.events(eid)[-1]
    assert done["completed_at"] == iso(completed["timestamp"])
    assert completed["duration"] == completed["timestamp"] - (T0 + lifecycle.PICKUP_MS) > 0


def test_events_carry_productions_camelcase_payloads(fake):
    eid = fake.execute("echo", {"message": "hi"})["execution_id"]
    fake.advance(60_000)
    started, node_started, node_done, progress, out_started, out_done, _, completed = fake.events(eid)
    at = T0 + lifecycle.PICKUP_MS
    assert started == {"type": "execution:started", "timestamp": at, "executionId": eid,
                       "workflowName": "Echo", "totalNodes": 2}  # the definition's name
    assert node_started == {"type": "node:started", "timestamp": at, "executionId": eid, "nodeId": "input_1",
                            "nodeName": "Message", "nodeType": "input"}
    assert list(node_done) == ["type", "timestamp", "executionId", "nodeId", "nodeName", "nodeType", "output",
                               "duration"]
    assert node_done["output"] == {"message": "hi", "userId": USER}  # the orchestrator's context
    assert node_done["timestamp"] == at + node_done["duration"]
    assert progress == {"type": "execution:progress", "timestamp": node_done["timestamp"], "executionId": eid,
                        "completed": 1, "total": 2, "percentage": 50}
    assert "nodeName" not in out_started  # an unnamed node: undefined, left out of the JSON
    assert (out_done["nodeName"], out_done["output"]) == ("output_1", {"result": "You said hi"})
    assert list(completed) == ["type", "timestamp", "executionId", "status", "outputs", "duration"]


def test_array_format_definitions_run_with_their_labels(fake):
    eid = fake.execute("array", {"topic": "otters"})["execution_id"]
    fake.advance(60_000)
    assert fake.get(eid)["outputs"] == {"out": "otters"}
    assert [(e["nodeId"], e.get("nodeName")) for e in fake.events(eid) if e["type"] == "node:started"] == [
        ("in", "Topic"), ("out", "Out")]


def test_without_output_nodes_the_outputs_are_the_whole_context(fake):
    eid = fake.execute("no_output", {"q": 1})["execution_id"]
    fake.advance(60_000)
    assert fake.get(eid)["outputs"] == {"q": 1, "userId": USER}


def test_a_trigger_starts_a_run_too(fake):
    r = fake.client.post(f"{API}/triggers/{TRIGGER}/execute", json={"inputs": {"message": "tick"}}, headers=fake.key)
    assert r.status_code == 202
    eid = r.json()["data"]["execution_id"]
    fake.advance(60_000)
    assert fake.get(eid)["outputs"] == {"result": "You said tick"}


# ---------------------------------------------------------------- behaviours

def test_a_failed_behaviour_fails_its_last_node_after_its_duration(fake):
    eid = fake.execute("fail", {"batch": "9"})["execution_id"]
    start = T0 + lifecycle.PICKUP_MS
    fake.advance(lifecycle.PICKUP_MS + 999)
    assert fake.get(eid)["status"] == "running"
    fake.advance(1)
    failed = fake.get(eid)
    assert (failed["status"], failed["error"], failed["outputs"]) == ("failed", FAIL_ERROR, None)
    assert (failed["started_at"], failed["completed_at"]) == (iso(start), iso(start + 1000))
    events = fake.events(eid)
    assert [e["type"] for e in events] == ["execution:started", "node:started", "node:completed",
                                           "execution:progress", "node:started", "node:failed", "execution:failed"]
    assert events[5] == {"type": "node:failed", "timestamp": start + 1000, "executionId": eid, "nodeId": "http_1",
                         "nodeName": "Fetch orders", "nodeType": "http", "error": FAIL_ERROR}
    assert events[6] == {"type": "execution:failed", "timestamp": start + 1000, "executionId": eid,
                         "status": "failed", "error": FAIL_ERROR, "failedNodeId": "http_1"}
    assert events[3]["total"] == 3  # progress counts the definition's nodes, as production does


def test_a_paused_behaviour_pauses_at_its_last_node_and_cannot_be_cancelled(fake):
    eid = fake.execute("pause", {"doc": "contract.pdf"})["execution_id"]
    fake.advance(3_600_000)
    paused = fake.get(eid)
    assert paused["status"] == "paused" and paused["started_at"] is not None
    assert paused["completed_at"] is None and paused["outputs"] is None and paused["error"] is None
    last = fake.events(eid)[-1]
    assert last == {"type": "execution:paused", "timestamp": T0 + lifecycle.PICKUP_MS + 500, "executionId": eid,
                    "status": "paused", "reason": lifecycle.PAUSE_REASON, "pausedAtNodeId": "review_1",
                    "pausedAtNodeName": "Approve",
                    "pauseContext": {"prompt": "OK?", "variableName": "approved", "inputType": "boolean"}}
    r = fake.client.post(f"{API}/executions/{eid}/cancel", headers=fake.key)
    assert r.status_code == 400
    assert r.json()["error"]["message"] == messages.CANNOT_CANCEL.format(status="paused")


def test_outputs_are_rendered_from_the_inputs(fake):
    eid = fake.execute("template", {"name": "Ada", "count": 3, "tags": ["x", "y"]})["execution_id"]
    fake.advance(lifecycle.PICKUP_MS + 300)
    done = fake.get(eid)
    assert done["status"] == "completed"
    assert done["outputs"] == {"greeting": "Hello Ada from template workflow", "count": 3, "first": "x", "run": eid,
                               "missing": "{{inputs.nope}}", "nested": [{"n": "3!"}]}


def test_nodes_empty_means_the_engine_never_picks_it_up(fake):
    eid = fake.execute("never", {"message": "hi"})["execution_id"]
    fake.advance(86_400_000)
    assert fake.get(eid)["status"] == "pending" and fake.events(eid) == []
    assert fake.published == []


def test_seeded_executions_never_move(fake):
    store = fake.state.store
    assert store.execution_runs == {} and store.execution_due == []  # nothing planned for seeded rows
    fake.advance(86_400_000)
    assert fake.get(SEEDED_PENDING)["status"] == "pending"
    assert fake.get(SEEDED_RUNNING)["status"] == "running"


def test_failed_executes_start_no_run(fake):
    fake.execute("bad", {"x": 1}, status=400)  # orphan `pending` (execute_orphan_pending on)
    orphan = next(e for e in fake.state.store.executions.values() if e.workflow_id == WF["bad"])
    fake.advance(86_400_000)
    assert fake.get(orphan.id)["status"] == "pending" and fake.events(orphan.id) == []


# ---------------------------------------------------------------- domain events (§8.2)

def test_domain_events_have_the_dispatcher_data_shape(fake):
    eid = fake.execute("echo", {"message": "hi"})["execution_id"]
    failed = fake.execute("fail")["execution_id"]
    fake.advance(60_000)
    fake.state.world.settle()
    by_execution = {}
    for event in fake.published:
        by_execution.setdefault(event.data["execution_id"], []).append(event)
    started, completed = by_execution[eid]
    assert (started.type, started.user_id, started.workspace_id) == ("execution.started", USER, WS)
    start = T0 + lifecycle.PICKUP_MS
    assert started.at_ms == start
    assert started.data == {"execution_id": eid, "workflow_id": WF["echo"], "workflow_name": "echo workflow",
                            "status": "running", "started_at": iso(start)}
    record = fake.get(eid)
    assert completed.type == "execution.completed" and completed.at_ms == parse_instant(record["completed_at"])
    assert list(completed.data) == ["execution_id", "workflow_id", "workflow_name", "status", "started_at",
                                    "completed_at", "outputs"]
    assert completed.data["outputs"] == {"result": "You said hi"}
    assert [e.type for e in by_execution[failed]] == ["execution.started", "execution.failed"]
    assert list(by_execution[failed][1].data)[-2:] == ["completed_at", "error"]


# ---------------------------------------------------------------- cancel_keeps_completed_at_null

def test_cancel_production_keeps_completed_at_null_and_stops_the_run(fake):
    eid = fake.execute("echo", {"message": "hi"})["execution_id"]
    fake.advance(lifecycle.PICKUP_MS)
    assert fake.get(eid)["status"] == "running"
    r = fake.client.post(f"{API}/executions/{eid}/cancel", headers=fake.key)
    assert r.json()["data"] == {"id": eid, "status": "cancelled", "message": messages.CANCELLED}
    fake.advance(60_000)
    after = fake.get(eid)
    assert (after["status"], after["completed_at"], after["outputs"]) == ("cancelled", None, None)
    assert [e["type"] for e in fake.events(eid)][-1] != "execution:completed"
    assert "execution:cancelled" not in [e["type"] for e in fake.events(eid)]
    assert [e.type for e in fake.published] == ["execution.started"]


def test_cancel_intended_sets_completed_at_and_publishes(intended):
    fake = intended
    eid = fake.execute("echo", {"message": "hi"})["execution_id"]
    fake.advance(10)
    fake.client.post(f"{API}/executions/{eid}/cancel", headers=fake.key)
    cancelled_at = T0 + 10
    fake.advance(60_000)
    after = fake.get(eid)
    assert (after["status"], after["started_at"], after["completed_at"]) == ("cancelled", None, iso(cancelled_at))
    assert fake.events(eid) == [{"type": "execution:cancelled", "timestamp": cancelled_at, "executionId": eid,
                                 "status": "cancelled"}]
    (event,) = fake.published
    assert (event.type, event.user_id, event.workspace_id, event.at_ms) == (
        "execution.cancelled", USER, WS, cancelled_at)
    assert event.data == {"execution_id": eid, "workflow_id": WF["echo"], "workflow_name": "echo workflow",
                          "status": "cancelled", "started_at": None, "completed_at": iso(cancelled_at)}
    # a seeded execution, which has no run, is cancelled the same way
    fake.client.post(f"{API}/executions/{SEEDED_RUNNING}/cancel", headers=fake.key)
    assert fake.get(SEEDED_RUNNING)["completed_at"] == iso(fake.clock.now_ms())


# ---------------------------------------------------------------- the SDK waits (real socket)

def test_the_sdks_wait_for_completion_ends_for_every_behaviour():
    clock = Clock(frozen_at_ms=T0)
    app = make_app(scenario(), clock=clock)
    with serve_in_thread(app) as server, FlowMaestroClient(api_key=server.key("ci"), base_url=server.base_url,
                                                          max_retries=0) as client:
        started = {name: client.workflows.execute(WF[name], inputs={"message": "m", "name": "N"})["data"]
                   for name in ("echo", "fail", "template", "pause", "never")}
        assert {s["status"] for s in started.values()} == {"pending"}
        clock.advance(3_600_000)
        done = {name: client.executions.wait_for_completion(started[name]["execution_id"], poll_interval=0.05,
                                                            timeout=1) for name in ("echo", "fail", "template")}
        assert (done["echo"]["status"], done["echo"]["outputs"]) == ("completed", {"result": "You said m"})
        assert (done["fail"]["status"], done["fail"]["error"]) == ("failed", FAIL_ERROR)  # returned, not raised
        assert done["template"]["outputs"]["greeting"] == "Hello N from template workflow"
        # `paused` is not in the SDK's ExecutionStatus, and not terminal to it: it polls until its
        # timeout and raises its TimeoutError, as it does for a run the engine never picks up
        for name in ("pause", "never"):
            eid = started[name]["execution_id"]
            with pytest.raises(SdkTimeoutError) as info:
                client.executions.wait_for_completion(eid, poll_interval=0.05, timeout=0.2)
            assert info.value.message == f"Execution {eid} did not complete within 0.2s"
        assert client.executions.get(started["pause"]["execution_id"])["data"]["status"] == "paused"


# ---------------------------------------------------------------- executions_list_window

def _listing(fake, **params):
    r = fake.client.get(f"{API}/executions", params=params, headers=fake.key)
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["data"]], r.json()["pagination"]


def _five_runs(fake) -> list[str]:
    made = []
    for n in range(5):  # echo runs complete; the never-picked-up ones stay pending
        made.append(fake.execute("echo" if n % 2 == 0 else "never", {"message": str(n)})["execution_id"])
        fake.advance(1000)
    fake.advance(60_000)
    return made[::-1] + [SEEDED_RUNNING, SEEDED_PENDING]  # newest first (the seeded two tie: insertion order)


@pytest.mark.parametrize("quirk", [True, False])
def test_executions_list_window(quirk):
    fake = Fake(quirks={"executions_list_window": quirk})
    newest = _five_runs(fake)
    statuses = {eid: fake.get(eid)["status"] for eid in newest}
    ids, pagination = _listing(fake, page=2, per_page=2)
    assert ids == newest[2:4]
    if quirk:  # §5.2: total_count <= page*per_page, has_next always false
        assert (pagination["total_count"], pagination["total_pages"], pagination["has_next"]) == (4, 2, False)
    else:
        assert (pagination["total_count"], pagination["total_pages"], pagination["has_next"]) == (7, 4, True)
    # with workflow_id and status: after pagination (production) or before it (intended)
    pending_of_echo = [e for e in newest if statuses[e] == "pending" and fake.state.store.executions[e].workflow_id
                       == WF["echo"]]
    ids, pagination = _listing(fake, workflow_id=WF["echo"], status="pending", page=1, per_page=2)
    if quirk:  # the page holds the two newest echo runs, both completed: nothing kept
        assert (ids, pagination["total_count"]) == ([], 0)
    else:
        assert (ids, pagination["total_count"], pagination["has_next"]) == (pending_of_echo, 1, False)
    ids, pagination = _listing(fake, status="completed", per_page=100)
    assert ids == [e for e in newest if statuses[e] == "completed"] and pagination["total_count"] == 3


# ---------------------------------------------------------------- string_inputs_poison

def test_string_inputs_poison_production():
    fake = Fake()
    r = fake.client.post(f"{API}/workflows/{WF['echo']}/execute", json={"inputs": "a string"}, headers=fake.key)
    assert r.status_code == 500 and r.json()["error"]["code"] == "execution_failed"
    poisoned = [e for e in fake.state.store.executions.values() if e.inputs == "a string"]
    assert len(poisoned) == 1 and fake.state.store.execution_runs == {}  # stored, never started
    assert fake.client.get(f"{API}/executions", headers=fake.key).status_code == 500  # the list breaks


@pytest.mark.beyond_contract  # openapi.yaml documents production's 500 for this request
def test_string_inputs_refused_when_intended():
    fake = Fake(quirks={"string_inputs_poison": False})
    before = len(fake.state.store.executions)
    for path in (f"workflows/{WF['echo']}/execute", f"triggers/{TRIGGER}/execute"):
        r = fake.client.post(f"{API}/{path}", json={"inputs": "a string"}, headers=fake.key)
        assert r.status_code == 400, r.text
        assert (r.json()["error"]["code"], r.json()["error"]["message"]) == ("validation_error", INPUTS_NOT_AN_OBJECT)
    assert len(fake.state.store.executions) == before
    assert fake.state.store.triggers[TRIGGER].trigger_count == 0
    assert fake.client.get(f"{API}/executions", headers=fake.key).status_code == 200


# ---------------------------------------------------------------- execute_orphan_pending

BAD_TRIGGER = "10000000-0000-4000-8000-000000000002"


@pytest.mark.parametrize("quirk", [True, False])
def test_execute_orphan_pending(quirk):
    fake = Fake(quirks={"execute_orphan_pending": quirk})
    store = fake.state.store
    error = fake.execute("bad", {"x": 1}, status=400)
    assert (error["code"], error["message"]) == ("validation_error", messages.WORKFLOW_BAD_FORMAT)
    r = fake.client.post(f"{API}/triggers/{BAD_TRIGGER}/execute", json={"inputs": {"y": 2}}, headers=fake.key)
    assert r.status_code == 400 and r.json()["error"]["message"] == messages.TRIGGER_BAD_DEFINITION
    orphans = [(e.status, e.inputs) for e in store.executions.values() if e.workflow_id == WF["bad"]]
    if quirk:  # production: the rows stay behind, `pending`, and the trigger counted the attempt
        assert orphans == [("pending", {"x": 1}), ("pending", {"y": 2})]
        assert store.triggers[BAD_TRIGGER].trigger_count == 1
    else:
        assert orphans == [] and store.triggers[BAD_TRIGGER].trigger_count == 0


# ---------------------------------------------------------------- determinism

def _session(profile: str) -> tuple[list, list, list]:
    fake = Fake(profile=profile)
    made = [fake.execute(name, {"message": "d", "name": "D", "count": 2})["execution_id"]
            for name in ("echo", "fail", "template", "pause")]
    fake.advance(150)
    made.append(fake.execute("array", {"topic": "t"})["execution_id"])
    fake.client.post(f"{API}/executions/{made[0]}/cancel", headers=fake.key)
    for step in (100, 250, 400, 5000, 60_000):
        fake.advance(step)
        fake.client.get(f"{API}/executions", headers=fake.key)
    records = [fake.get(eid) for eid in made]
    events = [fake.events(eid) for eid in made]
    published = [(e.type, e.user_id, e.workspace_id, e.data, e.at_ms) for e in fake.published]
    return records, events, published


@pytest.mark.parametrize("profile", ["production", "intended"])
def test_same_scenario_seed_and_clock_moves_give_the_same_runs(profile):
    first, second = _session(profile), _session(profile)
    assert first == second
    records, events, published = first
    assert [r["status"] for r in records] == ["cancelled", "failed", "completed", "paused", "completed"]
    assert all(events[1:]) and published

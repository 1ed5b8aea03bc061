"""fakemaestro.strategies: what it draws is valid (the scenario loader accepts every
scenario and schedule; every resource validates against openapi.yaml), a schedule
plays on the fake exactly as it says, shrinking ends at minimal schedules, and
hypothesis's seed replays the same draws."""
from __future__ import annotations

import json
import re

import httpx
import pytest
import yaml
from hypothesis import find, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from fakemaestro import strategies as fs
from fakemaestro.kit.handle import with_overrides
from fakemaestro.kit.openapi import schema_names
from fakemaestro.kit.schedule import Fault, FaultSchedule, as_rules
from fakemaestro.resources import operations
from fakemaestro.scenario import Scenario
from fakemaestro.scenario.loader import check

from . import spec

FEW = settings(max_examples=25, deadline=None)
OPERATIONS = sorted(op.operation_id for op in operations())
EVERYTHING = fs.scenarios(workflows=(0, 4), executions=(0, 4), agents=(0, 3), threads=(0, 3), triggers=(0, 3),
                          knowledge_bases=(0, 2), webhooks=(0, 2), keys=(0, 3), behaviours=True)
SMALL = check(Scenario({"tenants": {"users": [{"id": fs.OWNER}], "workspaces": [{"id": fs.WORKSPACE}],
                                    "api_keys": [{"name": "full", "user": fs.OWNER, "workspace": fs.WORKSPACE}]}},
                       "<small>"))


# ------------------------------------------------------------------ the loader accepts what is drawn

@FEW
@given(EVERYTHING)
def test_every_scenario_passes_the_loader(data):
    assert isinstance(data, fs.ScenarioData)
    check(Scenario(data))
    assert yaml.safe_load(yaml.safe_dump(data)) == json.loads(json.dumps(data))  # plain data, dumpable


@FEW
@given(st.data())
def test_scenarios_have_the_sizes_asked_for(data):
    sizes = {"workflows": data.draw(st.integers(1, 5)), "agents": data.draw(st.integers(1, 3)),
             "executions": data.draw(st.integers(0, 5)), "threads": data.draw(st.integers(0, 3))}
    drawn = data.draw(fs.scenarios(**sizes))
    assert {kind: len(drawn["data"].get(kind, [])) for kind in sizes} == sizes
    assert [k["name"] for k in drawn["tenants"]["api_keys"]] == [fs.FULL_KEY]


@FEW
@given(st.sampled_from(OPERATIONS + [None]).flatmap(lambda operation: fs.fault_schedules(
    operation, latency_ms=50, connection=True, passes=True, messages=True, retry_after=90, max_size=6)))
def test_every_schedule_passes_the_loader(schedule):
    rules = with_overrides(SMALL, faults=schedule).data.get("faults", [])  # check()ed
    assert [r["name"] for r in rules] == [f"fakemaestro.apply-{i}" for i in range(len(rules))]
    assert sum(r["when"]["first"] for r in rules) == len(schedule)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_schedules_for_every_operation_pass_the_loader(operation):
    schedule = find(fs.fault_schedules(operation, min_size=2), lambda s: True)
    with_overrides(SMALL, faults=schedule)


@FEW
@given(fs.error_responses(messages=True, retry_after=None, latency_ms=20))
def test_every_error_response_passes_the_loader(error):
    assert error.kind == "error" and error.code in fs.CATALOGUE_ERRORS
    with_overrides(SMALL, faults=error)


@FEW
@given(st.lists(fs.api_keys(active=None), min_size=1, max_size=4))
def test_api_keys_pass_the_loader(keys):
    for i, key in enumerate(keys):
        key["name"] = f"key-{i}"
    check(Scenario({**SMALL.data, "tenants": {**SMALL.data["tenants"], "api_keys": keys}}))


@pytest.mark.parametrize("name", schema_names())
def test_every_resource_validates_against_openapi(name):
    validator = spec._validator(f"/components/schemas/{name}")

    @settings(max_examples=10, deadline=None)
    @given(fs.resources(name))
    def valid(value):
        errors = [e.message for e in validator.iter_errors(value)]
        assert not errors, f"{name}: {errors}\n{value!r}"
    valid()


# ------------------------------------------------------------------ schedules play as they say

@FEW
@given(fs.fault_schedules("listWorkflows", latency_ms=3, passes=True, max_size=5))
def test_a_schedule_plays_step_by_step_then_production_answers(fakemaestro_app, schedule):
    fakemaestro_app.apply(schedule)
    statuses = _list_workflows(fakemaestro_app, times=len(schedule) + 2)
    expected = [step.status or 200 for step in schedule] + [200, 200]
    assert statuses == expected
    journal = fakemaestro_app.journal()
    assert [e["latency_ms"] for e in journal[:len(schedule)]] == [s.latency_ms for s in schedule]
    assert [e["fault"] is not None for e in journal] == [True] * len(schedule) + [False, False]


@settings(max_examples=10, deadline=None)
@given(fs.fault_schedules("listWorkflows", errors=fs.TRANSIENT_ERRORS, connection=True, min_size=1, max_size=4))
def test_a_schedule_drops_real_connections(fakemaestro, schedule):
    fakemaestro.apply(schedule)
    with httpx.Client(base_url=fakemaestro.base_url,
                      headers={"authorization": f"Bearer {fakemaestro.key('full')}"}) as client:
        assert client.get("/api/v1/agents").status_code == 200  # another operation: not in the schedule
        seen = []
        for _ in range(len(schedule) + 1):
            try:
                seen.append(client.get("/api/v1/workflows").status_code)
            except httpx.TransportError:
                seen.append(None)
    assert seen == [s.status for s in schedule] + [200]
    assert fakemaestro.verify(status="200") == 2


def test_a_schedule_is_deterministic(fakemaestro_app):
    schedule = FaultSchedule("listWorkflows", (Fault("error", "service_unavailable"), Fault("latency", latency_ms=2),
                                               Fault("error", "rate_limit_exceeded", retry_after=3)))
    runs = []
    for _ in range(2):
        fakemaestro_app.apply(schedule)
        _list_workflows(fakemaestro_app, times=4)
        runs.append([{k: v for k, v in e.items() if k not in ("elapsed_ms", "time")}
                     for e in fakemaestro_app.journal()])
    assert runs[0] == runs[1]
    assert [e["status"] for e in runs[0]] == [503, 200, 429, 200]


def test_equal_steps_in_a_row_share_one_rule():
    unavailable = Fault("error", "service_unavailable")
    rules = FaultSchedule("listWorkflows", (unavailable, unavailable, Fault("pass"), unavailable)).rules()
    assert [(r["when"], r["do"]) for r in rules] == [
        ({"first": 2}, {"error": "service_unavailable"}), ({"first": 1}, {"latency": {"fixed_ms": 0}}),
        ({"first": 1}, {"error": "service_unavailable"})]
    two = as_rules([FaultSchedule("getWorkflow", (unavailable,)), FaultSchedule("listWorkflows", (unavailable,))])
    assert [r["name"] for r in two] == ["fakemaestro.apply-0", "fakemaestro.apply-1"]


def _list_workflows(fake, times: int) -> list[int]:
    from starlette.testclient import TestClient
    headers = {"authorization": f"Bearer {fake.key('full')}"}
    with TestClient(fake, base_url="http://127.0.0.1") as client:
        return [client.get("/api/v1/workflows", headers=headers).status_code for _ in range(times)]


# ------------------------------------------------------------------ shrinking and reproduction

def test_shrinking_ends_at_the_minimal_schedule():
    longest = find(fs.fault_schedules(errors=fs.TRANSIENT_ERRORS), lambda s: len(s) >= 3)
    assert longest.steps == (Fault("error", "rate_limit_exceeded", retry_after=0),) * 3
    gateway_last = find(fs.fault_schedules("listWorkflows", errors=fs.TRANSIENT_ERRORS, retry_after=9),
                        lambda s: len(s) >= 2 and s.steps[-1].code == "framework_502")
    assert repr(gateway_last) == ("FaultSchedule(listWorkflows: [<429 rate_limit_exceeded retry_after=0>, "
                                  "<502 framework_502>])")
    assert find(EVERYTHING, lambda d: len(d.get("data", {}).get("workflows", [])) >= 2).summary() == \
        "<scenario seed=0: 2 workflows>"


def _drawn(strategy, **settings_kwargs) -> list:
    seen = []

    @settings(max_examples=15, database=None, **settings_kwargs)
    @given(strategy)
    def record(value):
        seen.append(value)
    return record, seen


def test_a_seed_replays_the_same_schedules():
    strategy = fs.fault_schedules(errors=fs.TRANSIENT_ERRORS, latency_ms=30, connection=True)
    runs = []
    for _ in range(2):
        record, seen = _drawn(strategy)
        seed(20260302)(record)()
        runs.append(seen)
    assert runs[0] == runs[1] and len(runs[0]) == 15
    derandomized = []
    for _ in range(2):
        record, seen = _drawn(strategy, derandomize=True)
        record()
        derandomized.append(seen)
    assert derandomized[0] == derandomized[1]


# ------------------------------------------------------------------ helpful errors

@pytest.mark.parametrize("make, message", [
    (lambda: fs.fault_schedules("listWorkflow"), "unknown operation 'listWorkflow'; operations: cancelExecution, "),
    (lambda: fs.fault_schedules(errors=["service_unavailable", "teapot"]),
     "errors must be catalogue error codes (rate_limit_exceeded, "),
    (lambda: fs.fault_schedules(errors=()), "fault_schedules needs something to draw"),
    (lambda: fs.fault_schedules(max_size=-1), "min_size/max_size must be a non-negative integer; got -1"),
    (lambda: fs.error_responses(latency_ms=1.5), "latency_ms must be a non-negative integer; got 1.5"),
    (lambda: fs.scenarios(workflows=(5, 2)), "workflows: min 5 is more than max 2"),
    (lambda: fs.execution_behaviours(["done"]), "outcomes must be some of completed, failed, paused; got ['done']"),
    (lambda: fs.resources("Workflows"), "no schema named 'Workflows' in openapi.yaml; schemas: Agent, "),
])
def test_invalid_arguments_name_the_value(make, message):
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        make()


def test_a_fault_refuses_what_the_fake_cannot_do():
    with pytest.raises(ValueError, match="unknown catalogue error 'teapot'"):
        Fault("error", "teapot")
    with pytest.raises(ValueError, match="retry_after goes with the rate_limit_exceeded error only"):
        Fault("error", "service_unavailable", retry_after=1)

"""Hypothesis strategies for property-testing code that calls FlowMaestro.

    fault_schedules(operation, ...)  what happens to an operation's 1st, 2nd... request:
                                     catalogue errors, latencies, dropped connections
    error_responses(codes, ...)      one error from production's catalogue (a Fault)
    scenarios(workflows=..., ...)    random, valid data sets of the sizes asked for
    api_keys(...)                    API key records with random scopes and limits
    execution_behaviours(...)        how a workflow's executions run (outcome, duration)
    resources(name)                  objects valid against a schema of openapi.yaml

Apply what they draw with the pytest plugin's fixture, at the top of each example:
`fm.apply(schedule)` (or `fm.apply(error)`) for faults, `fm.load(scenario)` for data.
Everything drawn is plain data the scenario loader accepts, so hypothesis shrinks a
failure to a minimal schedule or data set and prints it; replay it with hypothesis's
own tools (`@seed(n)`, `@reproduce_failure`, `derandomize=True`): the fake answers the
same schedule on the same scenario the same way.

Record counts (`workflows=`...) take an int, a (min, max) pair or a strategy of ints.
Invalid arguments raise hypothesis's InvalidArgument naming the value.
"""
from __future__ import annotations

from datetime import datetime, timezone

import yaml
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .http.scopes import ALL_SCOPES, BUNDLES
from .kit import openapi
from .kit.schedule import CATALOGUE_ERRORS, CONNECTION_FAULTS, TRANSIENT_ERRORS, Fault, FaultSchedule
from .scenario.schema import EXECUTION_STATUSES, WEBHOOK_EVENTS

__all__ = ["CATALOGUE_ERRORS", "FULL_KEY", "OWNER", "TRANSIENT_ERRORS", "WORKSPACE", "Fault", "FaultSchedule",
           "ScenarioData", "api_keys", "error_responses", "execution_behaviours", "fault_schedules", "resources", "scenarios"]

# The tenant every generated scenario has: one user, one workspace, and the key
# FULL_KEY with every scope and limits no test reaches.
OWNER = "5e1f0000-0000-4000-8000-000000000001"
WORKSPACE = "5e1f0000-0000-4000-8000-000000000002"
FULL_KEY = "full"
EARLIEST = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
LATEST = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
NAME = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
TEXT = openapi.TEXT
WORKFLOW_DEFINITION = {  # input -> output: valid, so executing it is accepted
    "name": "generated", "entryPoint": "input_1",
    "nodes": {"input_1": {"type": "input", "config": {"variableName": "topic", "inputType": "text"}},
              "output_1": {"type": "output", "config": {"outputName": "result", "value": "{{topic}}"}}},
    "edges": [{"id": "e1", "source": "input_1", "target": "output_1"}]}
OUTCOMES = ("completed", "failed", "paused")


# ------------------------------------------------------------------ faults

def error_responses(codes=CATALOGUE_ERRORS, *, retry_after: int | None = 0, messages: bool = False,
                    latency_ms: int = 0) -> st.SearchStrategy[Fault]:
    """One error from production's catalogue, as a Fault (apply it with `fm.apply`).

    codes        the catalogue codes to draw from (default: all of them)
    retry_after  rate_limit_exceeded only: the largest Retry-After seconds to draw
                 (default 0, so a client that honours it does not sleep); None keeps
                 production's own value (the seconds to the end of the window)
    messages     also draw custom message texts (default: production's)
    latency_ms   the largest latency to add before answering
    """
    codes = _codes(codes, "codes")
    _non_negative(latency_ms, "latency_ms")
    if retry_after is not None:
        _non_negative(retry_after, "retry_after")

    @st.composite
    def draw_error(draw) -> Fault:
        # the same draws whatever the code, so that the shrinker can swap codes freely
        code = draw(st.sampled_from(codes))
        wait = draw(st.integers(0, retry_after)) if retry_after is not None else None
        message = draw(st.none() | NAME) if messages else None
        wait = wait if code == "rate_limit_exceeded" else None
        return Fault("error", code, _latency(draw, latency_ms), wait, message)
    return draw_error()


def fault_schedules(operation: str | None = None, *, errors=CATALOGUE_ERRORS, min_size=0, max_size=4,
                    latency_ms: int = 0, connection: bool = False, passes: bool = False,
                    retry_after: int | None = 0, messages: bool = False) -> st.SearchStrategy[FaultSchedule]:
    """What happens to the 1st, 2nd... request matching `operation` (an operationId
    of openapi.yaml; None: every /api/v1 request), then production's answers.

    errors       catalogue codes the steps may answer with (TRANSIENT_ERRORS: the
                 429/502/503/504 a client should retry; () for none)
    min_size, max_size  how many steps
    latency_ms   > 0: steps may also be late answers, and errors late, up to this
    connection   steps may also drop the connection (TCP reset or close)
    passes       steps may also be production's own answer (faults further apart)
    retry_after, messages  as for error_responses
    """
    _operation(operation)
    codes = _codes(errors, "errors", allow_empty=True)
    kinds = [error_responses(codes, retry_after=retry_after, messages=messages, latency_ms=latency_ms)] \
        if codes else []
    if latency_ms:
        kinds.append(st.integers(1, latency_ms).map(lambda ms: Fault("latency", latency_ms=ms)))
    if connection:
        kinds.append(st.sampled_from(CONNECTION_FAULTS).map(lambda code: Fault("connection", code)))
    if passes:
        kinds.append(st.just(Fault("pass")))
    if not kinds:
        raise InvalidArgument("fault_schedules needs something to draw: errors, latency_ms, connection or passes")
    _sizes(min_size, max_size, "min_size/max_size")
    steps = st.lists(st.one_of(kinds), min_size=min_size, max_size=max_size)  # errors first: they shrink
    # towards errors, not towards nothing happening

    @st.composite  # (not .map: hypothesis would print the lambda's call instead of the schedule)
    def draw_schedule(draw) -> FaultSchedule:
        return FaultSchedule(operation, tuple(draw(steps)))
    return draw_schedule()


def _latency(draw, latency_ms: int) -> int:
    return draw(st.integers(0, latency_ms)) if latency_ms else 0


# ------------------------------------------------------------------ data

def api_keys(*, name: str | st.SearchStrategy[str] = "key", user: str = OWNER, workspace: str = WORKSPACE,
             active: bool | None = True) -> st.SearchStrategy[dict]:
    """An `tenants.api_keys` record: random scopes (a list or a bundle), per-minute
    and per-day limits (0 included: every request over the limit); with active=False
    an expired, revoked or inactive key, with None either."""
    names = name if isinstance(name, st.SearchStrategy) else st.just(name)
    scopes = st.one_of(st.lists(st.sampled_from(ALL_SCOPES), unique=True).map(lambda s: {"scopes": s}),
                       st.sampled_from(sorted(BUNDLES)).map(lambda b: {"bundle": b}))
    dead = st.sampled_from([{"expires_at": "2020-01-01T00:00:00Z"}, {"revoked": True}, {"inactive": True}])
    alive = st.sampled_from([{}, {"expires_at": "2099-01-01T00:00:00Z"}])
    state = alive if active else dead if active is False else alive | dead

    @st.composite
    def draw_key(draw) -> dict:
        return {"name": draw(names), "user": user, "workspace": workspace, **draw(scopes),
                "per_minute": draw(st.integers(0, 1000)), "per_day": draw(st.integers(0, 100_000)), **draw(state)}
    return draw_key()


def execution_behaviours(outcomes=OUTCOMES, *, max_duration_ms: int = 60_000) -> st.SearchStrategy[dict]:
    """A `behaviours.workflows` entry: how executions of that workflow run (outcome
    completed, failed or paused, after duration_ms on the fake's clock)."""
    outcomes = list(outcomes)
    if not outcomes or set(outcomes) - set(OUTCOMES):
        raise InvalidArgument(f"outcomes must be some of {', '.join(OUTCOMES)}; got {outcomes!r}")
    _non_negative(max_duration_ms, "max_duration_ms")

    @st.composite
    def draw_behaviour(draw) -> dict:
        outcome = draw(st.sampled_from(outcomes))
        behaviour = {"outcome": outcome, "duration_ms": draw(st.integers(0, max_duration_ms))}
        if outcome == "failed":
            behaviour["error"] = draw(NAME)
        return behaviour
    return draw_behaviour()


class ScenarioData(dict):
    """Scenario data drawn by `scenarios()`: a plain dict (give it to `fm.load`, dump
    it with json or yaml.safe_dump) that hypothesis prints as a summary, e.g.
    `<scenario seed=0: 1 workflow, 2 executions (pending, completed)>`."""

    def summary(self) -> str:
        parts = []
        for kind, items in (self.get("data") or {}).items():
            name = kind[:-1] if len(items) == 1 else kind
            statuses = [i["status"] for i in items if "status" in i and kind == "executions"]
            parts.append(f"{len(items)} {name}" + (f" ({', '.join(statuses)})" if statuses else ""))
        extra_keys = len((self.get("tenants") or {}).get("api_keys") or []) - 1
        if extra_keys > 0:
            parts.append(f"{extra_keys} more key{'s' if extra_keys > 1 else ''}")
        for workflow, behaviour in ((self.get("behaviours") or {}).get("workflows") or {}).items():
            parts.append(f"workflow {workflow[:8]} {behaviour['outcome']} in {behaviour['duration_ms']} ms")
        return f"<scenario seed={self.get('seed')}: {', '.join(parts) or 'no records'}>"

    def _repr_pretty_(self, printer, cycle) -> None:  # how hypothesis prints a falsifying example
        printer.text(self.summary())


yaml.SafeDumper.add_representer(ScenarioData, yaml.SafeDumper.represent_dict)


def scenarios(*, workflows=0, executions=0, agents=0, threads=0, triggers=0, knowledge_bases=0, webhooks=0,
              keys=0, behaviours: bool = False, clock: dict | None = None) -> st.SearchStrategy[dict]:
    """Scenario data (a dict for `fm.load`) with that many records of each kind (none
    of the kinds not asked for), in the workspace WORKSPACE of user OWNER, with the
    key FULL_KEY plus `keys` random ones (named key-0, key-1...). Executions and
    triggers need a workflow and threads an agent: without one there are none. With
    behaviours=True each workflow may get an execution behaviour; `clock` is copied
    in as the scenario's clock section (e.g. {"frozen_at": "2026-03-02T09:00:00Z"})."""
    counts = {name: _sizes(*_pair(value, name), name) for name, value in (
        ("workflows", workflows), ("executions", executions), ("agents", agents), ("threads", threads),
        ("triggers", triggers), ("knowledge_bases", knowledge_bases), ("webhooks", webhooks), ("keys", keys))}

    @st.composite
    def draw_scenario(draw) -> dict:
        n = {name: draw(size) for name, size in counts.items()}
        if not n["workflows"]:
            n["executions"] = n["triggers"] = 0
        if not n["agents"]:
            n["threads"] = 0
        ids = iter(draw(st.lists(st.uuids(version=4).map(str), unique=True, min_size=_records(n),
                                 max_size=_records(n))))
        data: dict = {}
        data["workflows"] = [_workflow(draw, next(ids)) for _ in range(n["workflows"])]
        workflow_ids = [w["id"] for w in data["workflows"]]
        data["executions"] = [_execution(draw, next(ids), workflow_ids) for _ in range(n["executions"])]
        data["agents"] = [_agent(draw, next(ids)) for _ in range(n["agents"])]
        agent_ids = [a["id"] for a in data["agents"]]
        data["threads"] = [_thread(draw, next(ids), agent_ids) for _ in range(n["threads"])]
        data["triggers"] = [_trigger(draw, next(ids), workflow_ids) for _ in range(n["triggers"])]
        data["knowledge_bases"] = [_knowledge_base(draw, next(ids)) for _ in range(n["knowledge_bases"])]
        data["webhooks"] = [_webhook(draw, next(ids), i) for i in range(n["webhooks"])]
        scenario = ScenarioData({"name": "hypothesis", "seed": draw(st.integers(0, 2**31 - 1)), "tenants": {
            "users": [{"id": OWNER, "email": "owner@example.com", "name": "Owner"}],
            "workspaces": [{"id": WORKSPACE, "name": "Main", "owner": OWNER}],
            "api_keys": [{"name": FULL_KEY, "user": OWNER, "workspace": WORKSPACE, "scopes": list(ALL_SCOPES),
                          "per_minute": 1_000_000, "per_day": 100_000_000}]
            + [draw(api_keys(name=f"key-{i}", active=None)) for i in range(n["keys"])]},
            "data": {kind: items for kind, items in data.items() if items}})
        if behaviours and workflow_ids:
            chosen = draw(st.lists(st.sampled_from(workflow_ids), unique=True))
            if chosen:
                scenario["behaviours"] = {"workflows": {w: draw(execution_behaviours()) for w in chosen}}
        if clock is not None:
            scenario["clock"] = dict(clock)
        return scenario
    return draw_scenario()


def _records(n: dict) -> int:
    return sum(count for name, count in n.items() if name != "keys")


def _at(draw, after: int = EARLIEST) -> int:
    return draw(st.integers(after, max(after, LATEST)))


def _workflow(draw, ident: str) -> dict:
    return {"id": ident, "user": OWNER, "workspace": WORKSPACE, "name": draw(NAME),
            "description": draw(st.none() | TEXT), "definition": WORKFLOW_DEFINITION,
            "version": draw(st.integers(1, 5)), "created_at": _at(draw)}


def _execution(draw, ident: str, workflow_ids: list) -> dict:
    status = draw(st.sampled_from(EXECUTION_STATUSES))
    created = _at(draw)
    record = {"id": ident, "workflow": draw(st.sampled_from(workflow_ids)), "status": status,
              "inputs": {"topic": draw(TEXT)}, "created_at": created}
    if status != "pending":
        record["started_at"] = created + draw(st.integers(0, 5000))
    if status in ("completed", "failed", "cancelled"):
        record["completed_at"] = record["started_at"] + draw(st.integers(0, 60_000))
    if status == "completed":
        record["outputs"] = {"result": record["inputs"]["topic"]}
    if status == "failed":
        record["error"] = draw(NAME)
    return record


def _agent(draw, ident: str) -> dict:
    return {"id": ident, "user": OWNER, "workspace": WORKSPACE, "name": draw(NAME),
            "description": draw(st.none() | TEXT), "model": draw(st.sampled_from(["gpt-4o", "claude-sonnet-4"])),
            "provider": "openai", "system_prompt": draw(TEXT),
            "temperature": draw(st.sampled_from([0.0, 0.3, 0.7, 1.0])), "max_tokens": draw(st.integers(1, 8000)),
            "created_at": _at(draw)}


def _thread(draw, ident: str, agent_ids: list) -> dict:
    created = _at(draw)
    messages = draw(st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]),
                                                    "content": TEXT}), max_size=3))
    return {"id": ident, "user": OWNER, "workspace": WORKSPACE, "agent": draw(st.sampled_from(agent_ids)),
            "title": draw(st.none() | NAME), "status": draw(st.sampled_from(["active", "archived"])),
            "created_at": created, "messages": [{**m, "created_at": created + i * 1000} for i, m in enumerate(messages)]}


def _trigger(draw, ident: str, workflow_ids: list) -> dict:
    return {"id": ident, "workflow": draw(st.sampled_from(workflow_ids)), "workspace": WORKSPACE, "name": draw(NAME),
            "trigger_type": draw(st.sampled_from(["schedule", "webhook", "event", "manual"])),
            "enabled": draw(st.booleans()), "created_at": _at(draw)}


def _knowledge_base(draw, ident: str) -> dict:
    chunk = st.fixed_dictionaries({"content": NAME})
    document = st.fixed_dictionaries({"name": NAME.map(lambda s: f"{s}.md"), "content": TEXT,
                                      "chunks": st.lists(chunk, max_size=2)})
    return {"id": ident, "user": OWNER, "workspace": WORKSPACE, "name": draw(NAME),
            "description": draw(st.none() | TEXT), "created_at": _at(draw),
            "documents": draw(st.lists(document, max_size=2))}


def _webhook(draw, ident: str, index: int) -> dict:
    return {"id": ident, "user": OWNER, "workspace": WORKSPACE, "name": draw(NAME),
            "url": f"https://hooks.example.com/{index}",
            "events": draw(st.lists(st.sampled_from(WEBHOOK_EVENTS), unique=True, min_size=1, max_size=3)),
            "is_active": draw(st.booleans()), "created_at": _at(draw)}


# ------------------------------------------------------------------ openapi.yaml

def resources(name: str) -> st.SearchStrategy:
    """Values valid against the schema `name` of openapi.yaml's components (e.g.
    "Workflow", "Execution", "WebhookListResponse"): what production can send, for
    testing code that reads it."""
    names = openapi.schema_names()
    if name not in names:
        raise InvalidArgument(f"no schema named {name!r} in openapi.yaml; schemas: {', '.join(names)}")
    return openapi.from_schema({"$ref": openapi.SCHEMAS + name})


# ------------------------------------------------------------------ argument checks

def _codes(codes, what: str, allow_empty: bool = False) -> list[str]:
    if isinstance(codes, str):
        codes = [codes]
    codes = list(codes)
    unknown = [c for c in codes if c not in CATALOGUE_ERRORS]
    if unknown or (not codes and not allow_empty):
        raise InvalidArgument(f"{what} must be catalogue error codes ({', '.join(CATALOGUE_ERRORS)}); "
                              f"got {codes!r}")
    return codes


def _operation(operation: str | None) -> None:
    if operation is None:
        return
    from .resources import operations
    known = sorted(op.operation_id for op in operations())
    if operation not in known:
        raise InvalidArgument(f"unknown operation {operation!r}; operations: {', '.join(known)}")


def _non_negative(value, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"{what} must be a non-negative integer; got {value!r}")


def _pair(value, what: str):
    if isinstance(value, tuple):
        if len(value) != 2:
            raise InvalidArgument(f"{what} must be an int, a (min, max) pair or a strategy; got {value!r}")
        return value
    return value, value


def _sizes(low, high, what: str) -> st.SearchStrategy[int]:
    """An int strategy from bounds (low, high), or the strategy given as low."""
    if isinstance(low, st.SearchStrategy):
        return low
    for value in (low, high):
        _non_negative(value, what)
    if low > high:
        raise InvalidArgument(f"{what}: min {low} is more than max {high}")
    return st.integers(low, high)

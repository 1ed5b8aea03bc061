"""Executions that run (CONTRACT.md §5.2 "Execution lifecycle", §5.1, §5.5).

After a 202 from executeWorkflow or executeTrigger, production's engine (a Temporal
orchestration) picks the execution up and moves it pending -> running -> completed,
failed or paused, node by node. The fake decides the whole run when it starts (a
`Run`: its timed steps, outputs, error) and lets the fake clock bring each step due:
`settle(now_ms)` pops due steps from a heap, so it costs nothing while nothing is due,
and seeded executions (which have no run) never move.

Each step writes what production's activities write (temporal/activities/events.ts):
`execution:started` sets `running` and `started_at`; `node:started`, `node:completed`
(followed by `execution:progress`) or `node:failed` per node; `execution:completed` sets
`outputs` and `completed_at`; `execution:failed` sets `error` and `completed_at`;
`execution:paused` sets `paused` (completed_at stays null). The events are kept as the
camelCase WebSocketEvent payloads production publishes, for the execution's event
stream, and execution.started/completed/failed are published as §8.2 DomainEvents
(for webhooks) for the workflow's user and workspace. Every time comes from the plan,
never from when settling happened, so the same scenario, seed and clock moves give the
same records and events. The engine picks a run up PICKUP_MS after the 202 (so the read
right after an execute still sees `pending`). `cancel` stops a run where it is.

Scenario `behaviours.workflows[<workflow id>]` (scenario/loader.py keeps them in
`store.workflow_behaviours`) sets per workflow:
* `nodes`: the node ids that run, in order (default: the definition's nodes in the
  order production's readiness queue runs them, backend or array format).
* `outcome`: `completed` (default), `failed` (the last node fails), `paused` (the run
  pauses at its last node) or `pending` (the engine never picks the execution up: it
  stays `pending` for good, as in production's recordings, made without a running engine).
* `duration_ms`: from `started_at` to the end; split over the nodes by their kind.
  Default: each node's typical time (by type), varied a little per execution.
* `outputs`: the completed run's outputs; strings may hold `{{inputs.<path>}}`,
  `{{execution.id}}`, `{{execution.workflow_id}}`, `{{workflow.id}}`, `{{workflow.name}}`
  (a string that is just one placeholder takes the value itself, of any type). Default
  as production builds them: each output node's `{outputName: value}` with `{{var}}`
  filled from the inputs, or, with no output node, the whole context (inputs + userId).
* `error`: the failed run's error (default: production's "Workflow completed with
  errors: ..." naming the failing node).
"""
from __future__ import annotations

import hashlib
import heapq
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..clock import iso
from ..store import Store
from ..store.models import Execution, Workflow
from .world import DomainEvent, World

PICKUP_MS = 200  # 202 -> execution:started: the engine's queue, input validation and tracing span
TERMINAL_EVENTS = frozenset({"execution:completed", "execution:failed", "execution:cancelled"})
# A node's typical run time by type, in ms (anything else: DEFAULT_NODE_MS).
NODE_MS = {"input": 4, "output": 3, "conditional": 5, "switch": 5, "router": 450, "transform": 15,
           "variable": 3, "code": 60, "wait": 1000, "delay": 1000, "http": 350, "database": 120,
           "llm": 1400, "agent": 2600, "vision": 1800, "embeddings": 300, "kb-query": 250,
           "integration": 500}
DEFAULT_NODE_MS = 120
DEFAULT_NODE_ERROR = "Simulated node failure"
UNNAMED_WORKFLOW = "Unnamed Workflow"
PAUSE_REASON = "Waiting for user input"
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    name: str | None  # production's node.name; node:started omits it when unset
    config: dict


@dataclass(frozen=True)
class Step:
    at_ms: int
    kind: str                 # started, node_started, node_completed, node_failed, completed, failed, paused
    node: Node | None = None
    duration: int = 0         # node_completed: the node's run time
    output: Any = None        # node_completed: what production reports as the node's output
    done: int = 0             # node_completed: nodes completed so far (execution:progress)


@dataclass
class Run:
    """A started execution's plan and how far it has gone."""

    execution_id: str
    workflow_id: str
    definition_name: str      # execution:started carries the definition's name, not the row's
    total_nodes: int
    steps: tuple[Step, ...]
    outputs: Any = None
    error: str | None = None
    next: int = 0


# ------------------------------------------------------------------ the definition

def definition_nodes(definition) -> dict[str, Node]:
    """The definition's nodes by id; array (frontend) format is read as production's
    converter does (`data` is the config, `data.label` the name)."""
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    found: dict[str, Node] = {}
    if isinstance(nodes, dict):
        for node_id, node in nodes.items():
            node = node if isinstance(node, dict) else {}
            found[str(node_id)] = Node(str(node_id), str(node.get("type") or "unknown"), _text(node.get("name")),
                                       node.get("config") if isinstance(node.get("config"), dict) else {})
    elif isinstance(nodes, list):
        for node in nodes:
            if isinstance(node, dict) and node.get("id") is not None:
                data = node.get("data") if isinstance(node.get("data"), dict) else {}
                found[str(node["id"])] = Node(str(node["id"]), str(node.get("type") or "unknown"),
                                              _text(data.get("label")), data)
    return found


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def run_order(definition, nodes: dict[str, Node]) -> list[Node]:
    """The nodes in the order production's readiness queue runs them: start at input
    nodes and nodes without incoming edges; a node runs once all its sources ran."""
    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    outgoing: dict[str, list[str]] = {n: [] for n in nodes}
    edges = definition.get("edges") if isinstance(definition, dict) else None
    for edge in edges if isinstance(edges, list) else ():
        if not isinstance(edge, dict):
            continue
        source, target = str(edge.get("source")), str(edge.get("target"))
        if source in outgoing:
            outgoing[source].append(target)
        if target in incoming:
            incoming[target].append(source)
    queue = [n for n, node in nodes.items() if node.type == "input" or not incoming[n]]
    ran: list[str] = []
    budget = len(nodes) * 10  # production gives up on cycles the same way
    while queue and budget > 0:
        budget -= 1
        node_id = queue.pop(0)
        if node_id in ran or node_id not in nodes:
            continue
        if not all(source in ran for source in incoming[node_id]):
            queue.append(node_id)
            continue
        ran.append(node_id)
        queue.extend(t for t in outgoing[node_id] if t not in ran)
    return [nodes[n] for n in ran]


# ------------------------------------------------------------------ templates

def render(value: Any, namespace: dict) -> Any:
    """`value` with `{{path}}` placeholders in its strings filled from `namespace`
    (dotted paths; list items by index). A string that is one placeholder becomes the
    value itself; a placeholder that names nothing is left as written."""
    if isinstance(value, dict):
        return {k: render(v, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, namespace) for v in value]
    if not isinstance(value, str):
        return value
    whole = _PLACEHOLDER.fullmatch(value.strip())
    if whole:
        found, resolved = _lookup(namespace, whole.group(1))
        return resolved if found else value
    return _PLACEHOLDER.sub(lambda m: _as_text(_lookup(namespace, m.group(1)), m.group(0)), value)


def _lookup(namespace: Any, path: str) -> tuple[bool, Any]:
    current = namespace
    for part in re.split(r"\.|\[(\d+)\]", path.strip()):
        if not part:
            continue
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def _as_text(found: tuple[bool, Any], written: str) -> str:
    ok, value = found
    if not ok:
        return written
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------------ planning

def plan(store: Store, ex: Execution, wf: Workflow) -> Run | None:
    """The run of a just-started execution, or None when the engine never picks it up."""
    behaviour = store.workflow_behaviours.get(wf.id) or {}
    nodes = definition_nodes(wf.definition)
    if "nodes" in behaviour:
        sequence = [nodes.get(str(n)) or Node(str(n), "unknown", None, {}) for n in behaviour["nodes"] or ()]
    else:
        sequence = run_order(wf.definition, nodes)
    outcome = behaviour.get("outcome", "completed")
    if outcome == "pending":
        return None
    duration_ms = behaviour.get("duration_ms")
    durations = _durations(ex.id, sequence, duration_ms)
    context = _context(ex.inputs, wf.user_id)
    start_ms = ex.created_at + PICKUP_MS
    steps, outputs = _steps(start_ms, sequence, durations, outcome, context, start_ms + (duration_ms or 0))
    run = Run(ex.id, wf.id, _definition_name(wf.definition), max(len(nodes), len(sequence)), tuple(steps))
    if outcome == "completed":
        run.outputs = (render(behaviour["outputs"], _namespace(ex, wf)) if "outputs" in behaviour else outputs)
    elif outcome == "failed":
        run.error = behaviour.get("error") or _default_error(sequence)
    return run


def _definition_name(definition) -> str:
    name = definition.get("name") if isinstance(definition, dict) else None
    return name if isinstance(name, str) and name else UNNAMED_WORKFLOW


def _namespace(ex: Execution, wf: Workflow) -> dict:
    return {"inputs": ex.inputs, "execution": {"id": ex.id, "workflow_id": wf.id},
            "workflow": {"id": wf.id, "name": wf.name}}


def _context(inputs: Any, user_id: str) -> dict:
    """The orchestrator's starting context: the inputs spread, plus userId."""
    if isinstance(inputs, dict):
        context = dict(inputs)
    elif isinstance(inputs, list):
        context = {str(i): v for i, v in enumerate(inputs)}
    else:
        context = {}
    context["userId"] = user_id
    return context


def _durations(execution_id: str, sequence: list[Node], total: int | None) -> list[int]:
    """Each node's run time: its type's typical time varied by +-25% per execution, or
    those weights scaled to add up to the behaviour's `duration_ms` exactly."""
    weights = [NODE_MS.get(node.type, DEFAULT_NODE_MS) * (0.75 + 0.5 * _unit(execution_id, node.id))
               for node in sequence]
    if total is None:
        return [max(1, round(w)) for w in weights]
    whole = sum(weights) or 1
    shares = [math.floor(total * w / whole) for w in weights]
    if shares:
        shares[-1] += total - sum(shares)
    return shares


def _unit(*parts: str) -> float:
    digest = hashlib.blake2b(":".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _steps(start: int, sequence: list[Node], durations: list[int], outcome: str, context: dict,
           end_without_nodes: int) -> tuple[list[Step], dict]:
    """The timed steps, and the outputs production would build (output nodes' values,
    or the whole context when no output node ran)."""
    steps = [Step(start, "started")]
    at, outputs = (start, {}) if sequence else (end_without_nodes, {})
    for n, (node, took) in enumerate(zip(sequence, durations)):
        last = n == len(sequence) - 1
        steps.append(Step(at, "node_started", node))
        at += took
        if last and outcome in ("failed", "paused"):
            steps.append(Step(at, "node_failed" if outcome == "failed" else "paused", node))
            break
        output = _run_node(node, context)
        if node.type == "output":
            outputs.update(output)
        steps.append(Step(at, "node_completed", node, took, output, n + 1))
    if outcome != "paused":
        steps.append(Step(at, outcome, sequence[-1] if sequence else None))
    elif not sequence:
        steps.append(Step(at, "paused"))
    return steps, (outputs if outputs else dict(context))


def _run_node(node: Node, context: dict) -> Any:
    """What a node adds to the context, and the output node:completed reports: an
    output node's {outputName: value}; for any other node, the context itself (input
    nodes only copy inputs, which the context already holds)."""
    if node.type == "output":
        name = node.config.get("outputName") or node.id
        result = {str(name): render(node.config.get("value"), context)}
        context.update(result)
        return result
    return dict(context)


def _default_error(sequence: list[Node]) -> str:
    if not sequence:
        return "Workflow execution failed"
    failing = json.dumps({sequence[-1].id: DEFAULT_NODE_ERROR}, separators=(",", ":"))
    return f"Workflow completed with errors: {failing}"


# ------------------------------------------------------------------ running

def start(state, ex: Execution, wf: Workflow) -> Run | None:
    """Plan the run of an execution production's engine was just asked to start."""
    store: Store = state.store
    run = plan(store, ex, wf)
    if run is not None:
        store.execution_runs[ex.id] = run
        heapq.heappush(store.execution_due, (run.steps[0].at_ms, ex.seq, ex.id))
    return run


def settle(store: Store, world: World, now_ms: int) -> None:
    """Apply every step due by `now_ms`, the earliest first (ties: older execution first)."""
    due = store.execution_due
    while due and due[0][0] <= now_ms:
        _, seq, execution_id = heapq.heappop(due)
        run = store.execution_runs.get(execution_id)
        if run is None:  # cancelled since: nothing more happens
            continue
        _apply(store, world, run, run.steps[run.next])
        run.next += 1
        if run.next < len(run.steps):
            heapq.heappush(due, (run.steps[run.next].at_ms, seq, execution_id))
        else:
            del store.execution_runs[execution_id]


def _apply(store: Store, world: World, run: Run, step: Step) -> None:
    ex = store.executions[run.execution_id]
    _STEPS[step.kind](_Moment(store, world, run, step, ex, {"timestamp": step.at_ms, "executionId": ex.id}))


@dataclass(frozen=True)
class _Moment:
    """One step being applied: what each step function needs."""

    store: Store
    world: World
    run: Run
    step: Step
    ex: Execution
    base: dict  # the fields every WebSocketEvent starts with

    def emit(self, kind: str, **fields) -> None:
        _emit(self.store, kind, self.base, **fields)

    def publish(self, kind: str) -> None:
        _publish(self.store, self.world, self.ex, kind, self.step.at_ms)


def _started(m: _Moment) -> None:
    m.store.set_execution_status(m.ex, "running")
    m.ex.started_at = m.step.at_ms
    m.emit("execution:started", workflowName=m.run.definition_name, totalNodes=m.run.total_nodes)
    m.publish("execution.started")


def _node_started(m: _Moment) -> None:
    node = m.step.node
    name = {"nodeName": node.name} if node.name is not None else {}  # undefined: left out of the JSON
    m.emit("node:started", nodeId=node.id, **name, nodeType=node.type)


def _node_completed(m: _Moment) -> None:
    node, step, total = m.step.node, m.step, m.run.total_nodes
    m.emit("node:completed", nodeId=node.id, nodeName=node.name or node.id, nodeType=node.type,
           output=step.output, duration=step.duration)
    m.emit("execution:progress", completed=step.done, total=total,
           percentage=math.floor(step.done / total * 100 + 0.5))  # Math.round


def _node_failed(m: _Moment) -> None:
    node = m.step.node
    m.emit("node:failed", nodeId=node.id, nodeName=node.name or node.id, nodeType=node.type, error=m.run.error)


def _completed(m: _Moment) -> None:
    m.store.set_execution_status(m.ex, "completed")
    m.ex.outputs, m.ex.completed_at = m.run.outputs, m.step.at_ms
    m.emit("execution:completed", status="completed", outputs=m.run.outputs,
           duration=m.step.at_ms - m.ex.started_at)
    m.publish("execution.completed")


def _failed(m: _Moment) -> None:
    m.store.set_execution_status(m.ex, "failed")
    m.ex.error, m.ex.completed_at = m.run.error, m.step.at_ms
    failed_node = {"failedNodeId": m.step.node.id} if m.step.node is not None else {}
    m.emit("execution:failed", status="failed", error=m.run.error, **failed_node)
    m.publish("execution.failed")


def _paused(m: _Moment) -> None:
    # production stores a pause_context (not in the public API) and publishes no webhook event
    m.store.set_execution_status(m.ex, "paused")
    m.emit("execution:paused", status="paused", reason=PAUSE_REASON, **_pause_fields(m.step.node))


_STEPS = {"started": _started, "node_started": _node_started, "node_completed": _node_completed,
          "node_failed": _node_failed, "completed": _completed, "failed": _failed, "paused": _paused}


def _pause_fields(node: Node | None) -> dict:
    if node is None:
        return {}
    fields: dict = {"pausedAtNodeId": node.id}
    if node.name is not None:
        fields["pausedAtNodeName"] = node.name
    context = {"variableName": str(node.config.get("variableName") or node.id),
               "inputType": str(node.config.get("inputType") or "text")}
    if isinstance(node.config.get("prompt"), str):
        context = {"prompt": node.config["prompt"], **context}
    fields["pauseContext"] = context
    return fields


def cancel(state, ex: Execution) -> None:
    """The cancel endpoint's write: the run stops where it is. Production leaves
    `completed_at` null and publishes nothing (quirk cancel_keeps_completed_at_null);
    intended, completed_at is set and execution:cancelled goes to streams and webhooks."""
    store: Store = state.store
    store.set_execution_status(ex, "cancelled")
    store.execution_runs.pop(ex.id, None)
    if state.fidelity.on("cancel_keeps_completed_at_null"):
        return
    now = state.clock.now_ms()
    ex.completed_at = now
    _emit(store, "execution:cancelled", {"timestamp": now, "executionId": ex.id}, status="cancelled")
    _publish(store, state.world, ex, "execution.cancelled", now)


def _emit(store: Store, kind: str, base: dict, **fields) -> None:
    store.execution_events[base["executionId"]].append({"type": kind, **base, **fields})


def _publish(store: Store, world: World, ex: Execution, kind: str, at_ms: int) -> None:
    wf = store.workflows[ex.workflow_id]
    data = {"execution_id": ex.id, "workflow_id": wf.id, "workflow_name": wf.name, "status": ex.status,
            "started_at": iso(ex.started_at)}
    if ex.completed_at is not None:
        data["completed_at"] = iso(ex.completed_at)
    if ex.outputs is not None:
        data["outputs"] = ex.outputs
    if ex.error is not None:
        data["error"] = ex.error
    world.publish(DomainEvent(kind, wf.user_id, wf.workspace_id, data, at_ms))


# ------------------------------------------------------------------ reading

def events_of(store: Store, execution_id: str) -> list[dict]:
    """The WebSocketEvent payloads the execution has emitted so far, in order."""
    return list(store.execution_events.get(execution_id, ()))


@dataclass
class Follower:
    """An event stream's view of one execution's events: those emitted after it connected."""

    store: Store
    execution_id: str
    seen: int = field(init=False)

    def __post_init__(self) -> None:
        self.seen = len(self.store.execution_events.get(self.execution_id, ()))

    def __call__(self) -> list[tuple[str, dict]]:
        events = self.store.execution_events.get(self.execution_id, ())
        new, self.seen = events[self.seen:], len(events)
        return [(event["type"], event) for event in new]


def install(state, world: World) -> None:
    store = state.store
    world.settlers.append(lambda now_ms: settle(store, world, now_ms))

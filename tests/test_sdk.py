"""The official `flowmaestro` SDK, sync and async, against the fake over a real socket.

Every public method of every SDK resource is called (test_every_sdk_method_is_covered
enumerates them, so a new SDK method fails the suite until a test calls it), and what
comes back is compared with what the fake's store holds. The error tests check that each
error the fake can produce reaches the SDK as the exception class CONTRACT.md §9.1 names,
with the status, code, message and details the fake sent, including the SDK's own gaps
(FDE bodies surfacing as ConnectionError, RateLimitError.retry_after never set, SSE errors
as StreamError).

Every test that talks to the fake runs twice, through FlowMaestroClient and through
AsyncFlowMaestroClient (the latter driven by an event loop the adapter owns). All clients
use max_retries=0 unless a test is about retries.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import inspect
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

import flowmaestro
from flowmaestro import (AsyncFlowMaestroClient, AuthenticationError, AuthorizationError, ConnectionError,
                         FlowMaestroClient, FlowMaestroError, NotFoundError, RateLimitError, ServerError,
                         StreamError, TimeoutError, ValidationError)
from fakemaestro.clock import Clock, iso
from fakemaestro.scenario import load_scenario_file
from fakemaestro.testing import serve_in_thread

from .conftest import make_app

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
UNKNOWN = "0b6a3c4e-8f1d-4d7a-9c2b-5e6f7a8b9c0d"  # a valid UUID no record has
# 2026-03-10T12:34:56Z: second 56 of its minute, so the minute window resets in 4 s.
FROZEN_MS = 1773146096000
EVENT_TYPES = ["execution.started", "execution.completed", "execution.failed", "execution.cancelled",
               "thread.message.created", "thread.message.completed", "thread.message.failed",
               "agent.execution.started", "agent.execution.completed", "agent.execution.failed"]
SSE_NOT_EVENT_STREAM = ("SSE stream error: Expected response header Content-Type to contain "
                        "'text/event-stream', got 'application/json'")
FDE_MAPPER_CRASH = "Unexpected error: 'str' object has no attribute 'get'"


# ====================================================================== coverage bookkeeping

CALLS: set[str] = set()  # "resource.method" names the adapters invoked during the current test


def covers(*methods: str):
    """Declare the SDK methods a test exercises. The test fails if it finishes without
    having called each of them through an adapter; test_every_sdk_method_is_covered
    compares the union of all declarations with the SDK's methods."""
    def mark(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            fn(*args, **kwargs)
            missing = set(methods) - CALLS
            assert not missing, f"{fn.__name__} declares but never called {sorted(missing)}"
        run.sdk_covers = frozenset(methods)
        return run
    return mark


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


# ====================================================================== sync / async adapter

class Sdk:
    """One SDK client of either flavour behind one synchronous interface:
    `sdk("workflows.get", id)` calls `client.workflows.get(id)` (awaited for the async
    client); `sdk.events("executions.stream", id, limit=1)` collects streamed events;
    "client.close" is the client's own close()."""

    def __init__(self, flavour: str, base_url: str, api_key: str, **options) -> None:
        self.flavour = flavour
        options.setdefault("max_retries", 0)
        options.setdefault("timeout", 10.0)
        if flavour == "sync":
            self.loop = None
            self.client = FlowMaestroClient(api_key, base_url=base_url, **options)
        else:
            self.loop = asyncio.new_event_loop()
            self.client = AsyncFlowMaestroClient(api_key, base_url=base_url, **options)
        self.closed = False

    def _method(self, name: str):
        CALLS.add(name)
        owner, method = name.split(".")
        target = self.client if owner == "client" else getattr(self.client, owner)
        return getattr(target, method)

    def _run(self, value):
        return self.loop.run_until_complete(value) if self.loop is not None else value

    def __call__(self, name: str, *args, **kwargs):
        result = self._run(self._method(name)(*args, **kwargs))
        if name == "client.close":
            self.closed = True
        return result

    def events(self, name: str, *args, limit: int | None = None) -> list[dict]:
        """The events a streaming method yields, stopping (and closing the stream) after
        `limit` of them; exceptions propagate as the SDK raises them."""
        stream = self._method(name)(*args)
        if self.loop is None:
            got = []
            try:
                for event in stream:
                    got.append(event)
                    if limit is not None and len(got) >= limit:
                        break
            finally:
                stream.close()
            return got

        async def collect() -> list[dict]:
            got = []
            try:
                async for event in stream:
                    got.append(event)
                    if limit is not None and len(got) >= limit:
                        break
            finally:
                await stream.aclose()
            return got
        return self.loop.run_until_complete(collect())

    def close(self) -> None:
        if not self.closed:
            self._run(self.client.close())
            self.closed = True
        if self.loop is not None and not self.loop.is_closed():
            self.loop.close()


@pytest.fixture(params=["sync", "async"])
def flavour(request) -> str:
    return request.param


@pytest.fixture
def fake(server):
    """The module's server, with the default scenario's state rebuilt for this test
    (data, rate windows, journal)."""
    server.state.reset()
    return server


@pytest.fixture(scope="module")
def _clients():
    """Clients shared by the module's tests, one per flavour, server, key and options:
    each SDK client builds an httpx client (and its TLS context) up front, which would
    otherwise cost ~50 ms per test."""
    cache: dict[tuple, Sdk] = {}
    yield cache
    for sdk in cache.values():
        sdk.close()


@pytest.fixture
def connect(flavour, fake, _clients):
    """connect(key_name="bulk", on=<server>, raw_key=None, fresh=False, **client options)
    -> an Sdk of this test's flavour (a new, unshared one with fresh=True)."""
    made: list[Sdk] = []

    def make(key: str = "bulk", on=None, raw_key: str | None = None, fresh: bool = False, **options) -> Sdk:
        target = on or fake
        api_key = raw_key or target.key(key)
        if fresh:
            made.append(Sdk(flavour, target.base_url, api_key, **options))
            return made[-1]
        ident = (flavour, target.base_url, api_key, tuple(sorted((k, repr(v)) for k, v in options.items())))
        if ident not in _clients:
            _clients[ident] = Sdk(flavour, target.base_url, api_key, **options)
        return _clients[ident]

    yield make
    for sdk in made:
        sdk.close()


@pytest.fixture
def sdk(connect) -> Sdk:
    return connect("bulk")


# ====================================================================== store views

class View:
    """The default scenario's records as the `bulk` key (user `owner`, workspace `main`) sees them."""

    def __init__(self, running) -> None:
        self.store = running.state.store
        key = self.store.key_by_name("bulk")
        self.user, self.workspace = key.user_id, key.workspace_id

    def listed_workflows(self):
        rows = [w for w in self.store.workflows.values() if w.workspace_id == self.workspace
                and w.deleted_at is None and w.workflow_type in ("user", None)]
        return sorted(rows, key=lambda w: w.created_at, reverse=True)

    def own_workflow(self, predicate=lambda w: True):
        return next(w for w in self.listed_workflows() if w.user_id == self.user and predicate(w))

    def executions(self, status=None, workflow_id=None):
        listed = {w.id for w in self.listed_workflows()}
        rows = [e for e in self.store.executions.values() if e.deleted_at is None and e.workflow_id in listed
                and (status is None or e.status == status) and (workflow_id is None or e.workflow_id == workflow_id)]
        return sorted(rows, key=lambda e: (e.created_at, e.seq), reverse=True)

    def execution(self, status: str):
        return next(e for e in self.executions(status) if self.store.workflows[e.workflow_id].user_id == self.user)

    def agents(self):
        rows = [a for a in self.store.agents.values() if a.workspace_id == self.workspace and a.deleted_at is None]
        return sorted(rows, key=lambda a: a.created_at, reverse=True)

    def threads(self):
        return [t for t in self.store.threads.values() if t.workspace_id == self.workspace and t.deleted_at is None]

    def thread_with_messages(self):
        return next(t for t in self.threads() if self.store.messages.get(t.id))

    def triggers(self):
        listed = {w.id for w in self.listed_workflows()}
        rows = [t for t in self.store.triggers.values() if t.workflow_id in listed and t.deleted_at is None]
        return sorted(rows, key=lambda t: t.created_at, reverse=True)

    def knowledge_bases(self):
        rows = [k for k in self.store.knowledge_bases.values() if k.user_id == self.user]
        return sorted(rows, key=lambda k: k.created_at, reverse=True)

    def webhooks(self):
        rows = [h for h in self.store.webhooks.values() if h.workspace_id == self.workspace and h.deleted_at is None]
        return sorted(rows, key=lambda h: h.created_at, reverse=True)


@pytest.fixture
def view(fake) -> View:
    return View(fake)


def expected_execution(ex) -> dict:
    return {"id": ex.id, "workflow_id": ex.workflow_id, "status": ex.status, "inputs": ex.inputs,
            "outputs": ex.outputs, "error": ex.error, "started_at": iso(ex.started_at),
            "completed_at": iso(ex.completed_at), "created_at": iso(ex.created_at)}


def expected_inputs(definition) -> dict | None:
    """§5.1: input nodes of a backend-format (Record) definition, keyed by node id."""
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    if not isinstance(nodes, dict):
        return None
    found = {}
    for node_id, node in nodes.items():
        config = node.get("config")
        if node.get("type") == "input" and config:
            entry = {"type": config.get("inputType") or "text", "label": config.get("label") or node_id,
                     "required": config.get("required", True)}
            if "description" in config:
                entry["description"] = config["description"]
            found[node_id] = entry
    return found or None


def pagination(page: int, per_page: int, total: int) -> dict:
    pages = -(-total // per_page)
    return {"page": page, "per_page": per_page, "total_count": total, "total_pages": pages,
            "has_next": page < pages, "has_prev": page > 1}


def check_meta(envelope: dict) -> None:
    assert set(envelope["meta"]) == {"request_id", "timestamp"}
    assert uuid.UUID(envelope["meta"]["request_id"]).version == 4


def check_request_id(err: FlowMaestroError) -> None:
    """The SDK takes request_id from the X-Request-ID response header: a fresh UUID v4."""
    assert uuid.UUID(err.request_id).version == 4


# ====================================================================== coverage

def _public_methods(cls) -> dict[str, object]:
    return {name: fn for name, fn in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


def sdk_methods(client_cls) -> dict[str, object]:
    """{"resource.method": function} for every resource attribute of a client, plus the
    client's own public methods as "client.<name>"."""
    client = client_cls("fm_live_introspection", base_url="http://127.0.0.1:9")
    try:
        found = {f"client.{name}": fn for name, fn in _public_methods(client_cls).items()}
        for attr, resource in vars(client).items():
            if not attr.startswith("_"):
                found.update({f"{attr}.{name}": fn for name, fn in _public_methods(type(resource)).items()})
        return found
    finally:
        if client_cls is FlowMaestroClient:
            client.close()


def test_every_sdk_method_is_covered():
    sync, asynchronous = sdk_methods(FlowMaestroClient), sdk_methods(AsyncFlowMaestroClient)
    assert set(sync) == set(asynchronous), "the sync and async clients differ"
    for name, fn in asynchronous.items():
        assert inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn), f"async {name} is not async"
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_") and hasattr(fn, "sdk_covers")}
    for name, fn in tests.items():  # each covering test runs through both clients
        assert {"sdk", "connect"} & set(inspect.signature(fn).parameters), f"{name} is not sync+async"
    covered = set().union(*(fn.sdk_covers for fn in tests.values()))
    assert covered == set(sync), (f"not covered: {sorted(set(sync) - covered)}; "
                                  f"not SDK methods: {sorted(covered - set(sync))}")
    # The SDK has no webhooks.update / webhooks.deliveries / triggers.get (CONTRACT.md §9.2):
    # those routes exist on the fake but cannot be reached through the SDK.
    assert not {"webhooks.update", "webhooks.deliveries", "triggers.get"} & set(sync)


# ====================================================================== workflows

@covers("workflows.list", "workflows.get")
def test_workflows_list_and_get(sdk, view):
    listed = view.listed_workflows()
    whole = sdk("workflows.list", per_page=100)
    check_meta(whole)
    assert [w["id"] for w in whole["data"]] == [w.id for w in listed]
    assert whole["pagination"] == pagination(1, 100, len(listed))
    first = whole["data"][0]
    record = view.store.workflows[first["id"]]
    assert first == {"id": record.id, "name": record.name, "description": record.description,
                     "version": record.version, "created_at": iso(record.created_at),
                     "updated_at": iso(record.updated_at)}  # no `inputs` in list items
    page2 = sdk("workflows.list", page=2, per_page=3)
    assert [w["id"] for w in page2["data"]] == [w.id for w in listed[3:6]]
    assert page2["pagination"] == pagination(2, 3, len(listed))

    backend = view.own_workflow(lambda w: isinstance(w.definition["nodes"], dict) and "Broken" not in w.name)
    got = sdk("workflows.get", backend.id)["data"]
    assert list(got) == ["id", "name", "description", "version", "inputs", "created_at", "updated_at"]
    assert (got["id"], got["name"], got["version"]) == (backend.id, backend.name, backend.version)
    assert got["inputs"] == expected_inputs(backend.definition) and got["inputs"]
    array_format = view.own_workflow(lambda w: isinstance(w.definition["nodes"], list))
    assert sdk("workflows.get", array_format.id)["data"]["inputs"] is None


@covers("workflows.execute", "executions.get")
def test_workflows_execute_creates_a_pending_execution(sdk, view):
    wf = view.own_workflow(lambda w: isinstance(w.definition["nodes"], dict) and "Broken" not in w.name)
    before = len(view.store.executions)
    started = sdk("workflows.execute", wf.id, inputs={"topic": "otters"})
    check_meta(started)
    data = started["data"]
    assert data == {"execution_id": data["execution_id"], "workflow_id": wf.id, "status": "pending",
                    "inputs": {"topic": "otters"}}
    assert len(view.store.executions) == before + 1
    stored = view.store.executions[data["execution_id"]]
    assert (stored.workflow_id, stored.status, stored.inputs) == (wf.id, "pending", {"topic": "otters"})
    assert sdk("executions.get", data["execution_id"])["data"] == expected_execution(stored)
    # without inputs the SDK sends {"inputs": {}}
    assert sdk("workflows.execute", wf.id)["data"]["inputs"] == {}


# ====================================================================== executions

@covers("executions.list")
def test_executions_list(sdk, view):
    everything = view.executions()
    got = sdk("executions.list")
    assert [e["id"] for e in got["data"]] == [e.id for e in everything[:20]]
    assert got["data"][0] == expected_execution(everything[0])
    # §5.2 without workflow_id: total_count is what the newest page*per_page rows held,
    # so has_next is always false even though more executions exist.
    assert len(everything) > 20
    assert got["pagination"] == {"page": 1, "per_page": 20, "total_count": 20, "total_pages": 1,
                                 "has_next": False, "has_prev": False}
    failed = sdk("executions.list", status="failed", per_page=100)
    assert [e["id"] for e in failed["data"]] == [e.id for e in view.executions("failed")]
    wf_id = everything[0].workflow_id
    of_wf = view.executions(workflow_id=wf_id)
    by_wf = sdk("executions.list", workflow_id=wf_id, per_page=2, page=2)
    assert [e["id"] for e in by_wf["data"]] == [e.id for e in of_wf[2:4]]
    assert by_wf["pagination"] == pagination(2, 2, len(of_wf))
    # with workflow_id, status filters the page after pagination and total_count counts the page
    status = of_wf[0].status
    filtered = sdk("executions.list", workflow_id=wf_id, status=status, per_page=3)
    kept = [e.id for e in of_wf[:3] if e.status == status]
    assert [e["id"] for e in filtered["data"]] == kept
    assert filtered["pagination"] == pagination(1, 3, len(kept))


@covers("executions.get")
@pytest.mark.parametrize("status", ["pending", "running", "paused", "completed", "failed", "cancelled"])
def test_executions_get_every_status(sdk, view, status):
    ex = view.execution(status)
    got = sdk("executions.get", ex.id)
    check_meta(got)
    assert got["data"] == expected_execution(ex)


@covers("executions.cancel", "executions.get")
def test_executions_cancel(sdk, view):
    ex = view.execution("running")
    got = sdk("executions.cancel", ex.id)
    check_meta(got)
    assert got["data"] == {"id": ex.id, "status": "cancelled", "message": "Execution cancelled successfully"}
    assert view.store.executions[ex.id].status == "cancelled"
    after = sdk("executions.get", ex.id)["data"]
    assert after["status"] == "cancelled" and after["completed_at"] is None  # production never sets it
    # paused cannot be cancelled (§5.2)
    paused = view.execution("paused")
    with pytest.raises(ValidationError) as info:
        sdk("executions.cancel", paused.id)
    assert (info.value.status_code, info.value.code, info.value.message, info.value.details) == \
        (400, "validation_error", "Execution cannot be cancelled. Current status: paused", None)
    assert view.store.executions[paused.id].status == "paused"


@covers("executions.wait_for_completion")
@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_wait_for_completion_returns_a_finished_execution(sdk, view, status):
    ex = view.execution(status)
    started = time.monotonic()
    got = sdk("executions.wait_for_completion", ex.id, poll_interval=5, timeout=30)
    assert time.monotonic() - started < 2.5  # finished: the first poll returns, no 5 s sleep
    assert got == expected_execution(ex)  # the execution itself, not the envelope; a failure is returned


@covers("executions.wait_for_completion")
def test_wait_for_completion_times_out_on_a_paused_execution(sdk, view):
    # No execution ever progresses in production's profile; `paused` (absent from the
    # SDK's ExecutionStatus) is polled until the SDK's own TimeoutError.
    ex = view.execution("paused")
    with pytest.raises(TimeoutError) as info:
        sdk("executions.wait_for_completion", ex.id, poll_interval=0.05, timeout=0.2)
    assert info.value.message == f"Execution {ex.id} did not complete within 0.2s"
    assert (info.value.code, info.value.status_code) == ("timeout", None)


@covers("executions.stream")
@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_stream_of_a_finished_execution_is_one_terminal_event(sdk, view, status):
    ex = view.execution(status)
    started = time.monotonic()
    events = sdk.events("executions.stream", ex.id)  # no limit: the server closes the stream
    assert time.monotonic() - started >= 0.45  # closed ~500 ms after the event (§7.3)
    expected = {"execution_id": ex.id, "status": status, "outputs": ex.outputs, "error": ex.error}
    if ex.completed_at is not None:  # omitted, not null, when unset (cancelled)
        expected["completed_at"] = iso(ex.completed_at)
    assert events == [expected]
    assert list(events[0]) == list(expected)  # production's key order
    assert "type" not in events[0]  # the SDK examples' event["type"] would raise KeyError


@covers("executions.stream")
def test_stream_of_a_live_execution_sends_connected_only(sdk, view):
    # Production never forwards events for a running execution (§7.4): `connected`, then
    # keep-alives every 30 s. Take the first event and hang up.
    ex = view.execution("running")
    assert sdk.events("executions.stream", ex.id, limit=1) == [{"execution_id": ex.id, "status": "running"}]


# ====================================================================== agents

@covers("agents.list", "agents.get")
def test_agents_list_and_get(sdk, view):
    agents = view.agents()
    got = sdk("agents.list")
    assert [a["id"] for a in got["data"]] == [a.id for a in agents]
    assert got["pagination"] == pagination(1, 20, len(agents))
    assert got["data"][0] == {"id": agents[0].id, "name": agents[0].name, "description": agents[0].description,
                              "model": agents[0].model, "provider": agents[0].provider,
                              "created_at": iso(agents[0].created_at), "updated_at": iso(agents[0].updated_at)}
    with_tools = next(a for a in agents if a.available_tools)
    data = sdk("agents.get", with_tools.id)["data"]
    assert list(data) == ["id", "name", "description", "model", "provider", "system_prompt", "temperature",
                          "max_tokens", "available_tools", "created_at", "updated_at"]
    assert (data["system_prompt"], data["temperature"], data["max_tokens"]) == \
        (with_tools.system_prompt, with_tools.temperature, with_tools.max_tokens)
    assert data["available_tools"] == [{"id": t["id"], "name": t["name"], "description": t["description"],
                                        "type": t["type"]} for t in with_tools.available_tools]


@covers("agents.create_thread", "threads.get")
def test_agents_create_thread(sdk, view):
    agent = view.agents()[0]
    created = sdk("agents.create_thread", agent.id, metadata={"customer": "c-42"})
    data = created["data"]
    assert data == {"id": data["id"], "agent_id": agent.id, "status": "active", "created_at": data["created_at"]}
    stored = view.store.threads[data["id"]]
    assert (stored.agent_id, stored.user_id, stored.workspace_id) == (agent.id, view.user, view.workspace)
    assert stored.metadata == {} and stored.title is None  # the body (metadata) is ignored
    got = sdk("threads.get", data["id"])["data"]
    assert got == {"id": data["id"], "agent_id": agent.id, "title": None, "status": "active",
                   "created_at": data["created_at"], "updated_at": iso(stored.updated_at), "last_message_at": None}


# ====================================================================== threads

@covers("threads.get", "threads.list_messages", "threads.delete")
def test_threads_get_messages_and_delete(sdk, view):
    thread = view.thread_with_messages()
    got = sdk("threads.get", thread.id)["data"]
    assert got == {"id": thread.id, "agent_id": thread.agent_id, "title": thread.title, "status": thread.status,
                   "created_at": iso(thread.created_at), "updated_at": iso(thread.updated_at),
                   "last_message_at": iso(thread.last_message_at)}
    stored = view.store.messages[thread.id]
    messages = sdk("threads.list_messages", thread.id)
    assert "pagination" not in messages  # not paginated, whatever the SDK's types say
    assert messages["data"] == {"messages": [
        {"id": m.id, "role": m.role, "content": m.content, "tool_calls": m.tool_calls,
         "created_at": iso(m.created_at)} for m in stored]}
    assert {m["role"] for m in messages["data"]["messages"]} == {"system", "user", "assistant", "tool"}
    # page/per_page are sent but ignored
    assert sdk("threads.list_messages", thread.id, page=2, per_page=1)["data"] == messages["data"]

    assert sdk("threads.delete", thread.id)["data"] == {"id": thread.id, "deleted": True}
    assert view.store.threads[thread.id].status == "deleted"
    with pytest.raises(NotFoundError) as info:
        sdk("threads.get", thread.id)
    assert info.value.message == f"Thread with id '{thread.id}' not found"
    with pytest.raises(NotFoundError):
        sdk("threads.delete", thread.id)


@covers("threads.send_message", "threads.list_messages")
def test_threads_send_message(sdk, view):
    thread = view.thread_with_messages()
    agent = view.store.agents[thread.agent_id]
    before = len(view.store.messages[thread.id])
    got = sdk("threads.send_message", thread.id, "Hello   there")
    check_meta(got)
    data = got["data"]
    reply = view.store.messages[thread.id][-1]
    run = view.store.agent_executions[data["execution_id"]]
    assert data == {"execution_id": run.id, "thread_id": thread.id, "status": "completed",
                    "message": {"role": "assistant", "content": reply.content, "tool_calls": None,
                                "created_at": iso(reply.created_at)},
                    "iterations": run.iterations, "tool_calls_count": run.tool_calls_count}
    assert "message_id" not in data  # what the SDK docstring reads
    assert reply.content == f"{agent.name} received your message: Hello there"
    assert run.status == "completed" and run.thread_id == thread.id
    assert view.store.threads[thread.id].last_message_at is not None
    listed = sdk("threads.list_messages", thread.id)["data"]["messages"]
    assert len(listed) == before + 2
    assert [(m["role"], m["content"]) for m in listed[-2:]] == [("user", "Hello   there"),
                                                                ("assistant", reply.content)]


@covers("threads.send_message_stream")
def test_threads_send_message_stream_is_not_implemented(sdk, view):
    # The SDK POSTs with "stream": true: the server answers 501 (not retried); the
    # generator raises it on first iteration and never reaches its SSE GET.
    thread = view.thread_with_messages()
    before = len(view.store.messages[thread.id])
    with pytest.raises(ServerError) as info:
        sdk.events("threads.send_message_stream", thread.id, "Tell me a story")
    err = info.value
    assert (err.status_code, err.code, err.message, err.details) == \
        (501, "not_implemented", "Streaming messages not yet implemented in public API. Use stream=false.", None)
    check_request_id(err)
    assert len(view.store.messages[thread.id]) == before  # no agent run started


@covers("threads.stream")
def test_threads_stream_route_does_not_exist(sdk, fake, view):
    # GET /api/v1/threads/{id}/events is not a route (§9.5.4): Fastify's 404 JSON, which
    # the SSE client reports as a content-type mismatch, not as NotFoundError.
    thread = view.thread_with_messages()
    with pytest.raises(StreamError) as info:
        sdk.events("threads.stream", thread.id)
    assert (info.value.message, info.value.code, info.value.status_code) == \
        (SSE_NOT_EVENT_STREAM, "stream_error", None)
    raw = httpx.get(f"{fake.base_url}/api/v1/threads/{thread.id}/events", trust_env=False,
                    headers={"Authorization": f"Bearer {fake.key('bulk')}"})
    assert raw.status_code == 404 and raw.json() == {
        "message": f"Route GET:/api/v1/threads/{thread.id}/events not found", "error": "Not Found",
        "statusCode": 404}


# ====================================================================== triggers

@covers("triggers.list")
def test_triggers_list(sdk, view):
    triggers = view.triggers()
    got = sdk("triggers.list")
    assert [t["id"] for t in got["data"]] == [t.id for t in triggers]
    assert got["pagination"] == pagination(1, 20, len(triggers))
    assert {t["enabled"] for t in got["data"]} == {True, False}  # disabled ones are listed too
    t = triggers[0]
    assert got["data"][0] == {"id": t.id, "workflow_id": t.workflow_id, "name": t.name,
                              "trigger_type": t.trigger_type, "enabled": t.enabled,
                              "last_triggered_at": iso(t.last_triggered_at), "trigger_count": t.trigger_count,
                              "created_at": iso(t.created_at), "updated_at": iso(t.updated_at)}
    second = sdk("triggers.list", page=2, per_page=4)
    assert [x["id"] for x in second["data"]] == [x.id for x in triggers[4:8]]


@covers("triggers.execute")
def test_triggers_execute(sdk, view):
    trigger = next(t for t in view.triggers() if t.enabled)
    count = trigger.trigger_count
    got = sdk("triggers.execute", trigger.id, inputs={"payload": {"event": "user.created"}})
    data = got["data"]
    assert data == {"execution_id": data["execution_id"], "workflow_id": trigger.workflow_id,
                    "trigger_id": trigger.id, "status": "pending", "inputs": {"payload": {"event": "user.created"}}}
    stored = view.store.executions[data["execution_id"]]
    assert (stored.workflow_id, stored.status) == (trigger.workflow_id, "pending")
    assert trigger.trigger_count == count + 1 and trigger.last_triggered_at is not None
    disabled = next(t for t in view.triggers() if not t.enabled)
    with pytest.raises(ValidationError) as info:
        sdk("triggers.execute", disabled.id)
    assert (info.value.status_code, info.value.code, info.value.message) == \
        (400, "validation_error", "Trigger is not enabled")


# ====================================================================== knowledge bases

@covers("knowledge_bases.list", "knowledge_bases.get")
def test_knowledge_bases_list_and_get(sdk, view):
    kbs = view.knowledge_bases()
    got = sdk("knowledge_bases.list")
    assert [k["id"] for k in got["data"]] == [k.id for k in kbs]
    assert got["pagination"] == pagination(1, 20, len(kbs))
    full = next(k for k in kbs if view.store.chunks.get(k.id))
    docs, chunks = len(view.store.documents[full.id]), len(view.store.chunks[full.id])
    item = next(k for k in got["data"] if k["id"] == full.id)
    # §5.6 join inflation: chunk_count is chunks × documents
    assert (item["document_count"], item["chunk_count"]) == (docs, chunks * docs)
    data = sdk("knowledge_bases.get", full.id)["data"]
    assert data == {"id": full.id, "name": full.name, "description": full.description,
                    "embedding_model": full.config["embeddingModel"], "chunk_size": full.config["chunkSize"],
                    "chunk_overlap": full.config["chunkOverlap"], "document_count": docs,
                    "chunk_count": chunks * docs, "created_at": iso(full.created_at),
                    "updated_at": iso(full.updated_at)}
    empty = next(k for k in got["data"] if not view.store.chunks.get(k["id"]))
    assert (empty["document_count"], empty["chunk_count"]) == (0, 0)


@covers("knowledge_bases.query")
def test_knowledge_bases_query(sdk, view):
    kb = next(k for k in view.knowledge_bases() if view.store.chunks.get(k.id))
    chunks = {c.id: c for c in view.store.chunks[kb.id]}
    docs = {d.id: d.name for d in view.store.documents[kb.id]}
    probe = next(iter(chunks.values())).content.split()[:6]
    got = sdk("knowledge_bases.query", kb.id, " ".join(probe), top_k=3)["data"]
    assert (got["query"], got["top_k"], len(got["results"])) == (" ".join(probe), 3, 3)
    scores = [r["score"] for r in got["results"]]
    assert scores == sorted(scores, reverse=True)
    for r in got["results"]:
        chunk = chunks[r["id"]]
        assert r == {"id": chunk.id, "content": chunk.content, "document_id": chunk.document_id,
                     "document_name": docs[chunk.document_id], "score": r["score"], "metadata": chunk.metadata}
    # top_k above 20 is capped
    assert sdk("knowledge_bases.query", kb.id, "anything", top_k=50)["data"]["top_k"] == 20
    # SDK gap (§9.5.5): without top_k the SDK sends "top_k": null, which production reads
    # as 0, so the default query returns nothing (the docstring promises 10 results).
    default = sdk("knowledge_bases.query", kb.id, " ".join(probe))["data"]
    assert (default["results"], default["top_k"]) == ([], 0)


# ====================================================================== webhooks

class Receiver:
    """A local HTTP endpoint for webhook tests: records each POST; /fail answers 500."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                owner.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(500 if self.path.startswith("/fail") else 200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.httpd.shutdown()
    r.httpd.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@covers("webhooks.create", "webhooks.get", "webhooks.list", "webhooks.delete")
def test_webhooks_create_get_list_delete(sdk, view):
    seeded = view.webhooks()
    created = sdk("webhooks.create", "Deploy hook", "https://example.test/hooks/deploy",
                  ["execution.completed", "execution.failed"], headers={"X-Env": "ci"})
    data = created["data"]
    assert list(data) == ["id", "name", "url", "secret", "events", "headers", "is_active", "created_at"]
    stored = view.store.webhooks[data["id"]]
    assert data == {"id": stored.id, "name": "Deploy hook", "url": "https://example.test/hooks/deploy",
                    "secret": stored.secret, "events": ["execution.completed", "execution.failed"],
                    "headers": {"X-Env": "ci"}, "is_active": True, "created_at": iso(stored.created_at)}
    assert stored.secret.startswith("whsec_") and len(stored.secret) == 70
    int(stored.secret[6:], 16)

    got = sdk("webhooks.get", stored.id)["data"]
    assert got == {"id": stored.id, "name": stored.name, "url": stored.url, "events": stored.events,
                   "headers": {"X-Env": "ci"}, "is_active": True, "created_at": iso(stored.created_at),
                   "updated_at": iso(stored.updated_at)}  # no secret
    listed = sdk("webhooks.list")
    assert [h["id"] for h in listed["data"]] == [h.id for h in view.webhooks()]
    assert listed["pagination"] == pagination(1, 20, len(seeded) + 1)
    assert all("headers" not in h and "secret" not in h for h in listed["data"])

    assert sdk("webhooks.delete", stored.id)["data"] == {"id": stored.id, "deleted": True}
    assert stored.deleted_at is not None and stored.is_active is False
    assert sdk("webhooks.list")["pagination"]["total_count"] == len(seeded)
    with pytest.raises(NotFoundError) as info:
        sdk("webhooks.get", stored.id)
    assert info.value.details == {"resource": "Webhook", "id": stored.id}


@covers("webhooks.create", "webhooks.test")
def test_webhooks_test_really_posts_signed(sdk, view, receiver):
    hook = sdk("webhooks.create", "Receiver", f"{receiver.url}/hook", ["execution.completed"],
               headers={"X-Custom": "yes"})["data"]
    receiver.requests.clear()
    got = sdk("webhooks.test", hook["id"])["data"]
    assert got == {"success": True, "status_code": 200, "message": "Test webhook delivered successfully"}
    [(path, headers, body)] = receiver.requests
    payload = json.loads(body)
    assert path == "/hook" and list(payload) == ["id", "event", "created_at", "data"]
    assert payload["event"] == "test" and payload["id"].startswith("test_")
    assert payload["data"] == {"message": "This is a test webhook from FlowMaestro", "webhook_id": hook["id"]}
    assert headers["x-flowmaestro-signature"] == \
        "v1=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-flowmaestro-delivery-id"] == payload["id"]
    assert headers["x-custom"] == "yes" and "x-flowmaestro-event" not in headers

    failing = sdk("webhooks.create", "Failing", f"{receiver.url}/fail", ["execution.failed"])["data"]
    assert failing["headers"] is None  # the SDK sends "headers": null when unset
    assert sdk("webhooks.test", failing["id"])["data"] == \
        {"success": False, "status_code": 500, "message": "Test webhook failed with status 500"}
    # a network failure is still a 200, not an SDK exception
    down = sdk("webhooks.create", "Down", f"http://127.0.0.1:{closed_port()}/x", ["execution.failed"])["data"]
    assert sdk("webhooks.test", down["id"])["data"] == \
        {"success": False, "error": "fetch failed", "message": "Failed to deliver test webhook"}


# ====================================================================== the client itself

@covers("client.close", "workflows.list")
def test_client_close(connect, flavour):
    sdk = connect(fresh=True)
    assert sdk("workflows.list", per_page=1)["pagination"]["per_page"] == 1
    sdk("client.close")
    if flavour == "sync":
        assert sdk.client._http._client.is_closed
    else:
        assert sdk.client._http._client is None


def test_client_requires_an_api_key():
    for cls in (FlowMaestroClient, AsyncFlowMaestroClient):
        with pytest.raises(ValueError, match="API key is required"):
            cls("")


# ====================================================================== errors: 401

KEY_ERRORS = {
    "revoked": ("revoked_api_key", "This API key has been revoked. Please generate a new key."),
    "expired": ("expired_api_key", "This API key has expired. Please generate a new key."),
    "inactive": ("invalid_api_key", "This API key is inactive."),
}


@pytest.mark.parametrize("name", sorted(KEY_ERRORS))
def test_401_named_keys(connect, name):
    sdk = connect(name)
    with pytest.raises(AuthenticationError) as info:
        sdk("workflows.list")
    err = info.value
    assert (err.status_code, err.code, err.message, err.details) == (401, *KEY_ERRORS[name], None)
    check_request_id(err)
    assert str(err) == f"[{err.code}] {err.message} (request_id: {err.request_id})"


@pytest.mark.parametrize("raw, message", [
    ("fm_live_NoSuchKey0000000000000000000000", "API key not found."),
    # The SDK always sends `Authorization: Bearer`; a token without the fm_live_ prefix
    # counts as no key at all (§2.1), never as "Invalid API key format."
    ("sk_not_a_flowmaestro_key", "Missing API key. Provide it via X-API-Key header or Authorization: Bearer header."),
])
def test_401_unknown_and_malformed_keys(connect, raw, message):
    sdk = connect(raw_key=raw)
    with pytest.raises(AuthenticationError) as info:
        sdk("agents.list")
    assert (info.value.status_code, info.value.code, info.value.message) == (401, "invalid_api_key", message)


def test_request_id_is_the_echoed_header(connect):
    # custom headers go on every request; the fake echoes X-Request-ID and the SDK reports it
    sdk = connect("revoked", headers={"X-Request-ID": "sdk-trace-0001"})
    with pytest.raises(AuthenticationError) as info:
        sdk("workflows.list")
    assert info.value.request_id == "sdk-trace-0001"


# ====================================================================== errors: 403

@pytest.mark.parametrize("key, call, required, mine", [
    ("workflows-read", ("executions.list",), ["executions:read"], ["workflows:read"]),
    ("workflows-read", ("workflows.execute", UNKNOWN), ["workflows:read", "workflows:execute"], ["workflows:read"]),
    ("workflows-read", ("webhooks.create", "n", "https://x.test", ["execution.failed"]), ["webhooks:write"],
     ["workflows:read"]),
    ("read-only", ("executions.cancel", UNKNOWN), ["executions:read", "executions:cancel"], None),
    ("read-only", ("threads.send_message", UNKNOWN, "hi"), ["agents:execute", "threads:write"], None),
])
def test_403_insufficient_scope(connect, fake, key, call, required, mine):
    sdk = connect(key)
    mine = mine or list(fake.state.store.key_by_name(key).scopes)
    with pytest.raises(AuthorizationError) as info:
        sdk(*call)
    err = info.value
    missing = [s for s in required if s not in mine]
    assert (err.status_code, err.code, err.message) == \
        (403, "insufficient_scope", f"Missing required scopes: {', '.join(missing)}")
    assert err.details == {"required_scopes": required, "missing_scopes": missing, "your_scopes": mine}
    check_request_id(err)


# ====================================================================== errors: 404

ID_CALLS = {  # SDK method -> (extra arguments, resource name in the 404)
    "workflows.get": ((), "Workflow"),
    "workflows.execute": ((), "Workflow"),
    "executions.get": ((), "Execution"),
    "executions.cancel": ((), "Execution"),
    "agents.get": ((), "Agent"),
    "agents.create_thread": ((), "Agent"),
    "threads.get": ((), "Thread"),
    "threads.delete": ((), "Thread"),
    "threads.list_messages": ((), "Thread"),
    "threads.send_message": (("hello",), "Thread"),
    "triggers.execute": ((), "Trigger"),
    "knowledge_bases.get": ((), "Knowledge Base"),
    "knowledge_bases.query": (("what",), "Knowledge Base"),
    "webhooks.get": ((), "Webhook"),
    "webhooks.delete": ((), "Webhook"),
    "webhooks.test": ((), "Webhook"),
}


@pytest.mark.parametrize("method", sorted(ID_CALLS))
def test_404_resource_not_found(sdk, method):
    extra, resource = ID_CALLS[method]
    ident = UNKNOWN.upper()  # Postgres accepts any case; the message echoes the id as sent
    with pytest.raises(NotFoundError) as info:
        sdk(method, ident, *extra)
    err = info.value
    assert (err.status_code, err.code, err.message, err.details) == \
        (404, "resource_not_found", f"{resource} with id '{ident}' not found", {"resource": resource, "id": ident})
    check_request_id(err)


def test_404_other_users_records(sdk, view):
    # a teammate's workflow is listed (workspace) but 404 on get/execute (user, §1.9)
    teammate = next(w for w in view.listed_workflows() if w.user_id != view.user)
    assert teammate.id in [w["id"] for w in sdk("workflows.list", per_page=100)["data"]]
    with pytest.raises(NotFoundError) as info:
        sdk("workflows.get", teammate.id)
    assert info.value.message == f"Workflow with id '{teammate.id}' not found"
    other_kb = next(k for k in view.store.knowledge_bases.values() if k.user_id != view.user)
    with pytest.raises(NotFoundError):
        sdk("knowledge_bases.get", other_kb.id)


def test_404_wait_for_completion_and_stream(sdk):
    with pytest.raises(NotFoundError) as info:
        sdk("executions.wait_for_completion", UNKNOWN, poll_interval=0.05, timeout=1)
    assert info.value.message == f"Execution with id '{UNKNOWN}' not found"
    # SDK gap (§9.4): the SSE client never maps the JSON 404 to NotFoundError
    with pytest.raises(StreamError) as info:
        sdk.events("executions.stream", UNKNOWN)
    assert info.value.message == SSE_NOT_EVENT_STREAM


# ====================================================================== errors: 400

VALID_TYPES = ", ".join(EVENT_TYPES)


@pytest.mark.parametrize("call, message", [
    (("webhooks.create", "", "https://x.test", ["execution.failed"]), "Name is required"),
    (("webhooks.create", "n", "", ["execution.failed"]), "URL is required"),
    (("webhooks.create", "n", "not a url", ["execution.failed"]), "Invalid URL format"),
    (("webhooks.create", "n", "https://x.test", []), "At least one event type is required"),
    (("webhooks.create", "n", "https://x.test", ["execution.failed", "bogus", "nope"]),
     f"Invalid event types: bogus, nope. Valid types: {VALID_TYPES}"),
    (("threads.send_message", UNKNOWN, ""), "Message content is required"),  # validated before the 404
    (("knowledge_bases.query", UNKNOWN, ""), "Query is required"),
], ids=["no-name", "no-url", "bad-url", "no-events", "bad-events", "empty-message", "empty-query"])
def test_400_validation_error(sdk, call, message):
    with pytest.raises(ValidationError) as info:
        sdk(*call)
    err = info.value
    assert (err.status_code, err.code, err.message, err.details) == (400, "validation_error", message, None)
    check_request_id(err)


def test_400_workflow_fails_validation(sdk, view):
    broken = view.own_workflow(lambda w: w.name.startswith("Broken"))
    before = len(view.store.executions)
    with pytest.raises(ValidationError) as info:
        sdk("workflows.execute", broken.id, inputs={"message": "hi"})
    assert info.value.message.startswith("Workflow validation failed: ")
    assert '"{{undefinedVariable}}"' in info.value.message
    assert len(view.store.executions) == before  # validation runs before the row is created


# ====================================================================== errors: 429

@pytest.fixture(scope="module")
def frozen_server():
    """A server whose clock stands still, so the rate windows cannot roll over mid-test."""
    with serve_in_thread(make_app(clock=Clock(frozen_at_ms=FROZEN_MS))) as running:
        yield running


@pytest.fixture
def frozen(frozen_server):
    frozen_server.state.reset()
    frozen_server.state.clock.set(FROZEN_MS)
    return frozen_server


def test_429_minute_window(connect, frozen):
    sdk = connect("low-rate", on=frozen)
    for _ in range(3):
        sdk("workflows.list", per_page=1)
    with pytest.raises(RateLimitError) as info:
        sdk("executions.list")
    err = info.value
    retry = 60 - (FROZEN_MS // 1000) % 60
    assert (err.status_code, err.code, err.message) == \
        (429, "rate_limit_exceeded", f"Rate limit exceeded. Please retry after {retry} seconds.")
    assert err.details == {"limit": 3, "window": "minute", "retry_after": retry}
    # SDK gap (§9.5.10): RateLimitError.retry_after is never set; the value is only in details.
    assert err.retry_after is None
    check_request_id(err)


def test_429_day_window(connect, frozen):
    sdk = connect("low-daily", on=frozen)
    for _ in range(2):
        sdk("workflows.list", per_page=1)
    with pytest.raises(RateLimitError) as info:
        sdk("workflows.list")
    err = info.value
    retry = 86400 - (FROZEN_MS // 1000) % 86400
    assert (err.status_code, err.code, err.message) == \
        (429, "rate_limit_exceeded", "Daily rate limit exceeded. Limit resets at midnight UTC.")
    assert err.details == {"limit": 2, "window": "day", "retry_after": retry}
    assert err.retry_after is None  # as above: only details carry it


def test_429_is_retried_after_retry_after_seconds(connect, frozen):
    # At second 59 the minute window resets in 1 s: the SDK sleeps the Retry-After value
    # and tries again (the clock is frozen, so the retry is refused too and counted).
    frozen.state.clock.set(FROZEN_MS + 3000)
    sdk = connect("low-rate", on=frozen, max_retries=1)
    for _ in range(3):
        sdk("workflows.list", per_page=1)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        sdk("workflows.list")
    assert 1.0 <= time.monotonic() - started < 2.5
    assert info.value.details["retry_after"] == 1
    key = frozen.state.store.key_by_name("low-rate")
    assert frozen.state.limiter.minute_count(key, frozen.state.clock.now_ms()) == 5  # 3 + first try + retry


# ====================================================================== errors: 408 / 501

@pytest.fixture(scope="module")
def timeouts_server():
    """scenarios/agent-timeouts.yaml: thread f...02's send-message answers 408 at once."""
    with serve_in_thread(make_app(load_scenario_file(SCENARIOS / "agent-timeouts.yaml"))) as running:
        yield running


def test_408_send_message_timeout(flavour, timeouts_server):
    thread = "f0000000-0000-4000-8000-000000000002"
    sdk = Sdk(flavour, timeouts_server.base_url, timeouts_server.key("ci"))
    try:
        with pytest.raises(FlowMaestroError) as info:
            sdk("threads.send_message", thread, "Where is my refund?")
    finally:
        sdk.close()
    err = info.value
    # 408 has no class of its own in parse_api_error: the base FlowMaestroError, with the
    # status kept (after the retries, had max_retries not been 0).
    assert type(err) is FlowMaestroError
    assert (err.status_code, err.code, err.message, err.details) == (408, "timeout", (
        "Execution did not complete within 120000ms. "
        f"Use GET /api/v1/threads/{thread}/messages to check for new messages."), None)
    check_request_id(err)


def test_408_from_the_handler_with_a_non_numeric_timeout(sdk, view):
    # The SDK's send_message cannot send the server's `timeout` field; its own transport
    # can. A non-numeric timeout makes production's wait NaN ms: an immediate 408 (§5.4).
    thread = view.thread_with_messages()
    with pytest.raises(FlowMaestroError) as info:
        sdk._run(sdk.client._http.post(f"/api/v1/threads/{thread.id}/messages",
                                       json={"content": "hi", "timeout": "soon"}))
    err = info.value
    assert type(err) is FlowMaestroError
    assert (err.status_code, err.code, err.message) == (408, "timeout", (
        "Execution did not complete within NaNms. "
        f"Use GET /api/v1/threads/{thread.id}/messages to check for new messages."))


def test_501_send_message_with_stream(sdk, view):
    thread = view.thread_with_messages()
    with pytest.raises(ServerError) as info:
        sdk("threads.send_message", thread.id, "hi", stream=True)
    err = info.value
    assert (err.status_code, err.code, err.message, err.details) == \
        (501, "not_implemented", "Streaming messages not yet implemented in public API. Use stream=false.", None)


# ====================================================================== errors: 500

NON_UUID = "wf_123"
# Envelope 500s: only the routes whose DB call sits inside the handler's try (§1.7).
ENVELOPE_500 = {"workflows.execute": "execution_failed", "triggers.execute": "execution_failed",
                "executions.cancel": "internal_error"}


@pytest.mark.parametrize("method", sorted(ID_CALLS))
def test_500_non_uuid_ids(sdk, method):
    extra, _ = ID_CALLS[method]
    if method in ENVELOPE_500:
        with pytest.raises(ServerError) as info:
            sdk(method, NON_UUID, *extra)
        err = info.value
        assert (err.status_code, err.code, err.message) == \
            (500, ENVELOPE_500[method], f'invalid input syntax for type uuid: "{NON_UUID}"')
        check_request_id(err)
    else:
        # SDK gap (§9.1): every other route answers the Fastify-shaped 500
        # {"statusCode":500,"code":"22P02","error":"Internal Server Error",...}; the SDK's
        # mapper calls .get on the string "error" and the AttributeError surfaces as
        # ConnectionError with no status (after 3 retries with the default max_retries).
        with pytest.raises(ConnectionError) as info:
            sdk(method, NON_UUID, *extra)
        err = info.value
        assert (err.message, err.code, err.status_code, err.request_id) == \
            (FDE_MAPPER_CRASH, "connection_error", None, None)


def test_500_failed_agent_run(sdk, view):
    thread = view.thread_with_messages()
    view.store.agents[thread.agent_id].fail_with = "Model provider returned 529 overloaded"
    with pytest.raises(ServerError) as info:
        sdk("threads.send_message", thread.id, "hi")
    err = info.value
    assert (err.status_code, err.code, err.message) == \
        (500, "execution_failed", "Model provider returned 529 overloaded")
    runs = [r for r in view.store.agent_executions.values() if r.thread_id == thread.id]
    assert [r.status for r in runs] == ["completed", "failed"]  # the seeded run, then this one


def test_500_knowledge_base_query_with_negative_top_k(sdk, view):
    kb = view.knowledge_bases()[0]
    with pytest.raises(ServerError) as info:
        sdk("knowledge_bases.query", kb.id, "anything", top_k=-1)
    assert (info.value.status_code, info.value.code, info.value.message) == \
        (500, "internal_error", "LIMIT must not be negative")


# ====================================================================== transport failures

def test_client_side_timeout(connect, view):
    # A slow agent: the SDK gives up after its own timeout (not retried) with TimeoutError.
    thread = view.thread_with_messages()
    view.store.agents[thread.agent_id].reply_latency_ms = 1500
    sdk = connect(timeout=0.3)
    with pytest.raises(TimeoutError) as info:
        sdk("threads.send_message", thread.id, "are you there?")
    assert (info.value.message, info.value.code, info.value.status_code) == \
        ("Request timed out after 0.3s", "timeout", None)


def test_connection_refused(flavour):
    sdk = Sdk(flavour, f"http://127.0.0.1:{closed_port()}", "fm_live_nobody")
    try:
        with pytest.raises(ConnectionError) as info:
            sdk("workflows.list")
        assert (info.value.code, info.value.status_code) == ("connection_error", None)
        assert info.value.message  # httpx's text: "[Errno 111] Connection refused" / "All connection attempts failed"
        with pytest.raises(ConnectionError) as info:
            sdk.events("executions.stream", UNKNOWN)
        assert info.value.message.startswith("Failed to connect to SSE stream: ")
    finally:
        sdk.close()


def test_sdk_version():
    assert flowmaestro.__version__ == "0.1.0"  # the version CONTRACT.md §9 describes

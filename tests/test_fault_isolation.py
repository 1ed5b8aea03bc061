"""A fault never corrupts the store, and a seeded scenario replays exactly.

Against a real hypercorn server (fakemaestro.testing.serve_in_thread): every kind of
fault is put on the write operations (executeWorkflow, createWebhook, updateWebhook,
deleteWebhook, createThread, sendThreadMessage, putAgentMemory, cancelExecution),
the writes are sent, then POST /_fakemaestro/reset must give back exactly the store
the server started with (the full dump of every collection through GET
/_fakemaestro/state). A fault that answers in production's place (an error, a custom
status, a dropped connection) must not have reached the handler at all, so the store
is unchanged even before the reset.

Then determinism: the same scenario and seed, with probability rules, driven twice by
the same request sequence on two fresh apps, give the same journal (but for the
measured wall-clock time, elapsed_ms) and the same store.
"""
from __future__ import annotations

import copy
import json
import socket
import time

import httpx
import pytest

from fakemaestro.app import create_app
from fakemaestro.clock import Clock, parse_instant
from fakemaestro.scenario import Scenario
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.scenario.loader import check
from fakemaestro.testing import serve_in_thread

FROZEN = parse_instant("2026-10-10T10:10:10.010Z")
A = "/_fakemaestro"
WRITES = ["executeWorkflow", "createWebhook", "updateWebhook", "deleteWebhook", "createThread",
          "sendThreadMessage", "putAgentMemory", "cancelExecution"]
USER = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"


def scenario(faults: list, seed: int | None = None) -> Scenario:
    data = copy.deepcopy(default_scenario().data)
    data["faults"] = faults
    if seed is not None:
        data["seed"] = seed
    return check(Scenario(data, "<default + faults>"))


def dump(http: httpx.Client) -> dict:
    """Every record of every collection, as the admin API shows them."""
    counts = http.get(f"{A}/state").json()["counts"]
    out = {}
    for name, count in counts.items():
        body = http.get(f"{A}/state", params={"collection": name}).json()
        assert body["count"] == count == len(body["records"])
        out[name] = body["records"]
    return out


def without_key_use(state: dict) -> dict:
    """The dump without `last_used_at`: authenticating a key stamps it, in production too."""
    state = copy.deepcopy(state)
    for key in state["api_keys"]:
        key.pop("last_used_at", None)
    return state


def raw_request(port: int, method: str, path: str, headers: dict, body: bytes = b"", deadline: float = 5.0) -> bytes:
    """One request on its own connection, read until EOF, a reset or the deadline."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=deadline) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        end = time.monotonic() + deadline
        while (left := end - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, OSError):
                break
            if not chunk:
                break
            data += chunk
    return data


class Writes:
    """The write requests, one per write operation, on records of the default scenario."""

    def __init__(self, running) -> None:
        self.running = running
        store = running.state.store
        bulk = store.key_by_name("bulk")
        self.headers = {"X-API-Key": bulk.raw}
        ws, user = bulk.workspace_id, bulk.user_id
        self.workflow = next(w.id for w in store.workflows.values()
                             if w.user_id == user and w.deleted_at is None and w.definition)
        self.hook = next(h.id for h in store.webhooks.values() if h.workspace_id == ws and h.deleted_at is None)
        self.agent = next(a.id for a in store.agents.values() if a.workspace_id == ws and a.deleted_at is None)
        self.thread = next(t.id for t in store.threads.values() if t.workspace_id == ws and t.deleted_at is None)
        self.execution = next(e.id for e in store.executions.values() if e.status in ("pending", "running")
                              and store.workflows[e.workflow_id].user_id == user)

    def requests(self) -> list[tuple[str, str, dict | None]]:
        return [
            ("POST", f"/api/v1/workflows/{self.workflow}/execute", {"inputs": {"topic": "t"}}),
            ("POST", "/api/v1/webhooks", {"name": "n", "url": "http://127.0.0.1:9/x", "events": ["execution.started"]}),
            ("PATCH", f"/api/v1/webhooks/{self.hook}", {"name": "renamed", "is_active": False}),
            ("DELETE", f"/api/v1/webhooks/{self.hook}", None),
            ("POST", f"/api/v1/agents/{self.agent}/threads", {}),
            ("POST", f"/api/v1/threads/{self.thread}/messages", {"content": "hello"}),
            ("PUT", f"/api/v1/agents/{self.agent}/memory/{USER}", {"working_memory": "likes tea"}),
            ("POST", f"/api/v1/executions/{self.execution}/cancel", None),
        ]

    def send_all(self) -> list[bytes]:
        answers = []
        already = len(self.running.state.journal.entries)
        for method, path, body in self.requests():
            payload = json.dumps(body).encode() if body is not None else b""
            answers.append(raw_request(self.running.port, method, path, self.headers, payload))
            wait_for_journal(self.running.state, already + len(answers))
        return answers


def wait_for_journal(state, count: int) -> None:
    """The entry is written just after the answer (or the drop): wait until all are in."""
    end = time.monotonic() + 5
    while len(state.journal.entries) < count and time.monotonic() < end:
        time.sleep(0.005)
    assert len(state.journal.entries) == count


ANSWERING = [
    {"error": "internal_error"}, {"error": "execution_failed"}, {"error": "resource_not_found"},
    {"error": "validation_error"}, {"error": "timeout"}, {"error": "service_unavailable"},
    {"error": "insufficient_scope"}, {"error": "rate_limit_exceeded"}, {"error": "framework_500"},
    {"error": "internal_error", "malformed_json": True}, {"error": "internal_error", "truncate_at": 5},
    {"status": 418, "body": {"oops": True}}, {"status": 500, "body": "x" * 200, "drip": {"chunk_bytes": 50,
                                                                                          "interval_ms": 1}},
    {"connection": "reset"}, {"connection": "close"},
    {"connection": "reset", "latency": {"fixed_ms": 20}},
]
DAMAGING = [
    {"truncate_at": 0}, {"truncate_at": 7}, {"malformed_json": True},
    {"drip": {"chunk_bytes": 16, "interval_ms": 1}}, {"latency": {"fixed_ms": 30}},
    {"latency": {"uniform_ms": [1, 10]}},
]


def _id(do: dict) -> str:
    return "+".join(f"{k}={v}" if isinstance(v, (str, int)) and not isinstance(v, bool) else k for k, v in do.items())


def _run(do: dict) -> tuple[dict, dict, dict]:
    """(dump at start, dump after the faulted writes, dump after reset)."""
    faults = [{"name": "writes", "match": {"operation": WRITES}, "do": do}]
    app = create_app(scenario(faults), clock=Clock(FROZEN))
    with serve_in_thread(app) as running, \
            httpx.Client(base_url=running.base_url, trust_env=False, timeout=10) as http:
        start = dump(http)
        Writes(running).send_all()
        rule = running.state.faults.rules[0]
        assert (rule.seen, rule.hits) == (len(WRITES), len(WRITES))
        assert {e.fault for e in running.state.journal.entries} == {"writes"}
        faulted = dump(http)
        assert http.post(f"{A}/reset").status_code == 200
        after = dump(http)
        assert not running.state.journal.entries and rule is not running.state.faults.rules[0]
    return start, faulted, after


@pytest.mark.parametrize("do", ANSWERING, ids=_id)
def test_a_fault_that_answers_never_reaches_the_store(do):
    start, faulted, after = _run(do)
    assert without_key_use(faulted) == without_key_use(start)  # the handler never ran
    assert after == start


@pytest.mark.parametrize("do", DAMAGING, ids=_id)
def test_a_damaged_answer_leaves_only_what_production_would_and_reset_restores(do):
    start, faulted, after = _run(do)
    # the real handler ran (the damage is to the answer only): the writes happened ...
    assert len(faulted["executions"]) == len(start["executions"]) + 1
    assert len(faulted["webhooks"]) == len(start["webhooks"]) + 1
    assert len(faulted["threads"]) == len(start["threads"]) + 1
    assert len(faulted["messages"]) == len(start["messages"]) + 2
    # ... and reset gives back exactly the store the server started with
    assert after == start


def test_the_same_writes_after_reset_give_the_same_store():
    faults = [{"name": "slow", "match": {"operation": WRITES}, "do": {"latency": {"fixed_ms": 1}}}]
    app = create_app(scenario(faults), clock=Clock(FROZEN))
    with serve_in_thread(app) as running, \
            httpx.Client(base_url=running.base_url, trust_env=False, timeout=10) as http:
        writes = Writes(running)
        writes.send_all()
        first = dump(http)
        http.post(f"{A}/reset")
        writes.send_all()
        assert dump(http) == first   # ids, secrets, times: all the same


# ================================================================= determinism

DETERMINISM_FAULTS = [
    {"name": "flaky-writes", "match": {"operation": WRITES}, "when": {"probability": 0.5},
     "do": {"error": "internal_error", "latency": {"uniform_ms": [1, 8]}}},
    {"name": "flaky-reads", "match": {"method": "GET"}, "when": {"probability": 0.3},
     "do": {"error": "service_unavailable"}},
    {"name": "rst", "match": {"operation": "listWebhooks"}, "when": {"probability": 0.5},
     "do": {"connection": "reset"}},
    {"name": "jitter", "match": {"path": "/api/v1/agents*"},
     "do": {"latency": {"lognormal": {"median_ms": 2, "sigma": 0.5}}}},
]
READS = ["/api/v1/workflows", "/api/v1/agents", "/api/v1/webhooks", "/api/v1/executions", "/api/v1/triggers"]


def _replay(seed: int) -> tuple[list[dict], dict, list[int]]:
    app = create_app(scenario(DETERMINISM_FAULTS, seed=seed), clock=Clock(FROZEN))
    with serve_in_thread(app) as running, \
            httpx.Client(base_url=running.base_url, trust_env=False, timeout=10) as http:
        writes, sent = Writes(running), 0
        statuses = []
        for _ in range(3):
            for method, path, body in writes.requests():
                payload = json.dumps(body).encode() if body is not None else b""
                answer = raw_request(running.port, method, path, writes.headers, payload)
                statuses.append(int(answer.split(b" ", 2)[1]) if answer else 0)
                sent += 1
                wait_for_journal(running.state, sent)  # one at a time: the journal order is the request order
            for path in READS:
                answer = raw_request(running.port, "GET", path, writes.headers)
                statuses.append(int(answer.split(b" ", 2)[1]) if answer else 0)
                sent += 1
                wait_for_journal(running.state, sent)
        entries = [e.as_dict() for e in running.state.journal.entries]
        state = dump(http)
    for entry in entries:
        del entry["elapsed_ms"]  # measured wall-clock time: the one field that varies
    return entries, without_key_use(state), statuses


def test_the_same_scenario_seed_and_requests_give_the_same_journal():
    first, second = _replay(seed=8), _replay(seed=8)
    assert first[0] == second[0]       # the journal, seq, faults, statuses, drawn latencies
    assert first[1] == second[1]       # and the store the requests left behind
    assert first[2] == second[2]
    faults = {e["fault"] for e in first[0]}
    assert {"flaky-writes", "flaky-reads", "rst", "jitter", None} <= faults
    assert {500, 503, 0} <= set(first[2]) and any(200 <= s < 300 for s in first[2])
    other = _replay(seed=9)
    assert other[0] != first[0]
    assert [(e["method"], e["path"]) for e in other[0]] == [(e["method"], e["path"]) for e in first[0]]

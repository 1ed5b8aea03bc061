"""Fault rules against a real hypercorn server on 127.0.0.1: every kind of fault as a
client sees it on the wire (catalogue errors, custom answers, latency, resets, closes,
truncated, malformed and dripped bodies, cut event streams), the `when` conditions and
`match` fields, determinism of a seeded scenario, and reset after faults.

One server serves the whole module; each test loads its own scenario into it (the
default scenario plus a `faults` list) with the clock frozen at FROZEN.
"""
from __future__ import annotations

import copy
import itertools
import json
import math
import socket
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
from starlette.testclient import TestClient

from fakemaestro.app import Settings, create_app
from fakemaestro.clock import Clock, parse_instant
from fakemaestro.http.scopes import ALL_SCOPES, BUNDLES
from fakemaestro.resources import operations
from fakemaestro.scenario import Scenario
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.scenario.loader import check
from fakemaestro.testing import serve_in_thread

from . import spec

FROZEN_ISO = "2026-10-10T10:10:10.010Z"
FROZEN = parse_instant(FROZEN_ISO)
NEXT_MINUTE = parse_instant("2026-10-10T10:11:00Z") // 1000   # X-RateLimit-Reset at FROZEN
TO_MINUTE = 50                                                 # seconds from FROZEN to NEXT_MINUTE
TO_MIDNIGHT = 13 * 3600 + 49 * 60 + 50                         # seconds from FROZEN to 2026-10-11T00:00:00Z
BASE = default_scenario().data
OPERATIONS = {op.operation_id: op for op in operations()}
MISSING = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"   # a well-formed id no record has
MISSING_USER = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
JSON_CT = "application/json; charset=utf-8"
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-limit-day",
                "x-ratelimit-remaining-day", "retry-after")
UNAVAILABLE = {"error": "service_unavailable"}


def scenario(faults: list, seed: int | None = None) -> Scenario:
    data = copy.deepcopy(BASE)
    data["faults"] = faults
    if seed is not None:
        data["seed"] = seed
    return check(Scenario(data, "<default + faults>"))


# ----------------------------------------------------------------- the wire

@dataclass
class Wire:
    """What a plain socket read: pieces of bytes with their arrival times (seconds after
    the request was sent), then EOF, an error, or the deadline."""
    pieces: list[tuple[float, bytes]]
    error: OSError | None
    eof: bool

    @property
    def data(self) -> bytes:
        return b"".join(piece for _, piece in self.pieces)

    def head(self) -> tuple[int, dict[str, str]]:
        head, sep, _ = self.data.partition(b"\r\n\r\n")
        assert sep, f"no complete response head in {self.data[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(lines[0].split(" ")[1]), headers

    @property
    def body(self) -> bytes:
        return self.data.partition(b"\r\n\r\n")[2]

    def body_arrivals(self) -> list[float]:
        """Arrival time of every piece that carried body bytes."""
        seen, out, head_len = 0, [], len(self.data) - len(self.body)
        for at, piece in self.pieces:
            if seen + len(piece) > head_len:
                out.append(at)
            seen += len(piece)
        return out


def wire(port: int, method: str, path: str, headers: dict | None = None, body: bytes = b"",
         deadline: float = 5.0) -> Wire:
    """One request on a fresh connection (`Connection: close`), read until EOF, an error
    or `deadline` seconds."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    sock = socket.create_connection(("127.0.0.1", port), timeout=deadline)
    pieces, error, eof = [], None, False
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        start = time.monotonic()
        while (left := start + deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except OSError as exc:
                error = exc
                break
            if not chunk:
                eof = True
                break
            pieces.append((time.monotonic() - start, chunk))
    finally:
        sock.close()
    return Wire(pieces, error, eof)


def dechunk(body: bytes) -> tuple[bytes, bool]:
    """A chunked body's payload, and whether its terminating chunk arrived."""
    out = b""
    while body:
        size_line, sep, rest = body.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0:
            return out, True
        out += rest[:size]
        body = rest[size + 2:]
    return out, False


# ----------------------------------------------------------------- the server

class Live:
    def __init__(self, running, http: httpx.Client) -> None:
        self.running, self.http = running, http

    @property
    def state(self):
        return self.running.state

    @property
    def port(self) -> int:
        return self.running.port

    def load(self, faults: list, seed: int | None = None) -> Live:
        # A request to the admin API (never journaled) as a barrier: by the time it is
        # answered, the server has finished recording the previous test's exchanges.
        assert self.http.get("/_fakemaestro/health").status_code == 200
        self.state.clock.freeze(FROZEN)
        self.state.load(scenario(faults, seed))
        return self

    def key(self, name: str) -> str:
        return self.running.key(name)

    def h(self, key: str | None = "bulk", **extra) -> dict:
        headers = {"X-API-Key": self.key(key)} if key else {}
        headers.update(extra)
        return headers

    def get(self, path: str, key: str | None = "bulk", **extra) -> httpx.Response:
        return self.http.get(path, headers=self.h(key, **extra))

    def journal(self, count: int) -> list[dict]:
        """The journal once `count` entries are in (the entry is written just after the
        response is sent, so a fast client can get there first)."""
        end = time.monotonic() + 3
        while len(self.state.journal.entries) < count and time.monotonic() < end:
            time.sleep(0.005)
        entries = [e.as_dict() for e in self.state.journal.entries]
        assert len(entries) == count, entries
        return entries

    # records of the default scenario the `bulk` key can see
    @property
    def workspace(self) -> str:
        return self.state.store.key_by_name("bulk").workspace_id

    def owned(self, table: str, **attrs):
        store, ws = self.state.store, self.workspace
        owner = store.key_by_name("bulk").user_id
        for record in getattr(store, table).values():
            if table == "executions":
                if store.workflows[record.workflow_id].workspace_id != ws or \
                        store.workflows[record.workflow_id].user_id != owner:
                    continue
            elif getattr(record, "workspace_id", ws) != ws:
                continue
            if getattr(record, "deleted_at", None) is None and all(getattr(record, k) == v for k, v in attrs.items()):
                return record
        raise LookupError(f"no {table} with {attrs}")


@pytest.fixture(scope="module")
def live():
    app = create_app(scenario([]), clock=Clock(FROZEN), settings=Settings(sse_keepalive_ms=50))
    with serve_in_thread(app) as running, \
            httpx.Client(base_url=running.base_url, trust_env=False, timeout=5) as http:
        yield Live(running, http)


@pytest.fixture
def fake(live) -> Live:
    return live.load([])


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert list(body) == ["error", "meta"], body
    assert body["meta"]["timestamp"] == FROZEN_ISO and uuid.UUID(body["meta"]["request_id"])
    return body["error"]


def rate_headers(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in RATE_HEADERS if name in response.headers}


def names(response: httpx.Response) -> list[str]:
    return [k.decode().lower() for k, _ in response.headers.raw]


def documented(operation_id: str, method: str, response: httpx.Response) -> list[str]:
    return spec.check(OPERATIONS[operation_id], method, response.status_code,
                      response.headers.get("content-type", ""), response.content)


# ================================================================= catalogue errors

def test_rate_limit_minute_window(fake):
    fake.load([{"name": "throttle", "match": {"operation": "listWorkflows", "key": "full"}, "when": {"after": 2},
                "do": {"error": "rate_limit_exceeded"}}])
    assert [fake.get("/api/v1/workflows", "full").status_code for _ in range(2)] == [200, 200]
    r = fake.get("/api/v1/workflows", "full")
    assert r.status_code == 429
    assert error_of(r) == {"code": "rate_limit_exceeded",
                           "message": f"Rate limit exceeded. Please retry after {TO_MINUTE} seconds.",
                           "details": {"limit": 60, "window": "minute", "retry_after": TO_MINUTE}}
    # the two requests before it were counted by the limiter; the faked one is not
    assert rate_headers(r) == {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
                               "x-ratelimit-reset": str(NEXT_MINUTE), "x-ratelimit-limit-day": "10000",
                               "x-ratelimit-remaining-day": "9998", "retry-after": str(TO_MINUTE)}
    assert documented("listWorkflows", "GET", r) == []
    assert fake.journal(3)[-1]["fault"] == "throttle" and fake.journal(3)[-1]["status"] == 429


def test_rate_limit_day_window(fake):
    fake.load([{"name": "daily", "match": {"key": "full"}, "when": {"after": 2},
                "do": {"error": "rate_limit_exceeded", "window": "day"}}])
    assert fake.get("/api/v1/workflows", "full").status_code == 200
    assert fake.get("/api/v1/agents", "full").status_code == 200
    r = fake.get("/api/v1/workflows", "full")
    assert r.status_code == 429
    assert error_of(r) == {"code": "rate_limit_exceeded",
                           "message": "Daily rate limit exceeded. Limit resets at midnight UTC.",
                           "details": {"limit": 10000, "window": "day", "retry_after": TO_MIDNIGHT}}
    assert rate_headers(r) == {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "58",
                               "x-ratelimit-reset": str(NEXT_MINUTE), "x-ratelimit-limit-day": "10000",
                               "x-ratelimit-remaining-day": "0", "retry-after": str(TO_MIDNIGHT)}
    assert documented("listWorkflows", "GET", r) == []


@pytest.mark.parametrize("do,message,retry", [
    ({"retry_after": 7}, "Rate limit exceeded. Please retry after 7 seconds.", 7),
    ({"retry_after": 3600, "window": "day", "message": "Slow down"}, "Slow down", 3600),
    ({"message": "Too many"}, "Too many", TO_MINUTE),
])
def test_rate_limit_retry_after_and_message_overrides(fake, do, message, retry):
    fake.load([{"match": {"key": "full"}, "do": {"error": "rate_limit_exceeded", **do}}])
    r = fake.get("/api/v1/workflows", "full")
    err = error_of(r)
    assert r.status_code == 429 and err["message"] == message and err["details"]["retry_after"] == retry
    assert r.headers["retry-after"] == str(retry)


def test_rate_limit_fault_looks_like_the_real_429(fake):
    # low-rate allows 3 a minute: the 4th real request is production's own 429
    real = [fake.get("/api/v1/workflows", "low-rate") for _ in range(4)][-1]
    assert real.status_code == 429
    fake.load([{"match": {"key": "low-rate"}, "do": {"error": "rate_limit_exceeded"}}])
    faked = fake.get("/api/v1/workflows", "low-rate")
    assert error_of(faked) == error_of(real)
    assert names(faked) == names(real)
    expected = rate_headers(real)
    expected["x-ratelimit-remaining-day"] = "10000"  # the faked window counted no request
    assert rate_headers(faked) == expected


@pytest.mark.parametrize("code,status,message,after_auth", [
    ("service_unavailable", 503, "Service temporarily unavailable", True),
    ("internal_error", 500, "Internal server error", True),
    ("execution_failed", 500, "Workflow execution failed", True),
    ("invalid_api_key", 401, "API key not found.", False),
    ("expired_api_key", 401, "This API key has expired. Please generate a new key.", False),
    ("revoked_api_key", 401, "This API key has been revoked. Please generate a new key.", False),
    ("validation_error", 400, "Invalid input data", True),
    ("not_implemented", 501, "Streaming messages not yet implemented in public API. Use stream=false.", True),
])
def test_catalogue_error(fake, code, status, message, after_auth):
    fake.load([{"name": code, "match": {"operation": "getWorkflow"}, "do": {"error": code}}])
    r = fake.http.get(f"/api/v1/workflows/{MISSING}", headers=fake.h("full", **{"X-Request-ID": "req-1"}))
    assert r.status_code == status
    assert error_of(r) == {"code": code, "message": message}
    assert r.headers["content-type"] == JSON_CT and r.headers["x-request-id"] == "req-1"
    assert int(r.headers["content-length"]) == len(r.content)
    if after_auth:  # production raises it after authentication and the rate limiter: counted, with headers
        assert rate_headers(r) == {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "59",
                                   "x-ratelimit-reset": str(NEXT_MINUTE), "x-ratelimit-limit-day": "10000",
                                   "x-ratelimit-remaining-day": "9999"}
    else:           # the 401s come from the auth hook: no headers, not counted
        assert not rate_headers(r)
    assert fake.get("/api/v1/agents", "full").headers["x-ratelimit-remaining"] == ("58" if after_auth else "59")
    entry = fake.journal(2)[0]
    assert (entry["status"], entry["fault"], entry["operation"], entry["key"]) == (status, code, "getWorkflow", "full")


def test_faked_errors_after_auth_without_a_valid_key_carry_no_headers(fake):
    fake.load([{"match": {"operation": "getWorkflow"}, "do": {"error": "internal_error"}}])
    for headers in ({}, {"X-API-Key": "fm_live_" + "A" * 32}, fake.h("expired")):
        r = fake.http.get(f"/api/v1/workflows/{MISSING}", headers=headers)
        assert r.status_code == 500 and error_of(r)["code"] == "internal_error" and not rate_headers(r)


def test_faked_errors_after_auth_count_like_production(fake):
    # low-rate allows 3 a minute; faked post-auth errors use up the window like real answers
    fake.load([{"match": {"operation": "getWorkflow"}, "do": {"error": "resource_not_found"}}])
    remaining = [fake.get(f"/api/v1/workflows/{MISSING}", "low-rate").headers["x-ratelimit-remaining"]
                 for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    real = fake.get("/api/v1/workflows", "low-rate")  # not faked: production's own 429
    assert real.status_code == 429 and real.headers["x-ratelimit-remaining"] == "0"
    # over the limit, the rule still decides the answer; its headers say nothing remains
    faked = fake.get(f"/api/v1/workflows/{MISSING}", "low-rate")
    assert faked.status_code == 404 and faked.headers["x-ratelimit-remaining"] == "0"
    assert "retry-after" not in faked.headers
    assert faked.headers["x-ratelimit-remaining-day"] == str(10000 - 5)


def test_catalogue_error_message_override(fake):
    fake.load([{"do": {"error": "service_unavailable", "message": "Down for maintenance"}}])
    r = fake.get("/api/v1/agents")
    assert r.status_code == 503 and error_of(r) == {"code": "service_unavailable", "message": "Down for maintenance"}


@pytest.mark.parametrize("code,key", [("invalid_api_key", None), ("expired_api_key", "expired"),
                                      ("revoked_api_key", "revoked")])
def test_key_errors_are_the_real_401s(fake, code, key):
    headers = fake.h(key) if key else {"X-API-Key": "fm_live_" + "A" * 32}
    real = fake.http.get("/api/v1/workflows", headers=headers)
    fake.load([{"match": {"operation": "listWorkflows"}, "do": {"error": code}}])
    faked = fake.http.get("/api/v1/workflows", headers=fake.h())
    assert real.status_code == faked.status_code == 401
    assert error_of(faked) == error_of(real)
    assert names(faked) == names(real)
    assert documented("listWorkflows", "GET", faked) == []


def test_insufficient_scope_is_the_real_403(fake):
    path = f"/api/v1/agents/{MISSING}/threads"
    real = fake.http.post(path, headers=fake.h("read-only"), json={})
    fake.load([{"match": {"operation": "createThread"}, "do": {"error": "insufficient_scope"}}])
    faked = fake.http.post(path, headers=fake.h("read-only"), json={})
    assert real.status_code == faked.status_code == 403
    assert error_of(faked) == error_of(real) == {
        "code": "insufficient_scope", "message": "Missing required scopes: threads:write",
        "details": {"required_scopes": ["agents:read", "threads:write"], "missing_scopes": ["threads:write"],
                    "your_scopes": list(BUNDLES["read-only"])}}
    assert names(faked) == names(real)
    assert documented("createThread", "POST", faked) == []


def test_insufficient_scope_for_a_key_that_has_every_scope(fake):
    fake.load([{"match": {"operation": ["createThread", "listWorkflows"]}, "do": {"error": "insufficient_scope"}}])
    r = fake.http.post(f"/api/v1/agents/{MISSING}/threads", headers=fake.h("full"), json={})
    assert error_of(r) == {
        "code": "insufficient_scope", "message": "Missing required scopes: threads:write",
        "details": {"required_scopes": ["agents:read", "threads:write"], "missing_scopes": ["threads:write"],
                    "your_scopes": [s for s in ALL_SCOPES if s != "threads:write"]}}
    r = fake.get("/api/v1/workflows", None)  # no key at all
    assert r.status_code == 403 and error_of(r)["details"] == {
        "required_scopes": ["workflows:read"], "missing_scopes": ["workflows:read"], "your_scopes": []}


def test_insufficient_scope_takes_a_custom_message_and_keeps_the_details(fake):
    fake.load([{"match": {"operation": "listWorkflows"},
                "do": {"error": "insufficient_scope", "message": "Key lacks workflows:read"}}])
    r = fake.http.get("/api/v1/workflows", headers=fake.h("full"))
    assert r.status_code == 403
    assert error_of(r)["message"] == "Key lacks workflows:read"
    assert error_of(r)["details"]["missing_scopes"] == ["workflows:read"]


def test_timeout_408(fake):
    thread = fake.owned("threads")
    fake.load([{"match": {"operation": "sendThreadMessage"}, "do": {"error": "timeout"}}])
    r = fake.http.post(f"/api/v1/threads/{thread.id}/messages", headers=fake.h(), json={"content": "hi"})
    assert r.status_code == 408
    assert error_of(r) == {"code": "timeout",
                           "message": f"Execution did not complete within 120000ms. Use GET "
                                      f"/api/v1/threads/{thread.id}/messages to check for new messages."}
    assert documented("sendThreadMessage", "POST", r) == []


# operation -> (method, path, body); {A} is an agent the key can see, so that the real 404 is the memory's
NOT_FOUND_CASES = {
    "getWorkflow": ("GET", "/api/v1/workflows/{M}", None),
    "executeWorkflow": ("POST", "/api/v1/workflows/{M}/execute", {"inputs": {}}),
    "getExecution": ("GET", "/api/v1/executions/{M}", None),
    "cancelExecution": ("POST", "/api/v1/executions/{M}/cancel", None),
    "streamExecutionEvents": ("GET", "/api/v1/executions/{M}/events", None),
    "getAgent": ("GET", "/api/v1/agents/{M}", None),
    "createThread": ("POST", "/api/v1/agents/{M}/threads", {}),
    "getThread": ("GET", "/api/v1/threads/{M}", None),
    "deleteThread": ("DELETE", "/api/v1/threads/{M}", None),
    "listThreadMessages": ("GET", "/api/v1/threads/{M}/messages", None),
    "sendThreadMessage": ("POST", "/api/v1/threads/{M}/messages", {"content": "hi"}),
    "executeTrigger": ("POST", "/api/v1/triggers/{M}/execute", {}),
    "getKnowledgeBase": ("GET", "/api/v1/knowledge-bases/{M}", None),
    "queryKnowledgeBase": ("POST", "/api/v1/knowledge-bases/{M}/query", {"query": "x"}),
    "getWebhook": ("GET", "/api/v1/webhooks/{M}", None),
    "updateWebhook": ("PATCH", "/api/v1/webhooks/{M}", {"name": "x"}),
    "deleteWebhook": ("DELETE", "/api/v1/webhooks/{M}", None),
    "testWebhook": ("POST", "/api/v1/webhooks/{M}/test", {}),
    "listWebhookDeliveries": ("GET", "/api/v1/webhooks/{M}/deliveries", None),
    "listAgentMemory": ("GET", "/api/v1/agents/{M}/memory", None),
    "getAgentMemoryStats": ("GET", "/api/v1/agents/{M}/memory/stats", None),
    "searchAgentMemory": ("POST", "/api/v1/agents/{M}/memory/search", {"query": "x"}),
    "putAgentMemory": ("PUT", "/api/v1/agents/{M}/memory/{U}", {"working_memory": "x"}),
    "getAgentMemory": ("GET", "/api/v1/agents/{A}/memory/{U}", None),
    "deleteAgentMemory": ("DELETE", "/api/v1/agents/{A}/memory/{U}", None),
}
@pytest.mark.parametrize("operation", list(NOT_FOUND_CASES))
def test_resource_not_found_is_the_real_404_of_the_operation(fake, operation):
    method, template, body = NOT_FOUND_CASES[operation]
    path = template.format(M=MISSING, U=MISSING_USER, A=fake.owned("agents").id)
    kwargs = {"json": body} if body is not None else {}
    real = fake.http.request(method, path, headers=fake.h(), **kwargs)
    assert real.status_code == 404, real.text
    fake.load([{"match": {"operation": operation}, "do": {"error": "resource_not_found"}}])
    faked = fake.http.request(method, path, headers=fake.h(), **kwargs)
    assert faked.status_code == 404
    assert error_of(faked) == error_of(real)
    assert names(faked) == names(real)
    assert documented(operation, method, faked) == []


@pytest.mark.parametrize("operation", ["getAgentMemory", "deleteAgentMemory"])
def test_memory_not_found_names_the_agent_when_production_would(fake, operation):
    # two 404s are possible here: the Agent's (agent not in the key's workspace) or the memory's
    method, template, _ = NOT_FOUND_CASES[operation]
    path = template.format(A=MISSING, U=MISSING_USER)
    real = fake.http.request(method, path, headers=fake.h())
    fake.load([{"match": {"operation": operation}, "do": {"error": "resource_not_found"}}])
    faked = fake.http.request(method, path, headers=fake.h())
    assert error_of(faked) == error_of(real) == {
        "code": "resource_not_found", "message": f"Agent with id '{MISSING}' not found",
        "details": {"resource": "Agent", "id": MISSING}}


@pytest.mark.parametrize("error", ["resource_not_found", "validation_error"])
def test_errors_production_raises_after_auth_carry_the_rate_headers(fake, error):
    real = fake.get(f"/api/v1/workflows/{MISSING}")
    fake.load([{"match": {"operation": "getWorkflow"}, "do": {"error": error}}])
    faked = fake.get(f"/api/v1/workflows/{MISSING}")
    assert set(rate_headers(faked)) == set(rate_headers(real)) == set(RATE_HEADERS[:5])
    assert names(faked) == names(real)


@pytest.mark.parametrize("code,status,reason,message", [
    ("framework_500", 500, "Internal Server Error", "Connection terminated unexpectedly"),
    ("framework_502", 502, "Bad Gateway", "Bad Gateway"),
    ("framework_504", 504, "Gateway Timeout", "Gateway Timeout"),
])
def test_framework_errors_in_fastify_shape(fake, code, status, reason, message):
    fake.load([{"match": {"operation": "listWorkflows"}, "do": {"error": code}},
               {"match": {"operation": "listAgents"}, "do": {"error": code, "message": "upstream said no"}}])
    r = fake.get("/api/v1/workflows")
    assert r.status_code == status and r.headers["content-type"] == JSON_CT
    assert r.content == json.dumps({"statusCode": status, "error": reason, "message": message},
                                   separators=(",", ":")).encode()
    r = fake.get("/api/v1/agents")
    assert r.content == (b'{"statusCode":%d,"error":"%s","message":"upstream said no"}' % (status, reason.encode()))
    if status == 500:
        assert documented("listAgents", "GET", r) == []


@pytest.mark.parametrize("do", [{"error": "internal_error", "malformed_json": True},
                                {"error": "framework_502", "truncate_at": 10},
                                {"status": 418, "body": {"a": "long enough body"}, "truncate_at": 10},
                                {"status": 418, "body": {"a": "long enough body"}, "malformed_json": True},
                                {"error": "resource_not_found", "truncate_at": 0}],
                         ids=["error+malformed_json", "error+truncate_at", "status+truncate_at",
                              "status+malformed_json", "error+truncate_at_0"])
def test_damage_applies_to_a_faked_answer_too(fake, do):
    fake.load([{"match": {"operation": "listWorkflows"}, "do": do}])
    got = wire(fake.port, "GET", "/api/v1/workflows", fake.h())
    status, headers = got.head()
    assert status == {"internal_error": 500, "framework_502": 502, "resource_not_found": 404,
                      None: 418}[do.get("error")]
    assert got.eof and got.error is None
    if "truncate_at" in do:
        assert len(got.body) == do["truncate_at"] < int(headers["content-length"])
    else:
        assert int(headers["content-length"]) == len(got.body) > 0 and not _is_json(got.body)


def test_drip_applies_to_a_faked_answer_too(fake):
    fake.load([{"match": {"operation": "listWorkflows"},
                "do": {"status": 418, "body": {"pad": "x" * 300}, "drip": {"chunk_bytes": 100, "interval_ms": 80}}}])
    got = wire(fake.port, "GET", "/api/v1/workflows", fake.h())
    status, headers = got.head()
    assert status == 418 and got.eof and int(headers["content-length"]) == len(got.body)
    assert json.loads(got.body) == {"pad": "x" * 300}
    arrivals = got.body_arrivals()
    assert len(arrivals) >= 3 and arrivals[-1] - arrivals[0] >= 2 * 0.08 * 0.8


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


# ================================================================= custom answers

def test_custom_status_json_body_and_headers(fake):
    fake.load([{"name": "teapot", "match": {"operation": "listWorkflows"},
                "do": {"status": 418, "body": {"oops": True, "n": [1, 2.5, None]},
                       "headers": {"X-Custom": "yes", "Retry-After": 3, "X-Flag": True, "X-Ratio": 2.0,
                                   "X-Padded": " a  b\t", "X-Latin": "café"}}}])
    r = fake.get("/api/v1/workflows", **{"X-Request-ID": "req-7"})
    assert r.status_code == 418
    raw = dict(r.headers.raw)  # as Node writes them: JS text, latin-1, no surrounding spaces
    assert (raw[b"x-flag"], raw[b"x-ratio"], raw[b"x-padded"], raw[b"x-latin"]) == (b"true", b"2", b"a  b", b"caf\xe9")
    assert r.content == b'{"oops":true,"n":[1,2.5,null]}'
    assert r.headers["content-type"] == JSON_CT and r.headers["content-length"] == str(len(r.content))
    assert (r.headers["x-custom"], r.headers["retry-after"], r.headers["x-request-id"]) == ("yes", "3", "req-7")
    assert "x-ratelimit-limit" not in r.headers
    head = fake.http.head("/api/v1/workflows", headers=fake.h())
    assert head.status_code == 418 and head.content == b"" and head.headers["content-length"] == str(len(r.content))
    assert [(e["status"], e["fault"]) for e in fake.journal(2)] == [(418, "teapot"), (418, "teapot")]


def test_custom_text_body_and_content_type(fake):
    fake.load([{"match": {"path": "/api/v1/agents"}, "do": {"status": 503, "body": "upstream down"}},
               {"match": {"path": "/api/v1/triggers"},
                "do": {"status": 502, "body": "<h1>502</h1>", "headers": {"Content-Type": "text/html"}}},
               {"match": {"path": "/api/v1/webhooks"}, "do": {"status": 200}}])
    r = fake.get("/api/v1/agents")
    assert (r.status_code, r.content, r.headers["content-type"]) == (503, b"upstream down", "text/plain; charset=utf-8")
    r = fake.get("/api/v1/triggers")
    assert (r.status_code, r.content, r.headers["content-type"]) == (502, b"<h1>502</h1>", "text/html")
    r = fake.get("/api/v1/webhooks")
    assert (r.status_code, r.content, r.headers["content-length"]) == (200, b"", "0")


# ================================================================= latency

def _timed(fake, path="/api/v1/workflows") -> tuple[float, httpx.Response]:
    start = time.monotonic()
    response = fake.get(path)
    return time.monotonic() - start, response


def test_fixed_latency_delays_the_real_answer(fake):
    fake.load([{"name": "slow", "match": {"operation": "listWorkflows"}, "do": {"latency": {"fixed_ms": 300}}},
               {"name": "slow-error", "match": {"operation": "listAgents"},
                "do": {"error": "service_unavailable", "latency": {"fixed_ms": 200}}}])
    quick, r = _timed(fake, "/api/v1/triggers")
    assert r.status_code == 200 and quick < 0.25
    elapsed, r = _timed(fake)
    assert r.status_code == 200 and r.json()["data"] and 0.3 <= elapsed < 1.5
    elapsed, r = _timed(fake, "/api/v1/agents")
    assert r.status_code == 503 and 0.2 <= elapsed < 1.5
    entries = fake.journal(3)
    assert [(e["fault"], e["latency_ms"]) for e in entries] == [(None, 0.0), ("slow", 300.0), ("slow-error", 200.0)]
    assert entries[1]["elapsed_ms"] >= 300


def _latencies(fake, n: int, path="/api/v1/workflows") -> list[float]:
    start = len(fake.state.journal.entries)
    walls = [_timed(fake, path)[0] for _ in range(n)]
    drawn = [e["latency_ms"] for e in fake.journal(start + n)[start:]]
    for wall, ms in zip(walls, drawn):
        assert wall >= ms / 1000 - 0.005, (wall, ms)
    return drawn


def test_uniform_latency(fake):
    fake.load([{"match": {"operation": "listWorkflows"}, "do": {"latency": {"uniform_ms": [80, 160]}}}])
    drawn = _latencies(fake, 4)
    assert all(80 <= ms <= 160 for ms in drawn) and len(set(drawn)) == 4


def test_lognormal_latency_is_seeded(fake):
    rule = [{"match": {"operation": "listWorkflows"},
             "do": {"latency": {"lognormal": {"median_ms": 40, "sigma": 0.5}}}}]
    first = _latencies(fake.load(rule, seed=11), 4)
    assert all(40 * math.exp(-4 * 0.5) < ms < 40 * math.exp(4 * 0.5) for ms in first) and len(set(first)) == 4
    assert _latencies(fake.load(rule, seed=11), 4) == first
    assert _latencies(fake.load(rule, seed=12), 4) != first


# ================================================================= the connection itself

def test_connection_reset_is_a_tcp_reset(fake):
    fake.load([{"name": "rst", "match": {"operation": "listWorkflows"}, "do": {"connection": "reset"}}])
    got = wire(fake.port, "GET", "/api/v1/workflows", fake.h())
    assert type(got.error) is ConnectionResetError and got.pieces == [] and not got.eof
    with pytest.raises(httpx.ReadError, match="Connection reset by peer"):
        fake.get("/api/v1/workflows")
    entries = fake.journal(2)
    assert [(e["status"], e["fault"], e["operation"]) for e in entries] == [(None, "rst", "listWorkflows")] * 2
    assert fake.get("/api/v1/agents").status_code == 200  # the server carries on


def test_connection_close_sends_nothing(fake):
    fake.load([{"name": "fin", "match": {"operation": "listWorkflows"}, "do": {"connection": "close"}}])
    got = wire(fake.port, "GET", "/api/v1/workflows", fake.h())
    assert got.error is None and got.eof and got.pieces == []
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected without sending a response"):
        fake.get("/api/v1/workflows")
    assert [(e["status"], e["fault"]) for e in fake.journal(2)] == [(None, "fin")] * 2


def test_connection_reset_after_latency(fake):
    fake.load([{"match": {"operation": "listWorkflows"}, "do": {"connection": "reset", "latency": {"fixed_ms": 200}}}])
    got = wire(fake.port, "GET", "/api/v1/workflows", fake.h())
    assert type(got.error) is ConnectionResetError and got.pieces == []
    assert fake.journal(1)[0]["latency_ms"] == 200.0 and fake.journal(1)[0]["elapsed_ms"] >= 200


# ================================================================= damaged answers

def _real_and_damaged(fake, do: dict, path="/api/v1/workflows", key="bulk") -> tuple[Wire, Wire]:
    fake.load([{"name": "damage", "match": {"headers": {"X-Damage": "yes"}}, "do": do}])
    real = wire(fake.port, "GET", path, fake.h(key))
    damaged = wire(fake.port, "GET", path, fake.h(key, **{"X-Damage": "yes"}))
    return real, damaged


@pytest.mark.parametrize("cut", [0, 40])
def test_truncated_body(fake, cut):
    real, damaged = _real_and_damaged(fake, {"truncate_at": cut})
    status, headers = damaged.head()
    assert status == 200 and real.eof and damaged.eof and damaged.error is None
    real_length = int(real.head()[1]["content-length"])
    assert len(real.body) == real_length > 1000
    assert int(headers["content-length"]) == real_length   # the head promised the whole body ...
    assert damaged.body == real.body[:cut]                  # ... then `cut` bytes and EOF
    fake.load([{"match": {"operation": "listWorkflows"}, "do": {"truncate_at": cut}}])
    with pytest.raises(httpx.RemoteProtocolError,
                       match=rf"received {cut} bytes, expected {real_length}"):
        fake.get("/api/v1/workflows")


def test_malformed_json_is_a_complete_response(fake):
    real, damaged = _real_and_damaged(fake, {"malformed_json": True})
    status, headers = damaged.head()
    assert status == 200 and damaged.eof and damaged.error is None
    assert int(headers["content-length"]) == len(damaged.body) > 0
    assert headers["content-type"] == JSON_CT
    with pytest.raises(json.JSONDecodeError):
        json.loads(damaged.body)
    assert json.loads(real.body)["data"] and real.body.startswith(damaged.body)
    assert len(damaged.body) < len(real.body)


def test_malformed_json_damages_production_s_own_errors(fake):
    fake.load([{"match": {"operation": "listWorkflows"}, "do": {"malformed_json": True}}])
    r = fake.get("/api/v1/workflows", None)  # no key: production's 401
    assert r.status_code == 401 and r.headers["content-length"] == str(len(r.content))
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert r.content.startswith(b'{"error":{"code":"')


def test_drip_sends_the_body_in_spaced_chunks(fake):
    real, damaged = _real_and_damaged(fake, {"drip": {"chunk_bytes": 400, "interval_ms": 80}})
    status, headers = damaged.head()
    assert status == 200 and damaged.eof
    assert len(damaged.body) == int(headers["content-length"]) == len(real.body)
    assert json.loads(damaged.body)["data"] == json.loads(real.body)["data"]
    chunks = math.ceil(len(damaged.body) / 400)
    assert chunks >= 4
    arrivals = damaged.body_arrivals()
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len([g for g in gaps if g >= 0.05]) >= chunks - 2, arrivals
    assert arrivals[-1] - arrivals[0] >= (chunks - 1) * 0.08 * 0.8
    real_arrivals = real.body_arrivals()
    assert real_arrivals[-1] - real_arrivals[0] < 0.15   # without the fault it comes at once


def _sse(fake, execution, damage: bool, deadline: float) -> Wire:
    headers = fake.h(**({"X-Damage": "yes"} if damage else {}))
    return wire(fake.port, "GET", f"/api/v1/executions/{execution.id}/events", headers, deadline=deadline)


def test_sse_cut_before_the_first_event_of_a_finished_execution(fake):
    fake.load([{"name": "cut", "match": {"headers": {"X-Damage": "yes"}}, "do": {"sse_cut_after": 0}}])
    done = fake.owned("executions", status="completed")
    whole = _sse(fake, done, damage=False, deadline=3)
    payload, terminated = dechunk(whole.body)
    assert whole.head()[0] == 200 and whole.eof and terminated
    assert payload.startswith(b"event: execution:completed\ndata: ") and payload.count(b"event:") == 1
    cut = _sse(fake, done, damage=True, deadline=3)
    status, headers = cut.head()
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert cut.eof and cut.error is None and cut.body == b""     # head, then EOF: no event, no last chunk
    assert cut.pieces[-1][0] < 0.4 <= whole.pieces[-1][0]        # cut at once; the whole stream ends after 500 ms
    assert [(e["status"], e["fault"]) for e in fake.journal(2)] == [(200, None), (200, "cut")]


def test_sse_cut_before_the_first_event_of_a_live_execution(fake):
    fake.load([{"match": {"headers": {"X-Damage": "yes"}}, "do": {"sse_cut_after": 0}}])
    running = fake.owned("executions", status="running")
    held = _sse(fake, running, damage=False, deadline=0.4)
    payload, terminated = dechunk(held.body)
    assert not held.eof and not terminated          # a live stream stays open ...
    assert payload.startswith(b"event: connected\n") and payload.count(b": keepalive\n\n") >= 2  # ... with keep-alives
    cut = _sse(fake, running, damage=True, deadline=2)
    assert cut.head()[0] == 200 and cut.eof and cut.body == b""
    assert [e["status"] for e in fake.journal(2)] == [200, 200]  # the held stream ended when the client left


def test_sse_cut_after_the_first_event(fake):
    fake.load([{"match": {"headers": {"X-Damage": "yes"}}, "do": {"sse_cut_after": 1}}])
    running = fake.owned("executions", status="running")
    cut = _sse(fake, running, damage=True, deadline=1.5)
    fake.journal(1)
    payload, terminated = dechunk(cut.body)
    assert cut.eof and not terminated
    assert payload.startswith(b"event: connected\n") and b"keepalive" not in payload


def test_sse_cut_after_the_event_of_a_finished_execution(fake):
    fake.load([{"match": {"headers": {"X-Damage": "yes"}}, "do": {"sse_cut_after": 1}}])
    done = fake.owned("executions", status="completed")
    cut = _sse(fake, done, damage=True, deadline=3)
    payload, terminated = dechunk(cut.body)
    assert cut.head()[0] == 200 and cut.eof and not terminated
    assert payload.startswith(b"event: execution:completed\ndata: ") and payload.endswith(b"\n\n")
    assert payload.count(b"event:") == 1
    assert cut.pieces[-1][0] < 0.4   # cut right after the event, not when the stream would end (500 ms)


def test_sse_cut_after_counts_events_not_keepalives(fake):
    # a live stream sends one event (`connected`), then only keep-alives: with N = 2 it is never cut
    fake.load([{"match": {"headers": {"X-Damage": "yes"}}, "do": {"sse_cut_after": 2}}])
    running = fake.owned("executions", status="running")
    held = _sse(fake, running, damage=True, deadline=0.4)
    payload, terminated = dechunk(held.body)
    assert not held.eof and not terminated
    assert payload.startswith(b"event: connected\n") and payload.count(b": keepalive\n\n") >= 2


def test_sse_cut_leaves_answers_that_are_not_streams_alone(fake):
    fake.load([{"match": {"operation": "streamExecutionEvents"}, "do": {"sse_cut_after": 0}}])
    r = fake.get(f"/api/v1/executions/{MISSING}/events")
    assert r.status_code == 404 and error_of(r)["code"] == "resource_not_found"


# ================================================================= when

def _statuses(fake, n: int, path="/api/v1/workflows", key="bulk") -> list[int]:
    return [fake.get(path, key).status_code for _ in range(n)]


@pytest.mark.parametrize("when,expected", [
    ({"first": 2}, [503, 503, 200, 200, 200]),
    ({"after": 2}, [200, 200, 503, 503, 503]),
    ({"every": 3}, [200, 200, 503, 200, 200, 503, 200]),
    ({"times": 2}, [503, 503, 200, 200]),
    ({"every": 2, "times": 2}, [200, 503, 200, 503, 200, 200, 200, 200]),
    ({"after": 1, "first": 3}, [200, 503, 503, 200, 200]),
    ({"probability": 0}, [200] * 6),
    ({"probability": 1}, [503] * 6),
])
def test_when(fake, when, expected):
    fake.load([{"name": "r", "match": {"operation": "listWorkflows"}, "when": when, "do": UNAVAILABLE}])
    assert _statuses(fake, len(expected)) == expected
    summary = fake.state.faults.rules[0].summary()
    assert (summary["seen"], summary["hits"]) == (len(expected), expected.count(503))


def test_counts_are_of_matching_requests_only(fake):
    fake.load([{"match": {"operation": "listWorkflows"}, "when": {"every": 2}, "do": UNAVAILABLE}])
    seen = []
    for _ in range(4):
        seen.append(fake.get("/api/v1/workflows").status_code)
        assert fake.get("/api/v1/agents").status_code == 200
    assert seen == [200, 503, 200, 503]


def _probability_sequence(fake, seed: int, noise: bool = False) -> list[int]:
    fake.load([{"match": {"operation": "listWorkflows"}, "when": {"probability": 0.5}, "do": UNAVAILABLE},
               {"match": {"operation": "listAgents"}, "when": {"probability": 0.5}, "do": UNAVAILABLE}], seed=seed)
    out = []
    for i in range(24):
        out.append(fake.get("/api/v1/workflows").status_code)
        if noise and i % 3 == 0:  # other rules' draws do not disturb this rule's sequence
            fake.get("/api/v1/agents"), fake.get("/api/v1/triggers")
    return out


def test_probability_is_seeded(fake):
    first = _probability_sequence(fake, seed=3)
    assert set(first) == {200, 503} and 6 <= first.count(503) <= 18
    assert _probability_sequence(fake, seed=3) == first
    assert _probability_sequence(fake, seed=3, noise=True) == first
    other = _probability_sequence(fake, seed=4)
    assert other != first and set(other) == {200, 503}


def test_from_and_until_follow_the_fake_clock(fake):
    fake.load([{"match": {"operation": "listWorkflows"},
                "when": {"from": "2026-10-10T11:00:00Z", "until": "2026-10-10T12:00:00Z"}, "do": UNAVAILABLE}])
    clock, seen = fake.state.clock, []
    for at in ("2026-10-10T10:59:59.999Z", "2026-10-10T11:00:00Z", "2026-10-10T11:59:59.999Z",
               "2026-10-10T12:00:00Z", "2026-10-10T11:30:00Z"):
        clock.set(parse_instant(at))
        seen.append(fake.get("/api/v1/workflows").status_code)
    assert seen == [200, 503, 503, 200, 503]


def test_from_and_until_with_a_zone(fake):
    fake.load([{"match": {"operation": "listWorkflows"}, "when": {"from": "2026-10-10T12:10:10.010+02:00"},
                "do": UNAVAILABLE},
               {"match": {"operation": "listAgents"}, "when": {"until": "2026-10-10 10:10:10.011"},
                "do": UNAVAILABLE}])
    assert fake.get("/api/v1/workflows").status_code == 503   # the same instant as FROZEN
    assert fake.get("/api/v1/agents").status_code == 503      # no zone: UTC
    fake.state.clock.advance(1)
    assert fake.get("/api/v1/agents").status_code == 200
    fake.state.clock.advance(-2)
    assert fake.get("/api/v1/workflows").status_code == 200


def test_from_and_until_in_epoch_milliseconds(fake):
    fake.load([{"match": {"operation": "listAgents"}, "when": {"from": FROZEN - 1, "until": FROZEN + 1},
                "do": UNAVAILABLE}])
    assert _fires(fake.get("/api/v1/agents"))
    fake.state.clock.advance(1)
    assert fake.get("/api/v1/agents").status_code == 200


def test_during_ms_counts_from_the_first_matching_request(fake):
    fake.load([{"match": {"operation": "listWorkflows"}, "when": {"during_ms": 1000}, "do": UNAVAILABLE}])
    clock = fake.state.clock
    clock.advance(5000)  # time before the first matching request does not count
    assert fake.get("/api/v1/agents").status_code == 200
    seen = [fake.get("/api/v1/workflows").status_code]
    clock.advance(999)
    seen.append(fake.get("/api/v1/workflows").status_code)
    clock.advance(1)
    seen.append(fake.get("/api/v1/workflows").status_code)
    assert seen == [503, 503, 200]


def test_first_rule_that_fires_decides_and_disabled_rules_sleep(fake):
    fake.load([{"name": "off", "enabled": False, "do": {"error": "internal_error"}},
               {"name": "once", "match": {"operation": "listWorkflows"}, "when": {"first": 1},
                "do": {"error": "service_unavailable"}},
               {"name": "always", "match": {"path": "/api/v1/*"}, "do": {"status": 418}}])
    assert [fake.get("/api/v1/workflows").status_code for _ in range(2)] == [503, 418]
    assert [e["fault"] for e in fake.journal(2)] == ["once", "always"]
    assert fake.state.faults.rules[0].summary()["seen"] == 0


# ================================================================= match

def _fires(response: httpx.Response) -> bool:
    return response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"


def test_match_operation(fake):
    wf = fake.owned("workflows")
    fake.load([{"match": {"operation": ["getWorkflow", "getAgent"]}, "do": UNAVAILABLE}])
    assert _fires(fake.get(f"/api/v1/workflows/{wf.id}")) and _fires(fake.get(f"/api/v1/agents/{MISSING}"))
    assert fake.get("/api/v1/workflows").status_code == 200


def test_match_method_is_case_insensitive(fake):
    hook = fake.owned("webhooks")
    fake.load([{"match": {"path": "/api/v1/webhooks*", "method": ["post", "Delete"]}, "do": UNAVAILABLE}])
    assert _fires(fake.http.post("/api/v1/webhooks", headers=fake.h(), json={}))
    assert _fires(fake.http.delete(f"/api/v1/webhooks/{hook.id}", headers=fake.h()))
    assert fake.get("/api/v1/webhooks").status_code == 200
    assert fake.http.patch(f"/api/v1/webhooks/{hook.id}", headers=fake.h(), json={"name": "n"}).status_code == 200


def test_match_path_glob(fake):
    wf = fake.owned("workflows")
    fake.load([{"match": {"path": "/api/v1/workflows/*"}, "do": UNAVAILABLE}])
    assert _fires(fake.get(f"/api/v1/workflows/{wf.id}"))
    assert _fires(fake.http.post(f"/api/v1/workflows/{wf.id}/execute", headers=fake.h(), json={}))
    assert fake.get("/api/v1/workflows").status_code == 200
    assert fake.get("/api/v1/agents").status_code == 200


def test_match_key_and_tenant(fake):
    other_ws = fake.state.store.key_by_name("other-workspace").workspace_id
    fake.load([{"match": {"key": ["read-only", "workflows-read"]}, "do": UNAVAILABLE},
               {"match": {"tenant": other_ws}, "do": {"error": "internal_error"}}])
    assert _fires(fake.get("/api/v1/workflows", "read-only"))
    assert _fires(fake.get("/api/v1/workflows", "workflows-read"))
    assert fake.get("/api/v1/workflows", "bulk").status_code == 200
    assert fake.get("/api/v1/workflows", None).status_code == 401  # no key: no key name to match
    assert error_of(fake.get("/api/v1/workflows", "other-workspace"))["code"] == "internal_error"
    assert [e["tenant"] for e in fake.journal(5)][-1] == other_ws


def test_match_headers(fake):
    fake.load([{"match": {"headers": {"X-Client": "ci", "x-run": "7"}}, "do": UNAVAILABLE}])
    assert _fires(fake.get("/api/v1/workflows", **{"x-client": "ci", "X-Run": "7"}))
    assert not _fires(fake.get("/api/v1/workflows", **{"X-Client": "CI", "X-Run": "7"}))  # values are exact
    assert not _fires(fake.get("/api/v1/workflows", **{"X-Client": "ci"}))               # all must match
    assert not _fires(fake.get("/api/v1/workflows"))


def test_match_query(fake):
    fake.load([{"match": {"operation": "listExecutions", "query": {"status": "failed"}}, "do": UNAVAILABLE},
               {"match": {"operation": "listWorkflows", "query": {"tag": "a,b"}}, "do": UNAVAILABLE}])
    assert _fires(fake.http.get("/api/v1/executions?status=failed&page=1", headers=fake.h()))
    assert fake.http.get("/api/v1/executions?status=completed", headers=fake.h()).status_code == 200
    assert fake.http.get("/api/v1/executions", headers=fake.h()).status_code == 200
    assert _fires(fake.http.get("/api/v1/workflows?tag=a&tag=b", headers=fake.h()))  # repeated: joined by ","
    assert fake.http.get("/api/v1/workflows?tag=a", headers=fake.h()).status_code == 200


def test_match_body_dotted_path(fake):
    wf = fake.owned("workflows")
    fake.load([{"match": {"operation": "executeWorkflow", "body": {"inputs.topic": "boom"}}, "do": UNAVAILABLE},
               {"match": {"operation": "executeWorkflow", "body": {"inputs.retries": 3, "inputs.dry": True}},
                "do": UNAVAILABLE}])
    path = f"/api/v1/workflows/{wf.id}/execute"
    assert _fires(fake.http.post(path, headers=fake.h(), json={"inputs": {"topic": "boom"}}))
    assert _fires(fake.http.post(path, headers=fake.h(), json={"inputs": {"retries": 3, "dry": True}}))
    assert not _fires(fake.http.post(path, headers=fake.h(), json={"inputs": {"retries": 3, "dry": False}}))
    assert not _fires(fake.http.post(path, headers=fake.h(), json={"inputs": {"topic": "fine"}}))
    assert not _fires(fake.http.post(path, headers=fake.h(), json={"topic": "boom"}))


# ================================================================= determinism

DETERMINISM_FAULTS = [
    {"name": "sometimes", "match": {"operation": "listWorkflows"}, "when": {"probability": 0.5},
     "do": {"error": "service_unavailable", "latency": {"uniform_ms": [1, 15]}}},
    {"name": "jitter", "match": {"path": "/api/v1/agents*"},
     "do": {"latency": {"lognormal": {"median_ms": 3, "sigma": 0.5}}}},
    {"name": "drop", "match": {"operation": "listTriggers"}, "when": {"every": 3}, "do": {"connection": "close"}},
    {"name": "rst", "match": {"operation": "listWebhooks"}, "when": {"probability": 0.3},
     "do": {"connection": "reset"}},
    {"name": "cut", "match": {"operation": "listExecutions"}, "when": {"first": 2}, "do": {"truncate_at": 5}},
    {"name": "throttle", "match": {"key": "read-only"}, "when": {"probability": 0.4},
     "do": {"error": "rate_limit_exceeded"}},
]
SCRIPT = [("/api/v1/workflows", "bulk"), ("/api/v1/agents", "bulk"), ("/api/v1/triggers", "bulk"),
          ("/api/v1/webhooks", "bulk"), ("/api/v1/executions", "bulk"), ("/api/v1/workflows", "read-only"),
          ("/api/v1/knowledge-bases", "read-only"), ("/api/v1/nope", "bulk")] * 4


def _replay(seed: int) -> list[dict]:
    app = create_app(scenario(DETERMINISM_FAULTS, seed=seed), clock=Clock(FROZEN))
    with serve_in_thread(app) as running:
        for path, key in SCRIPT:
            wire(running.port, "GET", path, {"X-API-Key": running.key(key)}, deadline=3)
        end = time.monotonic() + 3
        while len(app.state.fake.journal.entries) < len(SCRIPT) and time.monotonic() < end:
            time.sleep(0.005)
        entries = [e.as_dict() for e in app.state.fake.journal.entries]
    for entry in entries:
        del entry["elapsed_ms"]
    return entries


def test_the_same_seed_gives_the_same_journal():
    first, second = _replay(seed=21), _replay(seed=21)
    assert len(first) == len(SCRIPT)
    assert first == second
    faults = {e["fault"] for e in first}
    assert {"sometimes", "jitter", "drop", "cut"} <= faults and None in faults
    assert {e["status"] for e in first} >= {200, 503, 404, None}
    other = _replay(seed=22)
    assert other != first
    assert [(e["path"], e["key"]) for e in other] == [(e["path"], e["key"]) for e in first]


# ================================================================= reset after faults

LISTS = ("workflows", "executions", "agents", "triggers", "knowledge-bases", "webhooks")


def _rendered(get) -> dict:
    out = {}
    for name in LISTS:
        body = get(f"/api/v1/{name}?per_page=100").json()
        out[name] = (body["data"], body["pagination"])
    for hook in out["webhooks"][0]:
        out[f"deliveries:{hook['id']}"] = get(f"/api/v1/webhooks/{hook['id']}/deliveries?per_page=100").json()["data"]
    return out


def _fresh_render(faults: list) -> dict:
    app = create_app(scenario(faults), clock=Clock(FROZEN))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        key = {"X-API-Key": app.state.fake.store.key_by_name("bulk").raw}
        return _rendered(lambda path: client.get(path, headers=key))


@pytest.mark.parametrize("do", [
    {"connection": "reset"}, {"connection": "close"}, {"truncate_at": 3}, {"malformed_json": True},
    {"drip": {"chunk_bytes": 64, "interval_ms": 1}}, {"error": "internal_error"}, {"status": 418},
    {"latency": {"fixed_ms": 5}},
], ids=lambda do: next(iter(do)) + ("-" + str(do["connection"]) if "connection" in do else ""))
def test_reset_after_a_fault_restores_a_fresh_store(fake, do):
    faults = [{"name": "posts", "match": {"method": "POST"}, "do": do}]
    fake.load(faults)
    fresh = _fresh_render(faults)
    wf, hook = fake.owned("workflows"), fake.owned("webhooks")
    wire(fake.port, "POST", "/api/v1/webhooks", fake.h(),
         json.dumps({"name": "n", "url": "http://127.0.0.1:9/x", "events": ["execution.started"]}).encode())
    wire(fake.port, "POST", f"/api/v1/workflows/{wf.id}/execute", fake.h(), b'{"inputs": {"topic": "t"}}')
    assert fake.http.patch(f"/api/v1/webhooks/{hook.id}", headers=fake.h(), json={"name": "renamed"}).status_code == 200
    fake.journal(3)
    assert fake.state.faults.rules[0].hits == 2
    assert _rendered(lambda path: fake.http.get(path, headers=fake.h())) != fresh

    fake.state.reset()
    assert not fake.state.journal.entries and fake.state.faults.rules[0].summary()["seen"] == 0
    first = fake.get("/api/v1/agents", "full")
    assert first.headers["x-ratelimit-remaining"] == "59" and first.headers["x-ratelimit-remaining-day"] == "9999"
    assert _rendered(lambda path: fake.http.get(path, headers=fake.h())) == fresh


def test_after_reset_the_same_requests_give_the_same_journal(fake):
    fake.load([{"name": "every-2", "match": {"operation": "listWorkflows"}, "when": {"every": 2}, "do": UNAVAILABLE}])

    def run() -> list[dict]:
        for path in ("/api/v1/workflows", "/api/v1/workflows", "/api/v1/agents"):
            fake.get(path)
        entries = fake.journal(3)
        for entry in entries:
            del entry["elapsed_ms"]
        return entries

    first = run()
    fake.state.reset()
    assert run() == first

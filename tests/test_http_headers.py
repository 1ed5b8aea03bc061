"""Headers and envelopes on every response (CONTRACT.md §1.3, §1.4, §1.5, §1.8, §6)
and the SSE wire format (§7), the latter over a real socket on 127.0.0.1."""
from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

import httpx
import pytest

from fakemaestro import messages
from fakemaestro.testing import serve_in_thread

from .conftest import make_app

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
JSON_CT = "application/json; charset=utf-8"
ALLOW_METHODS = "GET, POST, PUT, DELETE, PATCH, OPTIONS"
ALLOW_HEADERS = "Content-Type, Authorization, X-Session-ID, X-Workspace-Id, X-Requested-With, Accept, Origin"
SSE_HEAD = {"content-type": "text/event-stream", "cache-control": "no-cache", "connection": "keep-alive",
            "x-accel-buffering": "no"}


def h(keys, name="bulk", **extra) -> dict:
    return {"X-API-Key": keys[name], **extra}


def first_id(client, keys, collection: str) -> str:
    return client.get(f"/api/v1/{collection}", headers=h(keys)).json()["data"][0]["id"]


def owned_workflow(client, keys) -> str:
    """A listed workflow the key's user owns (get is user-scoped, the list is workspace-scoped)."""
    owner = client.app.state.fake.store.key_by_name("bulk").user_id
    workflows = client.app.state.fake.store.workflows
    return next(w["id"] for w in client.get("/api/v1/workflows", headers=h(keys)).json()["data"]
                if workflows[w["id"]].user_id == owner)


def hook_with_deliveries(client, keys) -> str:
    store = client.app.state.fake.store
    return next(w["id"] for w in client.get("/api/v1/webhooks", headers=h(keys)).json()["data"]
                if len(store.deliveries[w["id"]]) > 0)


# ================================================================= request ids


def test_request_id_is_echoed(client, keys):
    response = client.get("/api/v1/agents", headers=h(keys, **{"X-Request-ID": "my-req-123"}))
    assert response.headers["x-request-id"] == "my-req-123"
    assert response.json()["meta"]["request_id"] != "my-req-123"


def test_request_id_is_a_fresh_uuid4_when_absent(client, keys):
    first = client.get("/api/v1/agents", headers=h(keys))
    second = client.get("/api/v1/agents", headers=h(keys))
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(UUID4.match(i) for i in ids)
    assert ids[0] != ids[1]
    # meta.request_id is another, independent UUID
    assert first.json()["meta"]["request_id"] != ids[0]
    assert second.json()["meta"]["request_id"] != ids[1]
    assert UUID4.match(first.json()["meta"]["request_id"])


def test_trace_id_is_echoed_or_fresh(client, keys):
    echoed = client.get("/api/v1/agents", headers=h(keys, **{"X-Trace-ID": "my-trace-456"}))
    assert echoed.headers["x-trace-id"] == "my-trace-456"
    fresh = [client.get("/api/v1/agents", headers=h(keys)).headers["x-trace-id"] for _ in range(2)]
    assert all(UUID4.match(t) for t in fresh) and fresh[0] != fresh[1]


def test_request_and_trace_ids_are_independent(client, keys):
    response = client.get("/api/v1/agents", headers=h(keys))
    assert response.headers["x-request-id"] != response.headers["x-trace-id"]
    response = client.get("/api/v1/agents", headers=h(keys, **{"X-Request-ID": "r"}))
    assert response.headers["x-request-id"] == "r" and UUID4.match(response.headers["x-trace-id"])


@pytest.mark.parametrize("kind", ["401", "403", "404-envelope", "404-route", "500-fde", "415", "500-json"])
def test_request_ids_on_error_responses(client, keys, kind):
    sent = {"X-Request-ID": f"rid-{kind}", "X-Trace-ID": f"tid-{kind}"}
    if kind == "401":
        response = client.get("/api/v1/workflows", headers=sent)
    elif kind == "403":
        response = client.get("/api/v1/agents", headers={**sent, "X-API-Key": keys["workflows-read"]})
    elif kind == "404-envelope":
        response = client.get(f"/api/v1/workflows/{uuid.uuid4()}", headers=h(keys, **sent))
    elif kind == "404-route":
        response = client.get("/api/v1/nope", headers=sent)
    elif kind == "500-fde":
        response = client.get("/api/v1/workflows/nope", headers=h(keys, **sent))
    elif kind == "415":
        response = client.post("/api/v1/webhooks", headers={**sent, "Content-Type": "application/xml"}, content=b"<a/>")
    else:
        response = client.post("/api/v1/webhooks", headers={**sent, "Content-Type": "application/json"}, content=b"{")
    assert response.status_code >= 400
    assert response.headers["x-request-id"] == sent["X-Request-ID"]
    assert response.headers["x-trace-id"] == sent["X-Trace-ID"]


# ================================================================= CORS on ordinary responses


@pytest.mark.parametrize("origin", ["https://example.test", "http://localhost:3000", "null", "https://evil.example"])
def test_cors_echoes_any_origin(client, keys, origin):
    response = client.get("/api/v1/workflows", headers=h(keys, Origin=origin))
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-Correlation-ID"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-methods" not in response.headers
    assert "x-correlation-id" not in response.headers  # exposed, never set


def test_cors_without_origin(client, keys):
    response = client.get("/api/v1/workflows", headers=h(keys))
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-Correlation-ID"
    assert response.headers["vary"] == "Origin"


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/api/v1/nope", "/api/v1/workflows/nope"])
def test_cors_on_errors_too(client, path):
    response = client.get(path, headers={"Origin": "https://example.test"})
    assert response.status_code in (401, 404)
    assert response.headers["access-control-allow-origin"] == "https://example.test"
    assert response.headers["vary"] == "Origin"


# ================================================================= preflight


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/api/v1/nope", f"/api/v1/executions/{uuid.uuid4()}/cancel", "/"])
def test_preflight(client, path):
    response = client.options(path, headers={"Origin": "https://example.test",
                                             "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "x-api-key,content-type"})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-methods"] == ALLOW_METHODS
    assert response.headers["access-control-allow-headers"] == ALLOW_HEADERS  # no X-API-Key
    assert response.headers["access-control-allow-origin"] == "https://example.test"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"
    for absent in ("x-request-id", "x-trace-id", "access-control-max-age", "x-ratelimit-limit", "content-type"):
        assert absent not in response.headers


def test_preflight_needs_no_key_and_ignores_a_bad_one(client):
    response = client.options("/api/v1/workflows", headers={"Origin": "https://a.test", "X-API-Key": "sk_bad",
                                                           "Access-Control-Request-Method": "GET"})
    assert response.status_code == 204


def test_preflight_does_not_echo_the_requested_headers(client):
    response = client.options("/api/v1/workflows", headers={"Origin": "https://a.test",
                                                           "Access-Control-Request-Method": "DELETE",
                                                           "Access-Control-Request-Headers": "X-Custom"})
    assert response.headers["access-control-allow-headers"] == ALLOW_HEADERS
    assert response.headers["access-control-allow-methods"] == ALLOW_METHODS


@pytest.mark.parametrize("headers", [{"Origin": "https://example.test"}, {}], ids=["with-origin", "bare"])
def test_options_without_request_method_is_400_text(client, headers):
    response = client.options("/api/v1/workflows", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == messages.INVALID_PREFLIGHT == "Invalid Preflight Request"


# ================================================================= HEAD


def asgi(app, method: str, path: str, headers: dict) -> tuple[int, dict[str, str], bytes]:
    """Call the ASGI app directly, to see the body bytes it sends (HTTP clients drop a
    HEAD response's body before a test could see it)."""
    sent: list[dict] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/api/v1/nope", "/api/v1/workflows/nope"])
@pytest.mark.parametrize("auth", [True, False], ids=["key", "no-key"])
def test_head_sends_no_body_bytes(app, keys, path, auth):
    headers = {"X-API-Key": keys["bulk"]} if auth else {}
    status, head_headers, body = asgi(app, "HEAD", path, headers)
    get_status, _, get_body = asgi(app, "GET", path, headers)
    assert status == get_status
    assert body == b""
    # a route 404 names the method it got: "Route HEAD:/api/v1/nope not found"
    assert head_headers["content-length"] == str(len(get_body.replace(b"Route GET:", b"Route HEAD:")))


@pytest.mark.parametrize("path", ["/api/v1/workflows", "/api/v1/workflows?page=2&per_page=2", "one-workflow"])
def test_head_returns_the_gets_headers_without_a_body(client, keys, path):
    if path == "one-workflow":
        path = f"/api/v1/workflows/{owned_workflow(client, keys)}"
    get = client.get(path, headers=h(keys))
    head = client.head(path, headers=h(keys))
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == get.headers["content-type"] == JSON_CT
    assert sorted(head.headers.keys()) == sorted(get.headers.keys())
    assert int(head.headers["x-ratelimit-remaining"]) == int(get.headers["x-ratelimit-remaining"]) - 1


def test_head_runs_auth_and_scopes(client, keys):
    assert client.head("/api/v1/workflows").status_code == 401
    forbidden = client.head("/api/v1/agents", headers=h(keys, "workflows-read"))
    assert forbidden.status_code == 403 and forbidden.content == b""
    body = client.get("/api/v1/agents", headers=h(keys, "workflows-read")).content
    assert forbidden.headers["content-length"] == str(len(body))


def test_head_on_an_invalid_id_is_the_fde(client, keys):
    head = client.head("/api/v1/workflows/nope", headers=h(keys))
    assert head.status_code == 500 and head.content == b""
    get = client.get("/api/v1/workflows/nope", headers=h(keys))
    assert head.headers["content-length"] == str(len(get.content))


# ================================================================= envelopes


def test_single_resource_envelope(client, keys):
    response = client.get(f"/api/v1/workflows/{owned_workflow(client, keys)}", headers=h(keys))
    body = response.json()
    assert response.headers["content-type"] == JSON_CT
    assert list(body) == ["data", "meta"]
    assert list(body["meta"]) == ["request_id", "timestamp"]


def test_paginated_envelope(client, keys):
    body = client.get("/api/v1/workflows", headers=h(keys)).json()
    assert list(body) == ["data", "pagination", "meta"]
    assert list(body["pagination"]) == ["page", "per_page", "total_count", "total_pages", "has_next", "has_prev"]
    assert "has_more" not in body["pagination"]
    assert list(body["meta"]) == ["request_id", "timestamp"]


def test_error_envelope_without_details(client):
    body = client.get("/api/v1/workflows").json()
    assert list(body) == ["error", "meta"]
    assert list(body["error"]) == ["code", "message"]
    assert list(body["meta"]) == ["request_id", "timestamp"]


def test_error_envelope_with_details(client, keys):
    missing = str(uuid.uuid4())
    body = client.get(f"/api/v1/workflows/{missing}", headers=h(keys)).json()
    assert list(body) == ["error", "meta"]
    assert list(body["error"]) == ["code", "message", "details"]
    assert list(body["error"]["details"]) == ["resource", "id"]
    assert body["error"]["details"] == {"resource": "Workflow", "id": missing}


def test_validation_error_has_no_details(client, keys):
    body = client.post("/api/v1/webhooks", headers=h(keys), json={}).json()
    assert list(body["error"]) == ["code", "message"]


def test_meta_is_fresh_per_response(client, keys):
    ids = {client.get("/api/v1/agents", headers=h(keys)).json()["meta"]["request_id"] for _ in range(3)}
    assert len(ids) == 3 and all(UUID4.match(i) for i in ids)


def test_meta_timestamp_is_the_clock_in_iso_ms(client, app, keys):
    app.state.fake.clock.freeze(1795872774123)
    for response in (client.get("/api/v1/agents", headers=h(keys)), client.get("/api/v1/workflows"),
                     client.get(f"/api/v1/agents/{uuid.uuid4()}", headers=h(keys))):
        assert response.json()["meta"]["timestamp"] == "2026-11-28T13:32:54.123Z"
    app.state.fake.clock.set(1795872774000)
    assert client.get("/api/v1/agents", headers=h(keys)).json()["meta"]["timestamp"] == "2026-11-28T13:32:54.000Z"


# ================================================================= timestamps and ids in data


def _walk(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, path + (i,))
    else:
        yield path, node


def _bodies(client, keys):
    wf = owned_workflow(client, keys)
    agent = first_id(client, keys, "agents")
    kb = first_id(client, keys, "knowledge-bases")
    hook = hook_with_deliveries(client, keys)
    execution = first_id(client, keys, "executions")
    store_threads = [t for t in client.app.state.fake.store.threads.values()]
    urls = ["/api/v1/workflows", f"/api/v1/workflows/{wf}", "/api/v1/executions", f"/api/v1/executions/{execution}",
            "/api/v1/agents", f"/api/v1/agents/{agent}", f"/api/v1/agents/{agent}/memory",
            f"/api/v1/agents/{agent}/memory/stats", "/api/v1/triggers", "/api/v1/knowledge-bases",
            f"/api/v1/knowledge-bases/{kb}", "/api/v1/webhooks", f"/api/v1/webhooks/{hook}"]
    urls += [f"/api/v1/threads/{t.id}" for t in store_threads[:2]]
    urls += [f"/api/v1/threads/{t.id}/messages" for t in store_threads[:2]]
    for url in urls:
        response = client.get(url, headers=h(keys))
        assert response.status_code == 200, (url, response.text)
        yield url, response.json()
    created = client.post("/api/v1/webhooks", headers=h(keys),
                          json={"name": "n", "url": "https://example.test/h", "events": ["execution.started"]})
    yield "POST /webhooks", created.json()
    yield "POST threads", client.post(f"/api/v1/agents/{agent}/threads", headers=h(keys)).json()
    yield "POST execute", client.post(f"/api/v1/workflows/{wf}/execute", headers=h(keys), json={}).json()


def test_every_timestamp_has_iso_ms_format(client, keys):
    checked = 0
    for url, body in _bodies(client, keys):
        for path, value in _walk(body):
            name = path[-1] if path and isinstance(path[-1], str) else ""
            if (name.endswith("_at") or name == "timestamp") and value is not None:
                assert isinstance(value, str) and TIMESTAMP.match(value), (url, path, value)
                checked += 1
    assert checked > 50


def test_every_id_is_a_lowercase_uuid4(client, keys):
    checked = 0
    for url, body in _bodies(client, keys):
        for path, value in _walk(body):
            name = path[-1] if path and isinstance(path[-1], str) else ""
            if "tool_calls" in path:
                continue  # provider call ids, not database ids
            if (name == "id" or name.endswith("_id")) and value is not None:
                assert isinstance(value, str) and UUID4.match(value), (url, path, value)
                checked += 1
    assert checked > 50


def test_delivery_ids_are_digit_strings(client, keys):
    hook = hook_with_deliveries(client, keys)
    deliveries = client.get(f"/api/v1/webhooks/{hook}/deliveries", headers=h(keys)).json()["data"]
    assert deliveries
    assert all(isinstance(d["id"], str) and d["id"].isdigit() for d in deliveries)


# ================================================================= over a real socket


@pytest.fixture(scope="module")
def live():
    app = make_app()
    app.state.fake.settings.sse_keepalive_ms = 150
    with serve_in_thread(app) as running:
        with httpx.Client(base_url=running.base_url, trust_env=False, timeout=5) as http:
            yield running, http


def test_no_server_header_over_a_socket(live):
    running, http = live
    for response in (http.get("/api/v1/workflows", headers={"X-API-Key": running.key("bulk")}),
                     http.get("/api/v1/nope"), http.get("/api/v1/workflows"),
                     http.options("/api/v1/workflows", headers={"Origin": "https://a.test",
                                                               "Access-Control-Request-Method": "GET"})):
        assert "server" not in response.headers, response.headers
    ok = http.get("/api/v1/workflows", headers={"X-API-Key": running.key("bulk")})
    assert ok.headers["content-type"] == JSON_CT and UUID4.match(ok.headers["x-request-id"])


def test_malformed_json_closes_the_connection_over_a_socket(live):
    running, http = live
    response = http.post("/api/v1/webhooks", content=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 500
    assert response.headers["connection"].lower() == "close"


def _execution(running, status: str):
    store = running.state.store
    owner = store.key_by_name("bulk").user_id
    return next(e for e in store.executions.values()
                if e.status == status and store.workflows[e.workflow_id].user_id == owner)


def _sse_headers(response) -> dict[str, str]:
    return {k.decode().lower(): v.decode() for k, v in response.headers.raw}


NOISE = {"x-request-id": "r-1", "X-Trace-ID": "t-1", "Origin": "https://example.test"}


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_sse_for_a_finished_execution(live, status):
    running, http = live
    ex = _execution(running, status)
    headers = {"X-API-Key": running.key("bulk"), **NOISE}
    expected = http.get(f"/api/v1/executions/{ex.id}", headers=headers).json()["data"]
    started = time.monotonic()
    response = http.get(f"/api/v1/executions/{ex.id}/events", headers=headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    got = _sse_headers(response)
    assert {k: v for k, v in got.items() if k not in ("date", "transfer-encoding")} == SSE_HEAD
    assert got.get("transfer-encoding") == "chunked"
    payload = {"execution_id": ex.id, "status": status, "outputs": expected["outputs"], "error": expected["error"]}
    if expected["completed_at"] is not None:
        payload["completed_at"] = expected["completed_at"]
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    assert response.content == f"event: execution:{status}\ndata: {data}\n\n".encode()
    sent = json.loads(response.text.split("data: ", 1)[1])
    if status == "cancelled":  # production's cancel never sets completed_at: the key is omitted
        assert ex.completed_at is None
        assert list(sent) == ["execution_id", "status", "outputs", "error"]
    else:
        assert list(sent) == ["execution_id", "status", "outputs", "error", "completed_at"]
        assert TIMESTAMP.match(sent["completed_at"])
    assert "type" not in sent
    assert 0.45 <= elapsed < 2.0, elapsed  # closed about 500 ms after the single event


@pytest.mark.parametrize("status", ["pending", "running", "paused"])
def test_sse_for_a_live_execution_sends_connected_then_keepalives(live, status):
    running, http = live
    ex = _execution(running, status)
    received = b""
    started = time.monotonic()
    with http.stream("GET", f"/api/v1/executions/{ex.id}/events",
                     headers={"X-API-Key": running.key("bulk"), **NOISE}) as response:
        assert response.status_code == 200
        got = _sse_headers(response)
        assert {k: v for k, v in got.items() if k not in ("date", "transfer-encoding")} == SSE_HEAD
        for chunk in response.iter_raw():
            received += chunk
            if received.count(b": keepalive\n\n") >= 2 or time.monotonic() - started > 4:
                break
    connected = f'event: connected\ndata: {{"execution_id":"{ex.id}","status":"{status}"}}\n\n'.encode()
    assert received == connected + b": keepalive\n\n" * 2
    assert b"id:" not in received and b"retry:" not in received


def test_sse_live_stream_stays_open(live):
    running, http = live
    ex = _execution(running, "running")
    frames = []
    with http.stream("GET", f"/api/v1/executions/{ex.id}/events",
                     headers={"X-API-Key": running.key("bulk")}) as response:
        started = time.monotonic()
        for chunk in response.iter_raw():
            frames.append(chunk)
            if time.monotonic() - started > 0.8:
                break
    # 0.8 s at a 150 ms keep-alive: still streaming, only keep-alives after `connected`
    body = b"".join(frames)
    assert body.startswith(b"event: connected\n")
    assert body.count(b": keepalive\n\n") >= 3
    assert body.count(b"event:") == 1


def test_sse_not_found_is_a_json_envelope(live):
    running, http = live
    missing = str(uuid.uuid4())
    response = http.get(f"/api/v1/executions/{missing}/events", headers={"X-API-Key": running.key("bulk")})
    assert response.status_code == 404
    assert response.headers["content-type"] == JSON_CT
    assert response.json()["error"]["details"] == {"resource": "Execution", "id": missing}
    assert "x-ratelimit-limit" in response.headers and "x-request-id" in response.headers

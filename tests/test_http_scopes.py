"""Scope checks (CONTRACT.md §4, §4.1): every endpoint's required scopes, the 403
shape (required/missing in declared order, your_scopes in the key's order), and the
check's place in the pipeline (after auth and rate limit, before the handler)."""
from __future__ import annotations

import uuid

import pytest

from fakemaestro import messages
from fakemaestro.ids import key_hash
from fakemaestro.store.models import ApiKey

ID = "7f6c2b1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"  # a valid UUID that names nothing

# CONTRACT.md §4.1, in the table's order: (method, path, required scopes in declared order)
ENDPOINTS = [
    ("GET", "/workflows", ["workflows:read"]),
    ("GET", f"/workflows/{ID}", ["workflows:read"]),
    ("POST", f"/workflows/{ID}/execute", ["workflows:read", "workflows:execute"]),
    ("GET", "/executions", ["executions:read"]),
    ("GET", f"/executions/{ID}", ["executions:read"]),
    ("POST", f"/executions/{ID}/cancel", ["executions:read", "executions:cancel"]),
    ("GET", f"/executions/{ID}/events", ["executions:read"]),
    ("GET", "/agents", ["agents:read"]),
    ("GET", f"/agents/{ID}", ["agents:read"]),
    ("POST", f"/agents/{ID}/threads", ["agents:read", "threads:write"]),
    ("GET", f"/agents/{ID}/memory", ["agents:read"]),
    ("GET", f"/agents/{ID}/memory/{ID}", ["agents:read"]),
    ("PUT", f"/agents/{ID}/memory/{ID}", ["agents:read"]),
    ("DELETE", f"/agents/{ID}/memory/{ID}", ["agents:read"]),
    ("POST", f"/agents/{ID}/memory/search", ["agents:read"]),
    ("GET", f"/agents/{ID}/memory/stats", ["agents:read"]),
    ("GET", f"/threads/{ID}", ["threads:read"]),
    ("GET", f"/threads/{ID}/messages", ["threads:read"]),
    ("POST", f"/threads/{ID}/messages", ["agents:execute", "threads:write"]),
    ("DELETE", f"/threads/{ID}", ["threads:write"]),
    ("GET", "/triggers", ["triggers:read"]),
    ("POST", f"/triggers/{ID}/execute", ["triggers:read", "triggers:execute"]),
    ("GET", "/knowledge-bases", ["knowledge-bases:read"]),
    ("GET", f"/knowledge-bases/{ID}", ["knowledge-bases:read"]),
    ("POST", f"/knowledge-bases/{ID}/query", ["knowledge-bases:read", "knowledge-bases:query"]),
    ("GET", "/webhooks", ["webhooks:read"]),
    ("GET", f"/webhooks/{ID}", ["webhooks:read"]),
    ("POST", "/webhooks", ["webhooks:write"]),
    ("PATCH", f"/webhooks/{ID}", ["webhooks:write"]),
    ("DELETE", f"/webhooks/{ID}", ["webhooks:write"]),
    ("POST", f"/webhooks/{ID}/test", ["webhooks:write"]),
    ("GET", f"/webhooks/{ID}/deliveries", ["webhooks:read"]),
]
IDS = [f"{m} {p.replace(ID, ':id')}" for m, p, _ in ENDPOINTS]
ALL = ["workflows:read", "workflows:execute", "executions:read", "executions:cancel",
       "agents:read", "agents:execute", "threads:read", "threads:write",
       "triggers:read", "triggers:execute", "knowledge-bases:read", "knowledge-bases:query",
       "webhooks:read", "webhooks:write"]


def add_key(app, scopes: list[str]) -> str:
    """A new key of the default scenario's owner/workspace with exactly these scopes."""
    store = app.state.fake.store
    full = store.key_by_name("full")
    raw = "fm_live_" + uuid.uuid4().hex[:32]
    store.add_key(ApiKey(id=str(uuid.uuid4()), name=f"test-{raw[-6:]}", raw=raw, key_hash=key_hash(raw),
                         user_id=full.user_id, workspace_id=full.workspace_id, scopes=list(scopes),
                         per_minute=1_000_000, per_day=100_000_000))
    return raw


def call(client, raw, method, path, **kw):
    return client.request(method, "/api/v1" + path, headers={"X-API-Key": raw}, **kw)


def assert_403(response, required, missing, yours) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert list(body) == ["error", "meta"]
    assert list(body["error"]) == ["code", "message", "details"]
    assert body["error"]["code"] == "insufficient_scope"
    assert body["error"]["message"] == messages.MISSING_SCOPES.format(missing=", ".join(missing))
    assert list(body["error"]["details"]) == ["required_scopes", "missing_scopes", "your_scopes"]
    assert body["error"]["details"] == {"required_scopes": required, "missing_scopes": missing,
                                        "your_scopes": yours}
    assert "x-ratelimit-remaining" in response.headers


@pytest.mark.parametrize("method, path, required", ENDPOINTS, ids=IDS)
def test_a_key_without_scopes_gets_403_listing_all_required(client, app, method, path, required):
    raw = add_key(app, [])
    assert_403(call(client, raw, method, path), required, required, [])


@pytest.mark.parametrize("method, path, required", ENDPOINTS, ids=IDS)
def test_all_scopes_but_the_required_ones(client, app, method, path, required):
    others = [s for s in ALL if s not in required]
    raw = add_key(app, others)
    assert_403(call(client, raw, method, path), required, required, others)


@pytest.mark.parametrize("method, path, required", [e for e in ENDPOINTS if len(e[2]) == 2],
                         ids=[i for i, e in zip(IDS, ENDPOINTS) if len(e[2]) == 2])
def test_each_of_two_required_scopes_is_needed(client, app, method, path, required):
    first, second = required
    assert_403(call(client, add_key(app, [first]), method, path), required, [second], [first])
    assert_403(call(client, add_key(app, [second]), method, path), required, [first], [second])


@pytest.mark.parametrize("method, path, required", ENDPOINTS, ids=IDS)
def test_exactly_the_required_scopes_pass_the_check(client, app, method, path, required):
    response = call(client, add_key(app, required), method, path)
    assert response.status_code != 403, response.text


def test_cancel_needs_executions_read_and_executions_cancel(client, app):
    path = f"/executions/{ID}/cancel"
    assert_403(call(client, add_key(app, ["executions:cancel"]), "POST", path),
               ["executions:read", "executions:cancel"], ["executions:read"], ["executions:cancel"])
    assert_403(call(client, add_key(app, ["executions:read"]), "POST", path),
               ["executions:read", "executions:cancel"], ["executions:cancel"], ["executions:read"])
    response = call(client, add_key(app, ["executions:read", "executions:cancel"]), "POST", path)
    assert response.status_code == 404
    assert response.json()["error"]["details"] == {"resource": "Execution", "id": ID}


def test_there_is_no_executions_write_scope(client, app, keys):
    # the read-only bundle (which includes executions:read) cannot cancel
    response = call(client, keys["read-only"], "POST", f"/executions/{ID}/cancel")
    assert response.status_code == 403
    assert response.json()["error"]["details"]["missing_scopes"] == ["executions:cancel"]


def test_your_scopes_keep_the_keys_order(client, app):
    scopes = ["webhooks:read", "executions:cancel", "agents:read", "threads:read"]
    response = call(client, add_key(app, scopes), "POST", f"/workflows/{ID}/execute")
    assert_403(response, ["workflows:read", "workflows:execute"], ["workflows:read", "workflows:execute"], scopes)


def test_missing_scopes_follow_the_declared_order_not_alphabetical(client, app):
    # declared read-then-execute; alphabetical order would put execute first
    yours = ["webhooks:read", "agents:read"]  # not sorted either
    response = call(client, add_key(app, yours), "POST", f"/triggers/{ID}/execute")
    assert_403(response, ["triggers:read", "triggers:execute"], ["triggers:read", "triggers:execute"], yours)
    assert response.json()["error"]["message"] == "Missing required scopes: triggers:read, triggers:execute"


def test_read_only_bundle_key(client, keys):
    read_only = ["workflows:read", "executions:read", "agents:read", "threads:read",
                 "triggers:read", "knowledge-bases:read", "webhooks:read"]
    response = call(client, keys["read-only"], "POST", "/webhooks", json={})
    assert_403(response, ["webhooks:write"], ["webhooks:write"], read_only)


def test_named_key_missing_scope(client, keys):
    response = call(client, keys["workflows-read"], "GET", "/agents")
    assert_403(response, ["agents:read"], ["agents:read"], ["workflows:read"])


# ----------------------------------------------------------------- memory writes under a read scope


def _agent_id(client, keys) -> str:
    return call(client, keys["bulk"], "GET", "/agents").json()["data"][0]["id"]


def test_memory_put_and_delete_need_only_agents_read(client, app, keys):
    agent = _agent_id(client, keys)
    user = str(uuid.uuid4())
    raw = add_key(app, ["agents:read"])
    put = call(client, raw, "PUT", f"/agents/{agent}/memory/{user}", json={"working_memory": "likes tea"})
    assert put.status_code == 200, put.text
    assert put.json()["data"]["working_memory"] == "likes tea"
    deleted = call(client, raw, "DELETE", f"/agents/{agent}/memory/{user}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"] == {"agent_id": agent, "user_id": user, "deleted": True}


def test_read_only_bundle_can_write_memory(client, keys):
    agent = _agent_id(client, keys)
    response = call(client, keys["read-only"], "PUT", f"/agents/{agent}/memory/{uuid.uuid4()}",
                    json={"working_memory": "x"})
    assert response.status_code == 200


# ----------------------------------------------------------------- place in the pipeline


def test_scope_check_runs_before_body_validation(client, keys):
    response = call(client, keys["read-only"], "POST", "/webhooks", json={"name": ""})
    assert response.status_code == 403


def test_scope_check_runs_before_the_lookup(client, keys):
    response = call(client, keys["workflows-read"], "GET", f"/agents/{ID}")
    assert response.status_code == 403


def test_scope_check_runs_before_the_uuid_parse(client, keys):
    response = call(client, keys["workflows-read"], "GET", "/agents/not-a-uuid")
    assert_403(response, ["agents:read"], ["agents:read"], ["workflows:read"])


def test_scope_check_runs_before_memory_put_validation(client, app):
    raw = add_key(app, ["threads:read"])
    response = call(client, raw, "PUT", f"/agents/{ID}/memory/{ID}", json={})
    assert_403(response, ["agents:read"], ["agents:read"], ["threads:read"])


def test_scope_check_does_not_apply_to_unknown_routes(client, keys):
    response = call(client, keys["workflows-read"], "GET", "/agents/x/threads")  # only POST exists
    assert response.status_code == 404
    assert response.json()["message"] == messages.ROUTE_NOT_FOUND.format(
        method="GET", url="/api/v1/agents/x/threads")


def test_forbidden_request_has_no_side_effects(client, app, keys):
    before = len(call(client, keys["bulk"], "GET", "/webhooks").json()["data"])
    response = call(client, keys["read-only"], "POST", "/webhooks",
                    json={"name": "n", "url": "https://example.test/h", "events": ["execution.started"]})
    assert response.status_code == 403
    assert len(call(client, keys["bulk"], "GET", "/webhooks").json()["data"]) == before

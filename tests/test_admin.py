"""The admin API under /_fakemaestro/: every endpoint in-process, a few over a real
server; its own error shape; all-or-nothing scenario loads; clock, faults, journal
and verify driving what the production API answers; token protection."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest
import yaml
from starlette.testclient import TestClient

from fakemaestro.admin import collections
from fakemaestro.clock import Clock, iso, parse_instant
from fakemaestro.journal import FILTERS, MAX_ENTRIES, BadFilterValue, Journal
from fakemaestro.scenario import build_store, load_scenario_text
from fakemaestro.scenario.marked import plain
from fakemaestro.testing import serve_in_thread

from .conftest import keys_of, make_app

A = "/_fakemaestro"
ROOT = Path(__file__).resolve().parents[1]
FROZEN = parse_instant("2026-03-02T10:00:30Z")
API_KEY_KEYS = ("name, id, key, user, workspace, scopes, bundle, per_minute, per_day, expires_at, revoked_at, "
                "revoked, inactive")

SMALL = """\
name: small
seed: 5
tenants:
  users:
    - {id: u-owner, email: owner@example.test}
  workspaces:
    - {id: ws-main, owner: u-owner}
  api_keys:
    - {name: ci, user: u-owner, workspace: ws-main, bundle: full-access}
    - {name: slow, user: u-owner, workspace: ws-main, scopes: [workflows:read], per_minute: 2}
data:
  workflows:
    - {id: 00000000-0000-4000-8000-000000000001, user: u-owner, workspace: ws-main, name: Nightly}
faults:
  - name: x-fail
    match: {headers: {X-Fail: "yes"}}
    do: {error: framework_500, message: injected}
"""

# an unknown key at line 5, column 41 (the `scope` key of the first API key)
UNKNOWN_KEY = """\
tenants:
  users: [{id: u}]
  workspaces: [{id: w}]
  api_keys:
    - {name: ci, user: u, workspace: w, scope: [workflows:read]}
"""

WF_DOWN = """\
faults:
  - name: wf-down
    match: {operation: listWorkflows, key: full}
    do: {error: framework_500, message: workflows are down}
"""


def _err(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["admin_error"], body  # never production's envelope
    assert set(body["admin_error"]) == {"code", "message", "details"}
    assert body["admin_error"]["code"] == code
    return body["admin_error"]


def _hdr(key: str, **extra) -> dict:
    return {"X-API-Key": key, **extra}


def _snapshot(state) -> dict:
    return {"scenario": state.scenario, "store": state.store, "faults": state.faults,
            "rules": [r.summary() for r in state.faults.rules],
            "journal": [e.as_dict() for e in state.journal.entries],
            "minute": dict(state.limiter._minute), "clock": state.clock.now_ms(),
            "webhooks": sorted(state.store.webhooks)}


@pytest.fixture
def small():
    app = make_app(load_scenario_text(SMALL, "small.yaml"), clock=Clock(FROZEN))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        c.fake = app.state.fake
        yield c


# ================================================================= health, documents, index

def test_health_reports_the_scenario_and_the_clock():
    app = make_app(clock=Clock(FROZEN))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        r = client.get(f"{A}/health")
        assert r.status_code == 200
        assert r.json() == {"status": "ok", "scenario": "<embedded default, seed 1>",
                            "clock": "2026-03-02T10:00:30.000Z", "frozen": True}
        client.post(f"{A}/clock", json={"freeze": False})
        assert client.get(f"{A}/health").json()["frozen"] is False


def test_the_scenario_schema_is_served(client):
    r = client.get(f"{A}/scenario.schema.json")
    assert r.status_code == 200 and "json" in r.headers["content-type"]
    assert r.json() == json.loads((ROOT / "fakemaestro" / "scenario.schema.json").read_text(encoding="utf-8"))
    assert client.get(f"{A}/openapi.yaml").status_code == 200


def test_the_index_lists_every_endpoint_and_each_answers(client):
    listed = client.get(f"{A}/").json()["endpoints"]
    assert listed == [f"{m} {A}{p}" for m, p in [
        ("GET", "/"), ("GET", "/health"), ("GET", "/openapi.yaml"), ("GET", "/scenario.schema.json"),
        ("POST", "/reset"), ("GET", "/scenario"), ("PUT", "/scenario"), ("POST", "/scenario"),
        ("GET", "/journal"), ("DELETE", "/journal"), ("POST", "/verify"), ("GET", "/clock"), ("POST", "/clock"),
        ("GET", "/state"), ("GET", "/state/export"), ("GET", "/faults"),
        ("POST", "/faults/{rule}/enable"), ("POST", "/faults/{rule}/disable")]]
    for entry in listed:
        method, path = entry.split(" ")
        if method == "GET" and "{" not in path:
            assert client.get(path).status_code == 200, path


def test_admin_framework_errors_have_the_admin_shape(client):
    e = _err(client.get(f"{A}/no-such-thing"), 404, "not_found")
    assert "no admin endpoint /_fakemaestro/no-such-thing" in e["message"]
    r = client.patch(f"{A}/scenario", json={})
    e = _err(r, 405, "method_not_allowed")
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "POST"}
    _err(client.delete(f"{A}/clock"), 405, "method_not_allowed")


def test_admin_requests_are_not_journaled(client, keys):
    client.get("/api/v1/workflows", headers=_hdr(keys["bulk"]))
    for _ in range(3):
        client.get(f"{A}/journal")
        client.get(f"{A}/state")
    assert client.get(f"{A}/journal").json()["count"] == 1


# ================================================================= reset

def test_reset_rebuilds_data_rate_windows_fault_counters_and_journal(small):
    ci = small.fake.store.key_by_name("ci").raw
    before = small.get("/api/v1/webhooks", headers=_hdr(ci)).json()["data"]
    created = small.post("/api/v1/webhooks", headers=_hdr(ci),
                         json={"name": "n", "url": "http://127.0.0.1:9/x", "events": ["execution.started"]})
    assert created.status_code == 201
    assert small.get("/api/v1/workflows", headers=_hdr(ci, **{"X-Fail": "yes"})).status_code == 500
    remaining = int(small.get("/api/v1/workflows", headers=_hdr(ci)).headers["x-ratelimit-remaining"])
    assert small.get(f"{A}/faults").json()["faults"][0]["hits"] == 1

    r = small.post(f"{A}/reset")
    assert r.status_code == 200 and r.json()["reset"] is True

    assert small.get(f"{A}/journal").json() == {"entries": [], "count": 0}
    assert small.get(f"{A}/faults").json()["faults"][0]["hits"] == 0
    after = small.get("/api/v1/webhooks", headers=_hdr(ci))
    assert after.json()["data"] == before
    assert int(after.headers["x-ratelimit-remaining"]) > remaining  # a fresh window


# ================================================================= scenario: get, replace, extend

def test_get_scenario_as_json_and_yaml(small):
    data = plain(small.fake.scenario.data)
    assert small.get(f"{A}/scenario").json() == data
    r = small.get(f"{A}/scenario", params={"format": "yaml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    assert r.text == yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    assert yaml.safe_load(r.text) == data
    _err(small.get(f"{A}/scenario", params={"format": "xml"}), 400, "bad_request")
    _err(small.get(f"{A}/scenario", params={"fromat": "yaml"}), 400, "bad_request")


@pytest.mark.parametrize("content_type", ["application/yaml", "text/yaml", None])
def test_put_scenario_replaces_everything(client, keys, content_type):
    old_full = keys["full"]
    headers = {"content-type": content_type} if content_type else {}
    r = client.put(f"{A}/scenario", content=SMALL, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    state = client.app.state.fake
    assert body["loaded"] is True and body["scenario"] == "<admin request>"
    assert body["keys"] == keys_of(client.app) and list(body["keys"]) == ["ci", "slow"]
    assert body["faults"] == ["x-fail"]
    assert client.get("/api/v1/workflows", headers=_hdr(old_full)).status_code == 401
    listed = client.get("/api/v1/workflows", headers=_hdr(body["keys"]["ci"])).json()["data"]
    assert [w["name"] for w in listed] == ["Nightly"]
    assert client.get(f"{A}/health").json()["scenario"] == "<admin request>"
    assert state.scenario.source == "<admin request>"


def test_put_scenario_as_json_same_as_yaml(client):
    as_json = json.dumps(yaml.safe_load(SMALL), indent=2)
    r = client.put(f"{A}/scenario", content=as_json, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    from_json = plain(client.app.state.fake.scenario.data)
    client.put(f"{A}/scenario", content=SMALL, headers={"content-type": "application/yaml"})
    assert from_json == plain(client.app.state.fake.scenario.data)
    # sniffed from the body when no content type is given
    r = client.put(f"{A}/scenario", content=as_json, headers={"content-type": ""})
    assert r.status_code == 200 and plain(client.app.state.fake.scenario.data) == from_json


def test_a_loaded_clock_section_sets_the_clock(client):
    r = client.put(f"{A}/scenario", content=SMALL + 'clock: {frozen_at: "2026-05-01T12:00:00Z"}\n')
    assert (r.json()["now"], r.json()["frozen"]) == ("2026-05-01T12:00:00.000Z", True)
    # without a clock section the clock is left as it is
    client.post(f"{A}/clock", json={"advance_ms": 5000})
    client.put(f"{A}/scenario", content=SMALL)
    assert client.get(f"{A}/clock").json()["now"] == "2026-05-01T12:00:05.000Z"
    r = client.post(f"{A}/scenario", content='clock: {start_at: "2027-01-01T00:00:00Z"}\n')
    assert r.json()["frozen"] is False and r.json()["now"].startswith("2027-01-01T00:00:0")


def test_a_clock_given_in_epoch_milliseconds(client):
    r = client.put(f"{A}/scenario", content=SMALL + "clock: {frozen_at: 1780000000000}\n")
    assert r.status_code == 200, r.text
    assert (r.json()["now_ms"], r.json()["frozen"]) == (1780000000000, True)


def test_a_scenario_the_loader_cannot_build_is_a_422_not_a_500(small, monkeypatch):
    # a gap in the loader's own checks (an exception that is not a ScenarioError) is still
    # the request's fault: 422 with a whole-request problem, and nothing changes
    def crashing_check(scenario):
        raise AttributeError("'int' object has no attribute 'strip'")

    monkeypatch.setattr("fakemaestro.admin.check", crashing_check)
    before = _snapshot(small.fake)
    e = _err(small.put(f"{A}/scenario", content=SMALL), 422, "invalid_scenario")
    assert e["details"]["problems"] == [{
        "file": "<admin request>", "line": 0, "column": 0, "path": "(scenario)",
        "message": "cannot be loaded: AttributeError: 'int' object has no attribute 'strip'",
        "text": "<admin request>: cannot be loaded: AttributeError: 'int' object has no attribute 'strip'"}]
    assert _snapshot(small.fake) == before


def test_an_unexpected_admin_failure_is_a_500_of_the_admin_shape(small, monkeypatch):
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(small.fake), "reset", broken)
    e = _err(small.post(f"{A}/reset"), 500, "internal_error")
    assert e["message"] == "RuntimeError: boom" and "Traceback" not in json.dumps(e)


BROKEN_BODIES = [
    pytest.param(UNKNOWN_KEY, "application/yaml",
                 [("<admin request>", 5, 41, "tenants.api_keys[0].scope",
                   f'unknown key "scope"; valid keys: {API_KEY_KEYS}')], id="unknown-key"),
    pytest.param("tenants:\n  users: [{id: u}]\n  workspaces: [{id: w}]\n  api_keys:\n"
                 "    - {name: ci, user: nobody, workspace: w}\n", "application/yaml",
                 [("<admin request>", 5, 24, "tenants.api_keys[0].user", 'no user with id "nobody" in tenants.users')],
                 id="unknown-reference"),
    pytest.param("tenants:\n  users: [{id: u}\n", "text/yaml", None, id="yaml-syntax"),
    pytest.param('{"tenants": {"users": []},\n "seed": }', "application/json",
                 [("<admin request>", 2, 10, "(syntax)", "not valid JSON: Expecting value")], id="json-syntax"),
    pytest.param('{"tenants": {"users": [{"id": "u"}]}, "faults": [{"name": "f"}]}', "application/json",
                 [("<admin request>", 1, 50, "faults[0]", 'missing required key "do"')], id="json-schema"),
]


@pytest.mark.parametrize("text, content_type, problems", BROKEN_BODIES)
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_an_invalid_scenario_answers_422_and_changes_nothing(small, method, text, content_type, problems):
    state = small.fake
    ci = state.store.key_by_name("ci").raw
    created = small.post("/api/v1/webhooks", headers=_hdr(ci),
                         json={"name": "n", "url": "http://127.0.0.1:9/x", "events": ["execution.started"]})
    assert small.get("/api/v1/workflows", headers=_hdr(ci, **{"X-Fail": "yes"})).status_code == 500
    small.post(f"{A}/faults/x-fail/disable")
    before = _snapshot(state)
    assert before["journal"] and before["rules"][0]["hits"] == 1 and before["minute"]

    r = small.request(method, f"{A}/scenario", content=text, headers={"content-type": content_type})

    e = _err(r, 422, "invalid_scenario")
    got = e["details"]["problems"]
    assert got and all(set(p) == {"file", "line", "column", "path", "message", "text"} for p in got)
    if problems is None:  # a YAML syntax error: where PyYAML noticed it
        assert [(p["file"], p["path"]) for p in got] == [("<admin request>", "(syntax)")]
        assert got[0]["line"] == 3 and got[0]["message"].startswith("not valid YAML:")
    else:
        assert [(p["file"], p["line"], p["column"], p["path"], p["message"]) for p in got] == problems
        assert got[0]["text"] == "{}:{}:{}: {}: {}".format(*problems[0])
    assert "nothing was changed" in e["message"]
    assert _snapshot(state) == before
    assert state.store is before["store"] and state.faults is before["faults"]
    assert state.faults.rules[0].enabled is False  # not even a rebuilt rule
    assert created.json()["data"]["id"] in state.store.webhooks
    assert small.get("/api/v1/workflows", headers=_hdr(ci)).status_code == 200


def test_post_scenario_extends_with_a_fault_that_then_fires(client, keys):
    r = client.post(f"{A}/scenario", content=WF_DOWN, headers={"content-type": "application/yaml"})
    assert r.status_code == 200, r.text
    assert r.json()["scenario"] == "<embedded default, seed 1> + <admin request>"
    assert r.json()["keys"] == keys  # the base scenario is kept
    failed = client.get("/api/v1/workflows", headers=_hdr(keys["full"]))
    assert failed.status_code == 500 and failed.json()["message"] == "workflows are down"
    assert client.get("/api/v1/workflows", headers=_hdr(keys["bulk"])).status_code == 200
    assert client.get("/api/v1/agents", headers=_hdr(keys["full"])).status_code == 200
    (rule,) = client.get(f"{A}/faults").json()["faults"]
    assert (rule["name"], rule["hits"], rule["seen"]) == ("wf-down", 1, 1)
    assert client.post(f"{A}/verify", json={"fault": "wf-down", "count": 1}).json()["matches"] is True


def test_extending_overrides_a_key_by_name(small):
    r = small.post(f"{A}/scenario", content="tenants:\n  api_keys:\n"
                                            "    - {name: slow, user: u-owner, workspace: ws-main, per_minute: 7}\n")
    assert r.status_code == 200, r.text
    assert small.fake.store.key_by_name("slow").per_minute == 7
    assert list(r.json()["keys"]) == ["ci", "slow"]


def test_json_that_yaml_reads_differently_is_read_as_json(client):
    data = yaml.safe_load(SMALL)
    data["tenants"]["api_keys"][1]["per_minute"] = "PER_MINUTE"
    text = json.dumps(data).replace('"PER_MINUTE"', "1e2")  # YAML 1.1 reads 1e2 as text
    r = client.put(f"{A}/scenario", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert client.app.state.fake.store.key_by_name("slow").per_minute == 100


def test_an_empty_or_undecodable_body_is_a_bad_request(small):
    before = _snapshot(small.fake)
    _err(small.put(f"{A}/scenario", content=""), 400, "bad_request")
    _err(small.post(f"{A}/scenario", content=b"\xff\xfe\x00bad"), 400, "bad_request")
    assert _snapshot(small.fake) == before


# ================================================================= clock

def test_clock_get_and_every_change(small):
    assert small.get(f"{A}/clock").json() == {"now": "2026-03-02T10:00:30.000Z", "now_ms": FROZEN, "frozen": True}
    r = small.post(f"{A}/clock", json={"advance_ms": 90_000})
    assert r.json() == {"now": "2026-03-02T10:02:00.000Z", "now_ms": FROZEN + 90_000, "frozen": True}
    r = small.post(f"{A}/clock", json={"set": "2026-07-01T00:00:00Z", "advance_ms": 1})
    assert r.json()["now"] == "2026-07-01T00:00:00.001Z"
    r = small.post(f"{A}/clock", json={"set": 1_800_000_000_000})
    assert r.json()["now_ms"] == 1_800_000_000_000
    r = small.post(f"{A}/clock", json={"freeze": False})
    assert r.json()["frozen"] is False and 1_800_000_000_000 <= r.json()["now_ms"] < 1_800_000_000_000 + 5000
    r = small.post(f"{A}/clock", json={"freeze": True, "set": "2026-01-01T00:00:00Z"})
    assert r.json() == {"now": "2026-01-01T00:00:00.000Z", "now_ms": parse_instant("2026-01-01T00:00:00Z"),
                        "frozen": True}
    # the API's own timestamps follow
    ci = small.fake.store.key_by_name("ci").raw
    assert small.get("/api/v1/workflows", headers=_hdr(ci)).json()["meta"]["timestamp"] == "2026-01-01T00:00:00.000Z"


@pytest.mark.parametrize("body, fragment", [
    ({"freze": True}, "unknown field(s) freze"),
    ({"freeze": "yes"}, "freeze must be true or false"),
    ({"set": "tomorrow"}, "set must be an ISO-8601 time"),
    ({"set": True}, "set must be an ISO-8601 time"),
    ({"advance_ms": 1.5}, "advance_ms must be an integer"),
    ({"advance_ms": "60000"}, "advance_ms must be an integer"),
])
def test_clock_changes_are_checked_before_any_is_applied(small, body, fragment):
    e = _err(small.post(f"{A}/clock", json={"freeze": False, **body}), 400, "bad_request")
    assert fragment in e["message"]
    assert small.get(f"{A}/clock").json() == {"now": "2026-03-02T10:00:30.000Z", "now_ms": FROZEN, "frozen": True}


def test_moving_the_clock_moves_rate_limit_windows(client, keys):
    client.post(f"{A}/clock", json={"freeze": True, "set": "2026-03-02T10:00:30Z"})
    low = _hdr(keys["low-rate"])  # 3 requests a minute
    assert [client.get("/api/v1/workflows", headers=low).status_code for _ in range(4)] == [200, 200, 200, 429]
    client.post(f"{A}/clock", json={"advance_ms": 29_000})  # still the same minute
    assert client.get("/api/v1/workflows", headers=low).status_code == 429
    client.post(f"{A}/clock", json={"advance_ms": 60_000})
    allowed = client.get("/api/v1/workflows", headers=low)
    assert allowed.status_code == 200 and allowed.headers["x-ratelimit-remaining"] == "2"


# ================================================================= journal and verify

def _traffic(client, keys) -> None:
    client.post(f"{A}/clock", json={"freeze": True, "set": "2026-03-02T10:00:00Z"})
    client.get("/api/v1/workflows", headers=_hdr(keys["full"]))
    client.get("/api/v1/workflows/00000000-0000-4000-8000-000000000000", headers=_hdr(keys["full"]))
    client.post(f"{A}/clock", json={"advance_ms": 60_000})
    client.get("/api/v1/agents", headers=_hdr(keys["read-only"]))
    client.get("/api/v1/workflows", headers=_hdr(keys["revoked"]))
    client.delete("/api/v1/webhooks/00000000-0000-4000-8000-000000000000", headers=_hdr(keys["bulk"]))


@pytest.mark.parametrize("params, expected", [
    ({}, [1, 2, 3, 4, 5]),
    ({"method": "delete"}, [5]),
    ({"path": "/api/v1/workflows*"}, [1, 2, 4]),
    ({"path": "/api/v1/workflows"}, [1, 4]),
    ({"operation": "getWorkflow"}, [2]),
    ({"key": "full"}, [1, 2]),
    ({"status": "401"}, [4]),
    ({"status": "404"}, [2, 5]),
    ({"since": "2026-03-02T10:01:00Z"}, [3, 4, 5]),
    ({"until": "2026-03-02T10:01:00Z"}, [1, 2]),
    ({"since": str(parse_instant("2026-03-02T10:01:00Z"))}, [3, 4, 5]),
    ({"key": "full", "status": "200"}, [1]),
    ({"limit": "2"}, [4, 5]),
    ({"path": "/api/v1/workflows*", "limit": "1"}, [4]),
    ({"limit": "0"}, []),
])
def test_journal_filters(client, keys, params, expected):
    _traffic(client, keys)
    body = client.get(f"{A}/journal", params=params).json()
    assert [e["seq"] for e in body["entries"]] == expected
    if "limit" not in params:
        assert body["count"] == len(expected)


def test_journal_entries_describe_each_request(client, keys):
    _traffic(client, keys)
    entries = client.get(f"{A}/journal").json()["entries"]
    assert entries[1] == {**entries[1], "method": "GET", "path": "/api/v1/workflows/00000000-0000-4000-8000-000000000000",
                          "operation": "getWorkflow", "key": "full", "status": 404, "fault": None,
                          "time": "2026-03-02T10:00:00.000Z"}
    assert client.get(f"{A}/journal", params={"path": "/api/v1/*"}).json()["count"] == 5


def test_journal_fault_filter(client, keys):
    client.post(f"{A}/scenario", content=WF_DOWN)
    client.get("/api/v1/workflows", headers=_hdr(keys["full"]))
    client.get("/api/v1/workflows", headers=_hdr(keys["bulk"]))
    hit = client.get(f"{A}/journal", params={"fault": "wf-down"}).json()
    assert hit["count"] == 1 and hit["entries"][0]["key"] == "full" and hit["entries"][0]["status"] == 500


def test_unknown_and_bad_journal_filters(client):
    e = _err(client.get(f"{A}/journal", params={"verb": "GET"}), 400, "unknown_filter")
    assert e["details"]["valid_filters"] == list(FILTERS)
    assert "valid filters: method, path, operation, key, status, fault, since, until" in e["message"]
    _err(client.get(f"{A}/journal", params={"since": "yesterday"}), 400, "bad_request")
    _err(client.get(f"{A}/journal", params={"limit": "-1"}), 400, "bad_request")
    _err(client.get(f"{A}/journal", params={"limit": "ten"}), 400, "bad_request")
    for bad in ("2026-13-01T00:00:00Z", "99999999999999999", "10:00", ""):
        _err(client.get(f"{A}/journal", params={"until": bad}), 400, "bad_request")
    for body in ({"since": True}, {"since": [1]}, {"until": 1e300}, {"until": "tomorrow"}):
        _err(client.post(f"{A}/verify", json=body), 400, "bad_request")


# the same instant as 2026-03-02T10:01:00Z, written in every accepted form
_AT_10_01 = ["2026-03-02T10:01:00Z", "2026-03-02T10:01:00.000Z", "2026-03-02T10:01:00", "2026-03-02 10:01:00",
             "2026-03-02T11:01:00+01:00", "2026-03-02T10:01:00.000000+00:00",
             str(parse_instant("2026-03-02T10:01:00Z"))]


@pytest.mark.parametrize("at", _AT_10_01)
def test_journal_since_and_until_are_instants(client, keys, at):
    _traffic(client, keys)  # entries 1-2 at 10:00:00.000, 3-5 at 10:01:00.000
    assert [e["seq"] for e in client.get(f"{A}/journal", params={"since": at}).json()["entries"]] == [3, 4, 5]
    assert [e["seq"] for e in client.get(f"{A}/journal", params={"until": at}).json()["entries"]] == [1, 2]
    assert client.post(f"{A}/verify", json={"since": at, "count": 3}).json()["matches"] is True


def test_journal_since_until_in_a_verify_body_as_numbers(client, keys):
    _traffic(client, keys)
    at = parse_instant("2026-03-02T10:01:00Z")
    assert client.post(f"{A}/verify", json={"since": at}).json() == {"count": 3}
    assert client.post(f"{A}/verify", json={"until": at, "since": at - 60_000}).json() == {"count": 2}
    assert client.post(f"{A}/verify", json={"since": at + 1}).json() == {"count": 0}


def test_journal_select_compares_instants_not_text():
    journal = Journal()
    for ms in (parse_instant("2026-03-02T10:00:59.999Z"), parse_instant("2026-03-02T10:01:00Z"),
               parse_instant("2026-03-02T10:01:00.001Z")):
        journal.record(time_ms=ms, method="GET", path="/p", query="", operation=None, key=None, tenant=None,
                       status=200, fault=None, latency_ms=0.0, elapsed_ms=0.0)
    seqs = lambda **c: [e.seq for e in journal.select(c)]  # noqa: E731
    for at in _AT_10_01:
        assert seqs(since=at) == [2, 3] and seqs(until=at) == [1]
    assert seqs(since=parse_instant("2026-03-02T10:01:00Z")) == [2, 3]   # epoch ms as a number
    with pytest.raises(BadFilterValue):
        journal.select({"since": "soon"})
    shown = journal.entries[0].as_dict()
    assert list(shown)[:2] == ["seq", "time"] and shown["time"] == "2026-03-02T10:00:59.999Z" and "time_ms" not in shown
    journal.clear()
    assert list(journal.entries) == [] and journal.record(**journal_fields()).seq == 1


def test_journal_keeps_the_newest_entries_up_to_its_cap():
    journal = Journal(max_entries=3)
    for _ in range(5):
        journal.record(**journal_fields())
    assert [e.seq for e in journal.entries] == [3, 4, 5]
    assert [e.seq for e in journal.select({})] == [3, 4, 5]
    assert Journal().entries.maxlen == MAX_ENTRIES


def test_journal_entries_share_one_copy_of_a_repeated_path():
    journal = Journal()
    for _ in range(2):  # each request's path arrives as a string of its own
        journal.record(**{**journal_fields(), "path": b"/api/v1/workflows".decode(), "method": "".join(["G", "ET"])})
    first, second = journal.entries
    assert first.path == second.path == "/api/v1/workflows" and first.path is second.path
    assert first.method is second.method


def journal_fields() -> dict:
    return dict(time_ms=parse_instant("2026-03-02T10:00:00.000Z"), method="GET", path="/p", query="",
                operation=None, key=None, tenant=None, status=200, fault=None, latency_ms=0.0, elapsed_ms=0.0)


def test_delete_journal_clears_it(client, keys):
    _traffic(client, keys)
    assert client.get(f"{A}/journal").json()["count"] == 5
    assert client.delete(f"{A}/journal").status_code == 200
    assert client.get(f"{A}/journal").json() == {"entries": [], "count": 0}
    client.get("/api/v1/workflows", headers=_hdr(keys["full"]))
    assert client.get(f"{A}/journal").json()["count"] == 1


def test_verify_counts_and_matches(client, keys):
    _traffic(client, keys)
    assert client.post(f"{A}/verify", json={"path": "/api/v1/workflows*"}).json() == {"count": 3}
    r = client.post(f"{A}/verify", json={"method": "GET", "path": "/api/v1/workflows", "count": 2})
    assert r.json() == {"count": 2, "expected": 2, "matches": True}
    r = client.post(f"{A}/verify", json={"method": "GET", "path": "/api/v1/workflows", "count": 3})
    assert r.json() == {"count": 2, "expected": 3, "matches": False}
    assert client.post(f"{A}/verify", json={"status": 404, "count": 2}).json()["matches"] is True
    assert client.post(f"{A}/verify", json={"key": "nobody", "count": 0}).json()["matches"] is True
    assert client.post(f"{A}/verify").json() == {"count": 5}


def test_verify_rejects_bad_bodies(client):
    e = _err(client.post(f"{A}/verify", json={"paht": "/x", "count": 1}), 400, "unknown_filter")
    assert e["details"]["unknown"] == ["paht"]
    _err(client.post(f"{A}/verify", json={"count": -1}), 400, "bad_request")
    _err(client.post(f"{A}/verify", json={"count": True}), 400, "bad_request")
    _err(client.post(f"{A}/verify", content="[1]"), 400, "bad_request")
    _err(client.post(f"{A}/verify", content="{nope"), 400, "bad_request")


# ================================================================= state and export

def test_state_counts_every_collection(client):
    store = client.app.state.fake.store
    body = client.get(f"{A}/state").json()
    assert body["scenario"] == "<embedded default, seed 1>"
    assert body["counts"]["workflows"] == len(store.workflows) > 0
    assert body["counts"]["api_keys"] == 10
    assert body["counts"]["messages"] == sum(len(m) for m in store.messages.values()) > 0
    assert set(body["counts"]) == set(collections(store))


def test_state_dumps_one_collection(client):
    store = client.app.state.fake.store
    body = client.get(f"{A}/state", params={"collection": "workflows"}).json()
    assert body["collection"] == "workflows" and body["count"] == len(store.workflows)
    assert body["records"] == [json.loads(json.dumps(asdict(w))) for w in store.workflows.values()]
    page = client.get(f"{A}/state", params={"collection": "workflows", "offset": 2, "limit": 3}).json()
    assert [r["id"] for r in page["records"]] == [r["id"] for r in body["records"][2:5]]
    keys = client.get(f"{A}/state", params={"collection": "api_keys"}).json()["records"]
    assert {k["name"]: k["raw"] for k in keys} == keys_of(client.app)
    e = _err(client.get(f"{A}/state", params={"collection": "widgets"}), 400, "bad_request")
    assert "workflows" in e["details"]["collections"]
    _err(client.get(f"{A}/state", params={"limit": 1}), 400, "bad_request")


def _ids(store) -> dict:
    out = {}
    for name, rows in collections(store).items():
        rows = list(rows)
        out[name] = [getattr(r, "id", None) or (r.agent_id, r.user_id, r.thread_id) for r in rows]
    out["raw_keys"] = sorted(k.raw for k in store.keys.values())
    out["secrets"] = sorted(h.secret for h in store.webhooks.values())
    return out


def _records(store) -> dict:
    """Every record as a dict, without what only orders rows (seq) or the scenario format
    cannot say (when a key was last used)."""
    return {name: [{k: v for k, v in asdict(r).items() if k not in ("seq", "last_used_at")} for r in rows]
            for name, rows in collections(store).items()}


def test_exporting_then_loading_the_export_gives_the_same_ids(client, keys):
    # change the data first: records made at runtime must survive the round trip
    bulk = _hdr(keys["bulk"])
    hook = client.post("/api/v1/webhooks", headers=bulk,
                       json={"name": "n", "url": "http://127.0.0.1:9/x", "events": ["execution.started"]}).json()
    client.delete(f"/api/v1/webhooks/{hook['data']['id']}", headers=bulk)
    agent = client.get("/api/v1/agents", headers=bulk).json()["data"][0]["id"]
    thread = client.post(f"/api/v1/agents/{agent}/threads", headers=bulk).json()["data"]["id"]
    sent = client.post(f"/api/v1/threads/{thread}/messages", headers=bulk, json={"content": "hello"})
    assert sent.status_code == 200, sent.text
    state = client.app.state.fake

    r = client.get(f"{A}/state/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    reloaded = build_store(load_scenario_text(r.text, "export.yaml"))
    assert _ids(reloaded) == _ids(state.store)
    assert _records(reloaded) == _records(state.store)  # and every field of every record
    assert reloaded.webhooks[hook["data"]["id"]].deleted_at is not None
    assert len(reloaded.messages[thread]) == 2

    # and the API answers the same from it
    lists = {p: client.get(f"/api/v1/{p}", headers=bulk, params={"per_page": 100}).json()["data"]
             for p in ("workflows", "agents", "webhooks", "triggers", "knowledge-bases")}
    assert client.put(f"{A}/scenario", content=r.text).status_code == 200
    for path, before in lists.items():
        assert client.get(f"/api/v1/{path}", headers=bulk, params={"per_page": 100}).json()["data"] == before


def test_export_makes_generated_records_explicit_and_keeps_fault_flags(client):
    text = SMALL.replace("data:\n", "data:\n  generate: {workflows: 3, executions: 5, webhooks: 1, knowledge_bases: 1}\n")
    assert client.put(f"{A}/scenario", content=text).status_code == 200, "setup"
    client.post(f"{A}/faults/x-fail/disable")
    exported = client.get(f"{A}/state/export", params={"format": "json"}).json()
    assert "generate" not in exported["data"] and len(exported["data"]["workflows"]) == 4
    assert exported["faults"][0]["enabled"] is False and exported["seed"] == 5
    reloaded = build_store(load_scenario_text(yaml.safe_dump(exported), "export"))
    assert _ids(reloaded) == _ids(client.app.state.fake.store)
    assert _records(reloaded) == _records(client.app.state.fake.store)


def test_records_created_after_loading_an_export_get_fresh_ids(client):
    # the webhook's id is the first the loader generates; every other id and key is given
    text = """\
seed: 3
tenants:
  users: [{id: u}]
  workspaces: [{id: w}]
  api_keys: [{name: ci, id: k-1, key: fm_live_AdminExportCollision00000000001, user: u, workspace: w}]
data:
  webhooks: [{user: u, workspace: w, name: first, url: 'http://127.0.0.1:9/x', events: [execution.started]}]
"""
    assert client.put(f"{A}/scenario", content=text).status_code == 200
    assert client.put(f"{A}/scenario", content=client.get(f"{A}/state/export").text).status_code == 200
    (existing,) = client.app.state.fake.store.webhooks
    made = client.post("/api/v1/webhooks", headers=_hdr("fm_live_AdminExportCollision00000000001"),
                       json={"name": "second", "url": "http://127.0.0.1:9/y", "events": ["execution.started"]})
    assert made.status_code == 201
    assert made.json()["data"]["id"] != existing
    assert len(client.app.state.fake.store.webhooks) == 2


def test_ids_made_after_a_load_skip_every_id_of_the_store():
    # the export gives, explicitly, the first ids the seed makes; all records made after are new
    text = """\
seed: 3
tenants:
  users: [{id: u}]
  workspaces: [{id: w}]
  api_keys: [{name: ci, id: k-1, key: fm_live_AdminExportCollision00000000001, user: u, workspace: w}]
data:
  agents: [{user: u, workspace: w, name: first}]
  webhooks: [{user: u, workspace: w, name: first, url: 'http://127.0.0.1:9/x', events: [execution.started]}]
"""
    app = make_app(load_scenario_text(text, "ids.yaml"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        state = app.state.fake
        generated = {*state.store.agents, *state.store.webhooks}
        assert client.put(f"{A}/scenario", content=client.get(f"{A}/state/export").text).status_code == 200
        hdr = _hdr("fm_live_AdminExportCollision00000000001")
        (agent,) = state.store.agents
        made = {client.post(f"/api/v1/agents/{agent}/threads", headers=hdr).json()["data"]["id"],
                client.post("/api/v1/webhooks", headers=hdr, json={"name": "n", "url": "http://127.0.0.1:9/y",
                                                                     "events": ["execution.started"]}
                            ).json()["data"]["id"]}
        assert len(made) == 2 and not made & generated
        # deterministic: the same steps after a reset make the same ids
        client.post(f"{A}/reset")
        again = {client.post(f"/api/v1/agents/{agent}/threads", headers=hdr).json()["data"]["id"],
                 client.post("/api/v1/webhooks", headers=hdr, json={"name": "n", "url": "http://127.0.0.1:9/y",
                                                                      "events": ["execution.started"]}
                             ).json()["data"]["id"]}
        assert again == made


def test_store_inserts_never_overwrite():
    from fakemaestro.store.store import DuplicateId
    store = build_store(load_scenario_text(SMALL, "small.yaml"))
    wf = store.workflows["00000000-0000-4000-8000-000000000001"]
    with pytest.raises(DuplicateId, match="workflows"):
        store.add_workflow(wf)
    with pytest.raises(DuplicateId):
        store.add_key(next(iter(store.keys.values())))
    assert store.workflows["00000000-0000-4000-8000-000000000001"] is wf and len(store.keys) == 2
    assert store.id_taken(wf.id) and not store.id_taken("00000000-0000-4000-8000-000000000002")


def test_a_scenario_start_at_sets_the_clock_of_a_new_app():
    scenario = load_scenario_text(SMALL + 'clock: {start_at: "2030-05-01T12:00:00Z"}\n', "small.yaml")
    app = make_app(scenario)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        body = client.get(f"{A}/clock").json()
        assert body["frozen"] is False
        assert 0 <= body["now_ms"] - parse_instant("2030-05-01T12:00:00Z") < 5_000   # running from start_at
    frozen = make_app(load_scenario_text(SMALL + "clock: {frozen_at: 1780000000000}\n", "small.yaml"))
    assert frozen.app.state.fake.clock.frozen and frozen.app.state.fake.clock.now_ms() == 1780000000000
    given = Clock(FROZEN)  # a clock given to create_app wins over the scenario's
    assert make_app(scenario, clock=given).app.state.fake.clock is given


# ================================================================= faults

def test_faults_list_enable_disable(small):
    ci = small.fake.store.key_by_name("ci").raw
    fail = _hdr(ci, **{"X-Fail": "yes"})
    (rule,) = small.get(f"{A}/faults").json()["faults"]
    assert rule == {"index": 0, "name": "x-fail", "enabled": True, "seen": 0, "hits": 0,
                    "match": {"headers": {"X-Fail": "yes"}}, "when": {},
                    "do": {"error": "framework_500", "message": "injected"}}
    assert small.get("/api/v1/workflows", headers=fail).status_code == 500

    r = small.post(f"{A}/faults/x-fail/disable")
    assert r.status_code == 200 and (r.json()["enabled"], r.json()["hits"]) == (False, 1)
    assert small.get("/api/v1/workflows", headers=fail).status_code == 200
    assert small.get(f"{A}/faults").json()["faults"][0]["hits"] == 1

    r = small.post(f"{A}/faults/0/enable")  # by index
    assert r.json()["enabled"] is True
    assert small.get("/api/v1/workflows", headers=fail).status_code == 500
    assert small.get(f"{A}/faults").json()["faults"][0]["hits"] == 2

    e = _err(small.post(f"{A}/faults/nope/enable"), 404, "not_found")
    assert e["details"]["rules"] == ["x-fail"]
    _err(small.post(f"{A}/faults/7/disable"), 404, "not_found")
    _err(small.get(f"{A}/faults/x-fail/enable"), 405, "method_not_allowed")


# ================================================================= admin token

TOKEN = "s3cret-admin-token"


def test_admin_token_protects_everything_but_health():
    app = make_app(admin_token=TOKEN)
    keys = keys_of(app)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        assert client.get(f"{A}/health").status_code == 200
        for method, path in [("GET", "/"), ("GET", "/journal"), ("POST", "/reset"), ("PUT", "/scenario"),
                             ("GET", "/state/export"), ("GET", "/openapi.yaml"), ("GET", "/no-such-thing"),
                             ("POST", "/clock"), ("GET", "/health/")]:
            r = client.request(method, A + path)
            e = _err(r, 401, "unauthorized")
            assert "X-Admin-Token" in e["message"] and r.headers["www-authenticate"].startswith("Bearer")
        _err(client.get(f"{A}/journal", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
        _err(client.get(f"{A}/journal", headers={"X-Admin-Token": TOKEN + "x"}), 401, "unauthorized")
        _err(client.get(f"{A}/journal", headers={"Authorization": TOKEN}), 401, "unauthorized")
        assert client.get(f"{A}/journal", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert client.get(f"{A}/journal", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
        assert client.get(f"{A}/journal", headers={"X-Admin-Token": TOKEN}).status_code == 200
        assert client.post(f"{A}/reset", headers={"X-Admin-Token": TOKEN}).json() == \
            {"reset": True, "scenario": "<embedded default, seed 1>"}
        # the production API is not affected by the admin token
        assert client.get("/api/v1/workflows", headers=_hdr(keys["full"])).status_code == 200


def test_no_token_means_open_and_an_empty_token_is_refused(client):
    assert client.get(f"{A}/journal").status_code == 200
    with pytest.raises(ValueError):
        make_app(admin_token="")


# ================================================================= over a real server

def test_admin_api_over_a_real_server():
    with serve_in_thread(make_app(clock=Clock(FROZEN), admin_token=TOKEN)) as server:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            assert http.get(f"{A}/health").json()["frozen"] is True
            assert http.get(f"{A}/state").status_code == 401
            loaded = http.put(f"{A}/scenario", content=SMALL, headers={**auth, "content-type": "application/yaml"})
            assert loaded.status_code == 200, loaded.text
            ci = loaded.json()["keys"]["ci"]
            assert http.get("/api/v1/workflows", headers=_hdr(ci)).json()["pagination"]["total_count"] == 1
            assert http.get("/api/v1/workflows", headers=_hdr(ci, **{"X-Fail": "yes"})).status_code == 500
            verified = http.post(f"{A}/verify", headers=auth, json={"fault": "x-fail", "count": 1})
            assert verified.json() == {"count": 1, "expected": 1, "matches": True}
            bad = http.put(f"{A}/scenario", content=UNKNOWN_KEY, headers=auth)
            e = _err(bad, 422, "invalid_scenario")
            assert e["details"]["problems"][0]["path"] == "tenants.api_keys[0].scope"
            assert server.state.scenario.source == "<admin request>"
            assert http.get("/api/v1/workflows", headers=_hdr(ci)).status_code == 200


def test_rate_limit_window_moved_over_a_real_server():
    with serve_in_thread(make_app()) as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            http.post(f"{A}/clock", json={"freeze": True})
            low = _hdr(server.key("low-rate"))
            assert [http.get("/api/v1/workflows", headers=low).status_code for _ in range(4)] == [200] * 3 + [429]
            moved = http.post(f"{A}/clock", json={"advance_ms": 60_000}).json()
            assert moved["frozen"] is True
            assert http.get("/api/v1/workflows", headers=low).status_code == 200
            assert http.post(f"{A}/verify", json={"key": "low-rate", "status": 429}).json() == {"count": 1}
            assert iso(server.state.clock.now_ms()) == moved["now"]

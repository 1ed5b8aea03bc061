"""Webhooks (CONTRACT.md §5.7, §8.3): the field set of each verb, create/patch validation,
soft delete, deliveries, and /test against a real receiver on 127.0.0.1."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fakemaestro import messages
from fakemaestro.clock import Clock, iso, parse_instant
from fakemaestro.scenario import Scenario

from .conftest import assert_error, assert_not_found, make_app

API = "/api/v1"
NOW = "2026-09-09T09:09:09.909Z"
NOW_MS = parse_instant(NOW)
U1, U2, U3 = (f"a0000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
W1, W2 = (f"b0000000-0000-4000-8000-00000000000{i}" for i in (1, 2))
WH = {n: f"30000000-0000-4000-8000-00000000000{i}" for i, n in
      enumerate(["ops", "inactive", "team", "deleted", "other"], 1)}
SECRET = "whsec_" + "ab" * 32
UNKNOWN = "99999999-9999-4999-8999-999999999999"
EVENT_TYPES = ["execution.started", "execution.completed", "execution.failed", "execution.cancelled",
               "thread.message.created", "thread.message.completed", "thread.message.failed",
               "agent.execution.started", "agent.execution.completed", "agent.execution.failed"]
LIST_FIELDS = ["id", "name", "url", "events", "is_active", "created_at", "updated_at"]
GET_FIELDS = ["id", "name", "url", "events", "headers", "is_active", "created_at", "updated_at"]
CREATE_FIELDS = ["id", "name", "url", "secret", "events", "headers", "is_active", "created_at"]
PATCH_FIELDS = ["id", "name", "url", "events", "headers", "is_active", "updated_at"]
DELIVERY_FIELDS = ["id", "event_type", "status", "attempts", "response_status", "error_message", "created_at",
                   "last_attempt_at"]


# ---------------------------------------------------------------- a real receiver

class _Receiver(BaseHTTPRequestHandler):
    """Answers with the status named in the path (/status/500), 302 from /redirect, else 200."""
    received: list = []

    def _handle(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        _Receiver.received.append({"method": self.command, "path": self.path, "headers": self.headers.items(),
                                   "body": body})
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/landed")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        match = re.match(r"/status/(\d+)", self.path)
        self.send_response(int(match.group(1)) if match else 200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_POST = do_GET = _handle  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def received():
    _Receiver.received.clear()
    return _Receiver.received


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the scenario

def scenario(receiver_url: str = "http://127.0.0.1:9/hook") -> Scenario:
    big = {"per_minute": 10**6, "per_day": 10**8}

    def hook(name, created, user=U1, workspace=W1, **extra):
        return {"id": WH[name], "user": user, "workspace": workspace, "name": f"Hook {name}",
                "url": f"{receiver_url}/{name}", "events": ["execution.completed"], "created_at": created, **extra}
    deliveries = [  # ids deliberately not in time order
        {"id": 41, "event_type": "execution.completed", "status": "success", "attempts": 1, "response_status": 200,
         "created_at": "2026-01-05T00:02:00Z", "last_attempt_at": "2026-01-05T00:02:01Z"},
        {"id": 42, "event_type": "execution.failed", "status": "failed", "attempts": 5, "response_status": 500,
         "error_message": "HTTP 500", "created_at": "2026-01-05T00:03:00Z", "last_attempt_at": "2026-01-05T01:00:00Z"},
        {"id": 43, "event_type": "execution.started", "status": "pending", "attempts": 0,
         "created_at": "2026-01-05T00:01:00Z"},
        {"id": 1000000, "event_type": "execution.started", "status": "retrying", "attempts": 2,
         "error_message": "fetch failed", "created_at": "2026-01-05T00:04:00Z",
         "last_attempt_at": "2026-01-05T00:04:30Z"},
    ]
    return Scenario({"seed": 21, "tenants": {
        "users": [{"id": U1}, {"id": U2}, {"id": U3}],
        "workspaces": [{"id": W1, "owner": U1}, {"id": W2, "owner": U3}],
        "api_keys": [{"name": "bulk", "user": U1, "workspace": W1, **big},
                     {"name": "other", "user": U3, "workspace": W2, **big}]},
        "data": {"webhooks": [
            hook("ops", "2026-01-05T00:00:00Z", secret=SECRET, headers={"X-Team": "ops", "Authorization": "Bearer t"},
                 events=["execution.started", "execution.completed"], updated_at="2026-01-06T00:00:00Z",
                 deliveries=deliveries),
            hook("inactive", "2026-01-06T00:00:00Z", is_active=False, events=["thread.message.completed"]),
            hook("team", "2026-01-07T00:00:00Z", user=U2),
            hook("deleted", "2026-01-08T00:00:00Z", deleted_at="2026-01-09T00:00:00Z"),
            hook("other", "2026-01-09T00:00:00Z", user=U3, workspace=W2),
        ]}})


@pytest.fixture
def app(receiver):
    return make_app(scenario(receiver), clock=Clock(frozen_at_ms=NOW_MS))


def _hook_404(response, id_):
    assert_not_found(response, "Webhook", id_)


def _list_ids(c, h, key="bulk"):
    return [w["id"] for w in c.get(f"{API}/webhooks?per_page=100", headers=h[key]).json()["data"]]


def _get(c, h, id_):
    r = c.get(f"{API}/webhooks/{id_}", headers=h["bulk"])
    assert r.status_code == 200
    return r.json()["data"]


VALID = {"name": "CI hook", "url": "https://example.com/hook", "events": ["execution.completed"]}


# ---------------------------------------------------------------- list / get

def test_list_fields_order_and_scope(c, h):
    r = c.get(f"{API}/webhooks", headers=h["bulk"])
    assert r.status_code == 200
    body = r.json()
    assert [w["id"] for w in body["data"]] == [WH["team"], WH["inactive"], WH["ops"]]  # no deleted, no W2
    assert body["pagination"]["total_count"] == 3
    for item in body["data"]:
        assert list(item) == LIST_FIELDS  # no secret, no headers
    assert body["data"][2] == {"id": WH["ops"], "name": "Hook ops", "url": body["data"][2]["url"],
                               "events": ["execution.started", "execution.completed"], "is_active": True,
                               "created_at": "2026-01-05T00:00:00.000Z", "updated_at": "2026-01-06T00:00:00.000Z"}
    assert body["data"][1]["is_active"] is False


def test_list_paginates(c, h):
    body = c.get(f"{API}/webhooks?per_page=2&page=2", headers=h["bulk"]).json()
    assert [w["id"] for w in body["data"]] == [WH["ops"]]
    assert body["pagination"] == {"page": 2, "per_page": 2, "total_count": 3, "total_pages": 2,
                                  "has_next": False, "has_prev": True}


def test_get_fields(c, h):
    data = _get(c, h, WH["ops"])
    assert list(data) == GET_FIELDS
    assert data["headers"] == {"X-Team": "ops", "Authorization": "Bearer t"} and "secret" not in data
    assert _get(c, h, WH["team"])["headers"] is None


@pytest.mark.parametrize("id_", [UNKNOWN, WH["deleted"], WH["other"]])
@pytest.mark.parametrize("method,suffix", [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/test"),
                                           ("GET", "/deliveries")])
def test_404_on_every_item_route(c, h, id_, method, suffix, received):
    kwargs = {"json": {"url": "not a url", "events": "x"}} if method == "PATCH" else {}
    _hook_404(c.request(method, f"{API}/webhooks/{id_}{suffix}", headers=h["bulk"], **kwargs), id_)
    assert received == []


@pytest.mark.parametrize("method,suffix", [("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/test")])
def test_non_uuid_is_framework_500(c, h, method, suffix):
    r = c.request(method, f"{API}/webhooks/wh_1{suffix}", headers=h["bulk"])
    assert r.status_code == 500 and r.json()["code"] == "22P02"


# ---------------------------------------------------------------- create

def test_create_201_fields_secret_and_no_updated_at(c, h):
    r = c.post(f"{API}/webhooks", json={**VALID, "headers": {"X-A": "1"}}, headers=h["bulk"])
    assert r.status_code == 201
    data = r.json()["data"]
    assert list(data) == CREATE_FIELDS
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", data["secret"])
    assert data == {"id": data["id"], "name": "CI hook", "url": "https://example.com/hook", "secret": data["secret"],
                    "events": ["execution.completed"], "headers": {"X-A": "1"}, "is_active": True, "created_at": NOW}
    assert _list_ids(c, h)[0] == data["id"]
    got = _get(c, h, data["id"])
    assert got == {"id": data["id"], "name": "CI hook", "url": "https://example.com/hook",
                   "events": ["execution.completed"], "headers": {"X-A": "1"}, "is_active": True,
                   "created_at": NOW, "updated_at": NOW}


def test_create_secrets_differ(c, h):
    a = c.post(f"{API}/webhooks", json=VALID, headers=h["bulk"]).json()["data"]
    b = c.post(f"{API}/webhooks", json=VALID, headers=h["bulk"]).json()["data"]
    assert a["id"] != b["id"] and a["secret"] != b["secret"]


@pytest.mark.parametrize("headers,stored", [("absent", None), (None, None), ("", None), ({}, {}),
                                            ({"X-N": "1"}, {"X-N": "1"})], ids=repr)
def test_create_headers_stored_or_null(c, h, headers, stored):
    body = dict(VALID) if headers == "absent" else {**VALID, "headers": headers}
    data = c.post(f"{API}/webhooks", json=body, headers=h["bulk"]).json()["data"]
    assert data["headers"] == stored and _get(c, h, data["id"])["headers"] == stored


@pytest.mark.parametrize("name,url", [("   ", "https://x.test"), ("n", "localhost:3000"), ("n", "mailto:x"),
                                      ("n", "http://127.0.0.1:1/x")])
def test_create_accepts_whatwg_urls_and_blank_names(c, h, name, url):
    r = c.post(f"{API}/webhooks", json={**VALID, "name": name, "url": url}, headers=h["bulk"])
    assert r.status_code == 201 and r.json()["data"]["name"] == name and r.json()["data"]["url"] == url


INVALID_ALL = ", ".join(EVENT_TYPES)


@pytest.mark.parametrize("body,message", [
    (None, messages.NAME_REQUIRED),
    ({}, messages.NAME_REQUIRED),
    ({"url": "bad", "events": []}, messages.NAME_REQUIRED),
    ({**VALID, "name": ""}, messages.NAME_REQUIRED),
    ({**VALID, "name": 5}, messages.NAME_REQUIRED),
    ({**VALID, "name": ["n"]}, messages.NAME_REQUIRED),
    ({"name": "n", "events": "bogus"}, messages.URL_REQUIRED),
    ({**VALID, "url": ""}, messages.URL_REQUIRED),
    ({**VALID, "url": 42}, messages.URL_REQUIRED),
    ({**VALID, "url": "not a url", "events": ["bogus"]}, messages.INVALID_URL),
    ({**VALID, "url": "//example.com/x"}, messages.INVALID_URL),
    ({**VALID, "url": "https://"}, messages.INVALID_URL),
    ({"name": "n", "url": "https://x.test"}, messages.EVENTS_REQUIRED),
    ({**VALID, "events": []}, messages.EVENTS_REQUIRED),
    ({**VALID, "events": "execution.completed"}, messages.EVENTS_REQUIRED),
    ({**VALID, "events": {"0": "execution.completed"}}, messages.EVENTS_REQUIRED),
    ({**VALID, "events": ["execution.completed", "bogus", "nope"]},
     f"Invalid event types: bogus, nope. Valid types: {INVALID_ALL}"),
    ({**VALID, "events": ["Execution.Completed"]}, f"Invalid event types: Execution.Completed. Valid types: {INVALID_ALL}"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_create_validation_order_and_messages(c, h, body, message):
    before = _list_ids(c, h)
    kwargs = {} if body is None else {"json": body}
    assert_error(c.post(f"{API}/webhooks", headers=h["bulk"], **kwargs), 400, "validation_error", message)
    assert _list_ids(c, h) == before


def test_create_valid_types_lists_all_ten_in_order(c, h):
    r = c.post(f"{API}/webhooks", json={**VALID, "events": ["x"]}, headers=h["bulk"])
    assert r.json()["error"]["message"] == (
        "Invalid event types: x. Valid types: execution.started, execution.completed, execution.failed, "
        "execution.cancelled, thread.message.created, thread.message.completed, thread.message.failed, "
        "agent.execution.started, agent.execution.completed, agent.execution.failed")


def test_create_every_event_type_is_accepted(c, h):
    r = c.post(f"{API}/webhooks", json={**VALID, "events": EVENT_TYPES}, headers=h["bulk"])
    assert r.status_code == 201 and r.json()["data"]["events"] == EVENT_TYPES


def test_create_name_too_long_is_internal_error(c, h):
    before = _list_ids(c, h)
    assert_error(c.post(f"{API}/webhooks", json={**VALID, "name": "n" * 256}, headers=h["bulk"]), 500, "internal_error",
           "value too long for type character varying(255)")
    assert _list_ids(c, h) == before
    assert c.post(f"{API}/webhooks", json={**VALID, "name": "n" * 255}, headers=h["bulk"]).status_code == 201


@pytest.mark.parametrize("events,shown", [([None], ""), ([{}], "[object Object]"), ([{"a": 1}], "[object Object]"),
                                          ([["a", "b"]], "a,b")], ids=repr)
def test_create_invalid_event_values_are_joined_as_javascript_does(c, h, events, shown):
    r = c.post(f"{API}/webhooks", json={**VALID, "events": events}, headers=h["bulk"])
    assert_error(r, 400, "validation_error", f"Invalid event types: {shown}. Valid types: {INVALID_ALL}")


def test_create_invalid_scalar_event_values_are_joined_as_javascript_does(c, h):
    r = c.post(f"{API}/webhooks", json={**VALID, "events": [5, True, 1.5, "execution.started"]}, headers=h["bulk"])
    assert_error(r, 400, "validation_error", f"Invalid event types: 5, true, 1.5. Valid types: {INVALID_ALL}")


@pytest.mark.parametrize("url,status", [("https:example.com", 201), ("http://exa mple.com", 400),
                                        ("http://%zz/", 400), ("https://exa<mple.com", 400),
                                        ("http://1.2.3.4.5/", 400)])
def test_create_url_checked_as_whatwg_new_url(c, h, url, status):
    r = c.post(f"{API}/webhooks", json={**VALID, "url": url}, headers=h["bulk"])
    assert r.status_code == status
    if status == 400:
        assert r.json()["error"]["message"] == messages.INVALID_URL


def test_create_url_too_long_is_internal_error(c, h):
    before = _list_ids(c, h)
    assert_error(c.post(f"{API}/webhooks", json={**VALID, "url": "https://x.test/" + "a" * 2040}, headers=h["bulk"]),
           500, "internal_error", "value too long for type character varying(2048)")
    assert _list_ids(c, h) == before


# ---------------------------------------------------------------- patch

def _patch(c, h, name, body=None, **kwargs):
    if body is not None:
        kwargs["json"] = body
    return c.patch(f"{API}/webhooks/{WH.get(name, name)}", headers=h["bulk"], **kwargs)


def test_patch_fields_and_changes(c, h, app):
    app.state.fake.clock.set(NOW_MS + 1000)
    r = _patch(c, h, "ops", {"name": "Renamed", "url": "https://new.example/x", "events": ["execution.failed"],
                             "headers": {"X-B": "2"}, "is_active": False})
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == PATCH_FIELDS  # no created_at, no secret
    later = iso(NOW_MS + 1000)
    assert data == {"id": WH["ops"], "name": "Renamed", "url": "https://new.example/x", "events": ["execution.failed"],
                    "headers": {"X-B": "2"}, "is_active": False, "updated_at": later}
    assert _get(c, h, WH["ops"]) == {**{k: v for k, v in data.items()}, "created_at": "2026-01-05T00:00:00.000Z"}


@pytest.mark.parametrize("body", [{}, {"secret": "whsec_x", "id": UNKNOWN, "created_at": "x", "user_id": U3}],
                         ids=["empty", "unknown-keys"])
def test_patch_without_updatable_keys_returns_unchanged(c, h, body):
    before = _get(c, h, WH["ops"])
    r = _patch(c, h, "ops", body)
    assert r.status_code == 200
    assert r.json()["data"] == {k: before[k] for k in PATCH_FIELDS}
    assert r.json()["data"]["updated_at"] == "2026-01-06T00:00:00.000Z"
    assert _get(c, h, WH["ops"]) == before


def test_patch_null_headers_clears(c, h):
    assert _patch(c, h, "ops", {"headers": None}).json()["data"]["headers"] is None
    assert _get(c, h, WH["ops"])["headers"] is None


def test_patch_empty_events_array_is_stored(c, h):
    assert _patch(c, h, "ops", {"events": []}).json()["data"]["events"] == []
    assert _get(c, h, WH["ops"])["events"] == []


def test_patch_empty_url_skips_validation_and_is_stored(c, h):
    r = _patch(c, h, "ops", {"url": ""})
    assert r.status_code == 200 and r.json()["data"]["url"] == "" and _get(c, h, WH["ops"])["url"] == ""


def test_patch_reactivates_inactive(c, h):
    assert _patch(c, h, "inactive", {"is_active": True}).json()["data"]["is_active"] is True


@pytest.mark.parametrize("body,message", [
    ({"url": "not a url", "name": "changed"}, messages.INVALID_URL),
    ({"url": 5}, messages.INVALID_URL),
    ({"events": ["execution.started", "bogus", "x.y"], "name": "changed"}, "Invalid event types: bogus, x.y"),
    ({"url": "bad url", "events": ["bogus"]}, messages.INVALID_URL),
])
def test_patch_validation_messages_and_no_change(c, h, body, message):
    before = _get(c, h, WH["ops"])
    assert_error(_patch(c, h, "ops", body), 400, "validation_error", message)
    assert _get(c, h, WH["ops"]) == before


@pytest.mark.parametrize("events", ["execution.started", {"a": 1}, 5, True], ids=repr)
def test_patch_non_array_events_is_framework_typeerror(c, h, events):
    before = _get(c, h, WH["ops"])
    r = _patch(c, h, "ops", {"events": events, "name": "changed"})
    assert r.status_code == 500
    assert r.json() == {"statusCode": 500, "error": "Internal Server Error",
                        "message": "body.events.filter is not a function"}
    assert _get(c, h, WH["ops"]) == before


@pytest.mark.parametrize("body,message", [
    ({"events": False}, 'malformed array literal: "false"'),
    ({"events": 0}, 'malformed array literal: "0"'),
    ({"events": ""}, 'malformed array literal: ""'),
    ({"events": None}, "violates not-null constraint"),
    ({"name": None}, "violates not-null constraint"),
    ({"url": None}, "violates not-null constraint"),
    ({"is_active": None}, "violates not-null constraint"),
    ({"name": "n" * 256}, "value too long for type character varying(255)"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_patch_values_postgres_rejects_are_internal_errors(c, h, body, message):
    # events are not validated when falsy, and nothing else is validated: the database decides
    before = _get(c, h, WH["ops"])
    r = _patch(c, h, "ops", body)
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
    assert message in r.json()["error"]["message"]
    assert _get(c, h, WH["ops"]) == before


@pytest.mark.parametrize("value,stored", [(1, True), ("yes", True), ("t", True), (0, False), ("off", False)],
                         ids=repr)
def test_patch_is_active_text_postgres_accepts(c, h, value, stored):
    r = _patch(c, h, "ops", {"is_active": value})
    assert r.status_code == 200 and r.json()["data"]["is_active"] is stored


def test_patch_numeric_name_is_stored_as_text(c, h):
    r = _patch(c, h, "ops", {"name": 5})
    assert r.status_code == 200 and r.json()["data"]["name"] == "5"


def test_patch_bad_boolean_is_internal_error(c, h):
    before = _get(c, h, WH["ops"])
    assert_error(_patch(c, h, "ops", {"is_active": "foo"}), 500, "internal_error",
           'invalid input syntax for type boolean: "foo"')
    assert _get(c, h, WH["ops"]) == before


def test_patch_other_workspace_key_404(c, h):
    r = c.patch(f"{API}/webhooks/{WH['ops']}", json={"name": "x"}, headers=h["other"])
    _hook_404(r, WH["ops"])
    assert _get(c, h, WH["ops"])["name"] == "Hook ops"


# ---------------------------------------------------------------- delete

def test_delete_soft_then_404(c, h, app):
    r = c.delete(f"{API}/webhooks/{WH['inactive']}", headers=h["bulk"])
    assert r.status_code == 200
    assert r.json()["data"] == {"id": WH["inactive"], "deleted": True} and list(r.json()["data"]) == ["id", "deleted"]
    stored = app.state.fake.store.webhooks[WH["inactive"]]
    assert stored.deleted_at == NOW_MS and stored.is_active is False
    _hook_404(c.delete(f"{API}/webhooks/{WH['inactive']}", headers=h["bulk"]), WH["inactive"])
    _hook_404(c.get(f"{API}/webhooks/{WH['inactive']}", headers=h["bulk"]), WH["inactive"])
    assert WH["inactive"] not in _list_ids(c, h)
    assert c.get(f"{API}/webhooks", headers=h["bulk"]).json()["pagination"]["total_count"] == 2


def test_delete_created_webhook(c, h):
    created = c.post(f"{API}/webhooks", json=VALID, headers=h["bulk"]).json()["data"]["id"]
    assert c.delete(f"{API}/webhooks/{created}", headers=h["bulk"]).status_code == 200
    assert created not in _list_ids(c, h)


# ---------------------------------------------------------------- deliveries

def test_deliveries_digit_ids_newest_first(c, h):
    r = c.get(f"{API}/webhooks/{WH['ops']}/deliveries", headers=h["bulk"])
    assert r.status_code == 200
    body = r.json()
    assert [d["id"] for d in body["data"]] == ["1000000", "42", "41", "43"]
    for d in body["data"]:
        assert list(d) == DELIVERY_FIELDS and isinstance(d["id"], str) and d["id"].isdigit()
    assert body["data"][1] == {"id": "42", "event_type": "execution.failed", "status": "failed", "attempts": 5,
                               "response_status": 500, "error_message": "HTTP 500",
                               "created_at": "2026-01-05T00:03:00.000Z", "last_attempt_at": "2026-01-05T01:00:00.000Z"}
    assert body["data"][3]["last_attempt_at"] is None and body["data"][3]["response_status"] is None
    assert body["pagination"]["total_count"] == 4


def test_deliveries_paginate(c, h):
    body = c.get(f"{API}/webhooks/{WH['ops']}/deliveries?per_page=3&page=2", headers=h["bulk"]).json()
    assert [d["id"] for d in body["data"]] == ["43"]
    assert body["pagination"] == {"page": 2, "per_page": 3, "total_count": 4, "total_pages": 2,
                                  "has_next": False, "has_prev": True}


def test_deliveries_empty_for_new_and_inactive(c, h):
    created = c.post(f"{API}/webhooks", json=VALID, headers=h["bulk"]).json()["data"]["id"]
    for id_ in (created, WH["inactive"]):
        body = c.get(f"{API}/webhooks/{id_}/deliveries", headers=h["bulk"]).json()
        assert body["data"] == [] and body["pagination"]["total_count"] == 0


# ---------------------------------------------------------------- /test against a real receiver

def _test(c, h, id_):
    r = c.post(f"{API}/webhooks/{id_}/test", headers=h["bulk"])
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _header(request, name):
    values = [v for k, v in request["headers"] if k.lower() == name.lower()]
    return values


def test_test_posts_signed_exact_body(c, h, received):
    data = _test(c, h, WH["ops"])
    assert data == {"success": True, "status_code": 200, "message": messages.TEST_DELIVERED}
    assert list(data) == ["success", "status_code", "message"]
    assert len(received) == 1
    request = received[0]
    assert request["method"] == "POST" and request["path"] == "/ops"
    expected = ('{"id":"test_%d","event":"test","created_at":"%s","data":{"message":'
                '"This is a test webhook from FlowMaestro","webhook_id":"%s"}}' % (NOW_MS, NOW, WH["ops"])).encode()
    assert request["body"] == expected
    assert list(json.loads(request["body"])) == ["id", "event", "created_at", "data"]
    signature = "v1=" + hmac.new(SECRET.encode(), expected, hashlib.sha256).hexdigest()
    assert _header(request, "X-FlowMaestro-Signature") == [signature]
    assert _header(request, "X-FlowMaestro-Delivery-ID") == [f"test_{NOW_MS}"]
    assert _header(request, "Content-Type") == ["application/json"]
    assert _header(request, "X-Team") == ["ops"] and _header(request, "Authorization") == ["Bearer t"]
    assert _header(request, "X-FlowMaestro-Event") == []
    assert _header(request, "User-Agent") == ["node"]


def test_test_with_a_created_webhook_signs_with_its_secret(c, h, receiver, received):
    created = c.post(f"{API}/webhooks", json={**VALID, "url": f"{receiver}/status/201", "headers": {"X-C": "c"}},
                     headers=h["bulk"]).json()["data"]
    data = _test(c, h, created["id"])
    assert data == {"success": True, "status_code": 201, "message": messages.TEST_DELIVERED}
    request = received[-1]
    payload = json.loads(request["body"])
    assert payload["id"] == _header(request, "X-FlowMaestro-Delivery-ID")[0] == f"test_{NOW_MS}"
    assert payload["data"]["webhook_id"] == created["id"]
    expected = "v1=" + hmac.new(created["secret"].encode(), request["body"], hashlib.sha256).hexdigest()
    assert _header(request, "X-FlowMaestro-Signature") == [expected]
    assert _header(request, "X-C") == ["c"]


@pytest.mark.parametrize("status", [500, 404, 400, 503])
def test_test_non_2xx_reports_failure_with_status(c, h, receiver, received, status):
    created = c.post(f"{API}/webhooks", json={**VALID, "url": f"{receiver}/status/{status}"},
                     headers=h["bulk"]).json()["data"]
    data = _test(c, h, created["id"])
    assert data == {"success": False, "status_code": status, "message": f"Test webhook failed with status {status}"}
    assert data["message"] == messages.TEST_FAILED_STATUS.format(status=status)
    assert len(received) == 1


def test_test_closed_port_is_fetch_failed(c, h):
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    created = c.post(f"{API}/webhooks", json={**VALID, "url": url}, headers=h["bulk"]).json()["data"]
    data = _test(c, h, created["id"])
    assert data == {"success": False, "error": "fetch failed", "message": messages.TEST_NOT_DELIVERED}
    assert list(data) == ["success", "error", "message"]


def test_test_non_http_scheme_is_fetch_failed(c, h):
    created = c.post(f"{API}/webhooks", json={**VALID, "url": "mailto:ops@example.com"}, headers=h["bulk"])
    data = _test(c, h, created.json()["data"]["id"])
    assert data == {"success": False, "error": messages.FETCH_FAILED, "message": messages.TEST_NOT_DELIVERED}


def test_test_inactive_webhook_is_still_sent(c, h, received):
    data = _test(c, h, WH["inactive"])
    assert data["success"] is True and [r["path"] for r in received] == ["/inactive"]
    # and one deactivated through the API
    _patch(c, h, "ops", {"is_active": False})
    assert _test(c, h, WH["ops"])["success"] is True and len(received) == 2


def test_test_writes_no_delivery(c, h):
    before = c.get(f"{API}/webhooks/{WH['ops']}/deliveries", headers=h["bulk"]).json()["data"]
    _test(c, h, WH["ops"])
    assert c.get(f"{API}/webhooks/{WH['ops']}/deliveries", headers=h["bulk"]).json()["data"] == before


def test_test_follows_a_302_as_get_without_body(c, h, receiver, received):
    created = c.post(f"{API}/webhooks", json={**VALID, "url": f"{receiver}/redirect"}, headers=h["bulk"]).json()
    data = _test(c, h, created["data"]["id"])
    assert data == {"success": True, "status_code": 200, "message": messages.TEST_DELIVERED}
    assert [(r["method"], r["path"], r["body"]) for r in received][-1] == ("GET", "/landed", b"")
    assert received[0]["method"] == "POST"


def test_test_custom_headers_override_the_defaults(c, h, receiver, received):
    created = c.post(f"{API}/webhooks", json={**VALID, "url": f"{receiver}/custom",
                                              "headers": {"X-FlowMaestro-Signature": "v1=spoofed"}},
                     headers=h["bulk"]).json()["data"]
    _test(c, h, created["id"])
    assert _header(received[-1], "X-FlowMaestro-Signature") == ["v1=spoofed"]


def test_test_custom_user_agent_replaces_node_default(c, h, receiver, received):
    created = c.post(f"{API}/webhooks", json={**VALID, "url": f"{receiver}/ua", "headers": {"User-Agent": "mine/1"}},
                     headers=h["bulk"]).json()["data"]
    _test(c, h, created["id"])
    assert _header(received[-1], "User-Agent") == ["mine/1"]

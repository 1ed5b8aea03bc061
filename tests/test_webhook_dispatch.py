"""Webhooks that arrive (CONTRACT.md §8.1, §8.2; quirks webhook_dispatch_dead and
webhook_patch_events_typeerror): a real fake server on 127.0.0.1 sends to a real receiver
on 127.0.0.1 that checks every signature over the exact bytes it got. Retries fall due on
the fake clock, moved through the admin API."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from flowmaestro import FlowMaestroClient
from starlette.testclient import TestClient

from fakemaestro import messages
from fakemaestro.clock import Clock, iso, parse_instant
from fakemaestro.resources import webhooks as webhook_resource
from fakemaestro.scenario import Scenario
from fakemaestro.sim import dispatcher
from fakemaestro.sim.world import DomainEvent
from fakemaestro.testing import serve_in_thread

from .conftest import keys_of, make_app

API = "/api/v1"
NOW = "2026-03-04T05:06:07.089Z"
NOW_MS = parse_instant(NOW)
MINUTE = 60_000
U1, U2 = "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002"
W1, W2 = "b0000000-0000-4000-8000-000000000001", "b0000000-0000-4000-8000-000000000002"
HOOK = {name: f"30000000-0000-4000-8000-00000000000{i}" for i, name in
        enumerate(["main", "elsewhere", "colleague", "paused", "deleted", "threads"], 1)}
WF = "c0000000-0000-4000-8000-000000000001"
EX = "d0000000-0000-4000-8000-000000000001"
SECRET = "whsec_" + "5e" * 32
UUID_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
PRODUCTION_HEADERS = ["Content-Type", "X-FlowMaestro-Signature", "X-FlowMaestro-Delivery-ID", "X-FlowMaestro-Event",
                      "User-Agent"]
COMPLETED = {"execution_id": EX, "workflow_id": WF, "workflow_name": "Nightly report", "status": "completed",
             "started_at": "2026-03-04T05:06:00.000Z", "completed_at": NOW, "outputs": {"total": 2.0, "ok": True}}
COMPLETED_TEXT = ('{"execution_id":"%s","workflow_id":"%s","workflow_name":"Nightly report","status":"completed",'
                  '"started_at":"2026-03-04T05:06:00.000Z","completed_at":"%s","outputs":{"total":2,"ok":true}}'
                  % (EX, WF, NOW))


# ---------------------------------------------------------------- a real receiver

class Receiver:
    """Answers POST /<name> with the statuses scripted for it, in turn (the last one
    repeats; 200 when none), and records each request: headers in wire order, the exact
    body, whether its signature is right for `secret`."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.scripts: dict[str, list[int]] = {}
        self.delays: dict[str, float] = {}
        self.bodies: dict[str, bytes] = {}
        self.secret = SECRET
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                path = self.path.lstrip("/")
                receiver._record(self.command, path, self.headers.items(), body)
                # the answer is decided on arrival: a slow one must not touch the next test's script
                status, reply = receiver._status(path), receiver.bodies.get(path, b"received")
                time.sleep(receiver.delays.get(path, 0))
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _record(self, method, path, headers, body) -> None:
        signature = dict((k.lower(), v) for k, v in headers).get("x-flowmaestro-signature")
        expected = "v1=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        with self._lock:
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body,
                                  "signed": signature == expected})

    def _status(self, path: str) -> int:
        with self._lock:
            script = self.scripts.get(path) or [200]
            return script.pop(0) if len(script) > 1 else script[0]

    def to(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture(scope="module")
def _receiver_server():
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def receiver(_receiver_server):
    r = _receiver_server
    r.requests.clear(), r.scripts.clear(), r.delays.clear(), r.bodies.clear()
    r.secret = SECRET
    return r


def header(request: dict, name: str) -> list[str]:
    return [v for k, v in request["headers"] if k.lower() == name.lower()]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the fake

def scenario(base: str, profile: str | None = "intended", main: dict | None = None, **data) -> Scenario:
    """U1 owns workspaces W1 and W2; U2 works in W1. Only `main` (U1, W1) and `elsewhere`
    (U1, W2: production looks subscribers up by user) take U1's execution.completed."""
    def hook(name, user=U1, workspace=W1, **extra):
        return {"id": HOOK[name], "user": user, "workspace": workspace, "name": f"Hook {name}",
                "url": f"{base}/{name}", "secret": SECRET, "events": ["execution.completed"],
                "created_at": f"2026-01-0{list(HOOK).index(name) + 1}T00:00:00Z", **extra}
    hooks = [hook("main", **{"headers": {"X-Team": "ops"}, **(main or {})}), hook("elsewhere", workspace=W2),
             hook("colleague", user=U2), hook("paused", is_active=False),
             hook("deleted", deleted_at="2026-02-01T00:00:00Z"), hook("threads", events=["thread.message.created"])]
    big = {"per_minute": 10**6, "per_day": 10**8}
    body = {"seed": 8, "tenants": {
        "users": [{"id": U1}, {"id": U2}],
        "workspaces": [{"id": W1, "owner": U1}, {"id": W2, "owner": U1}],
        "api_keys": [{"name": "u1", "user": U1, "workspace": W1, **big},
                     {"name": "u1-w2", "user": U1, "workspace": W2, **big}]},
        "data": {"webhooks": hooks, **data.pop("extra_data", {})}, **data}
    if profile:
        body["profile"] = profile
    return Scenario(body)


class Fake:
    """A served fake and what a test does with it."""

    def __init__(self, server) -> None:
        self.server, self.base = server, server.base_url
        self.state = server.state

    def publish(self, kind: str = "execution.completed", data: dict | None = None, user: str = U1,
                workspace: str = W1) -> None:
        self.state.world.publish(DomainEvent(kind, user, workspace, data or COMPLETED, self.state.clock.now_ms()))

    def move(self, advance_ms: int = 0) -> None:
        """POST /_fakemaestro/clock: returns once what the move made due has been sent."""
        r = httpx.post(f"{self.base}/_fakemaestro/clock", json={"advance_ms": advance_ms}, trust_env=False)
        assert r.status_code == 200, r.text

    def api(self, method: str, path: str, key: str = "u1", **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.base}{API}{path}", headers={"X-API-Key": self.server.key(key)},
                             trust_env=False, **kwargs)

    def deliveries(self, hook: str = "main", key: str = "u1") -> list[dict]:
        r = self.api("GET", f"/webhooks/{HOOK[hook]}/deliveries", key)
        assert r.status_code == 200, r.text
        return r.json()["data"]


@contextmanager
def serving(scn: Scenario, clock_ms: int = NOW_MS):
    with serve_in_thread(make_app(scn, clock=Clock(frozen_at_ms=clock_ms))) as server:
        yield Fake(server)


def delivery(id_: int, status: str, attempts: int, response_status, error, last_ms, created_ms=NOW_MS,
             event: str = "execution.completed") -> dict:
    return {"id": str(id_), "event_type": event, "status": status, "attempts": attempts,
            "response_status": response_status, "error_message": error, "created_at": iso(created_ms),
            "last_attempt_at": iso(last_ms)}


# ---------------------------------------------------------------- quirk on: dead, as production

def test_production_profile_sends_nothing_to_subscribed_webhooks(receiver):
    seeded = {"id": 7, "event_type": "execution.completed", "status": "retrying", "attempts": 1,
              "payload": {"event": "execution.completed", "data": {}}, "created_at": "2026-03-01T00:00:00Z",
              "next_retry_at": "2026-03-01T00:02:00Z", "error_message": "fetch failed"}
    with serving(scenario(receiver.url, profile=None, main={"deliveries": [seeded]})) as fake:
        assert fake.state.fidelity.on("webhook_dispatch_dead")
        for kind in dispatcher.EVENT_TYPES:
            fake.publish(kind)
        fake.move(0)
        fake.move(60 * MINUTE)
        assert receiver.requests == []
        # only the seeded history: production's dispatcher never runs, its retries neither
        assert fake.deliveries() == [delivery(7, "retrying", 1, None, "fetch failed", None,
                                              parse_instant("2026-03-01T00:00:00Z"))]
        assert fake.deliveries("elsewhere", "u1-w2") == []
        assert fake.api("POST", f"/webhooks/{HOOK['main']}/test").json()["data"]["success"] is True
        assert [r["path"] for r in receiver.requests] == ["main"]  # /test still sends


# ---------------------------------------------------------------- quirk off: delivered

def test_event_goes_to_the_users_subscribed_webhooks_signed_over_the_exact_body(receiver):
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        assert sorted(r["path"] for r in receiver.requests) == ["elsewhere", "main"]
        assert all(r["signed"] and r["method"] == "POST" for r in receiver.requests)
        main, elsewhere = receiver.to("main")[0], receiver.to("elsewhere")[0]
        payload = json.loads(main["body"])
        assert UUID_V4.fullmatch(payload["id"]) and payload["id"] != json.loads(elsewhere["body"])["id"]
        assert main["body"] == ('{"id":"%s","event":"execution.completed","created_at":"%s","data":%s}'
                                % (payload["id"], NOW, COMPLETED_TEXT)).encode()
        assert fake.deliveries() == [delivery(1, "success", 1, 200, None, NOW_MS)]
        assert fake.deliveries("elsewhere", "u1-w2") == [delivery(2, "success", 1, 200, None, NOW_MS)]
        for hook in ("colleague", "paused", "threads"):
            assert fake.deliveries(hook) == []
        assert [d.webhook_id for d in fake.state.store.delivery_rows.values()] == [HOOK["main"], HOOK["elsewhere"]]
        assert fake.state.store.delivery_rows[1].response_body == "received"


def test_headers_in_production_order_with_custom_headers_spread_last(receiver):
    custom = {"X-Team": "ops", "X-FlowMaestro-Event": "overridden", "user-agent": "theirs/2"}
    with serving(scenario(receiver.url, main={"headers": custom})) as fake:
        fake.publish()
        fake.move(0)
        request = receiver.to("main")[0]
        names = [k for k, _ in request["headers"]]
        assert names[1:7] == PRODUCTION_HEADERS + ["X-Team"]  # after Host; fetch's defaults follow
        assert header(request, "Content-Type") == ["application/json"]
        assert header(request, "X-FlowMaestro-Delivery-ID") == ["1"]
        assert header(request, "X-FlowMaestro-Event") == ["overridden"]  # same spelling: replaced in place
        # another spelling is another key of the object; Headers folds the two into one value
        assert header(request, "User-Agent") == ["FlowMaestro-Webhook/1.0, theirs/2"]
        assert header(request, "X-Team") == ["ops"]
        assert header(request, "accept") == ["*/*"]
        sig = "v1=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
        assert header(request, "X-FlowMaestro-Signature") == [sig]


def test_every_event_type_reaches_a_webhook_subscribed_to_it_and_only_those(receiver):
    events = ["execution.cancelled", "thread.message.created", "agent.execution.failed"]  # as published
    with serving(scenario(receiver.url, main={"events": events})) as fake:
        for kind in dispatcher.EVENT_TYPES:
            fake.publish(kind, {"thread_id": "t", "kind": kind})
        fake.publish("execution:completed")  # an SSE event name, not a webhook event type
        fake.move(0)
        got = [json.loads(r["body"]) for r in receiver.to("main")]
        assert [p["event"] for p in got] == events == [header(r, "X-FlowMaestro-Event")[0]
                                                       for r in receiver.to("main")]
        assert [p["data"] for p in got] == [{"thread_id": "t", "kind": k} for k in events]
        assert [d["event_type"] for d in fake.deliveries()] == events[::-1]  # newest first; same instant: id desc
        assert [r["path"] for r in receiver.requests].count("threads") == 1


def test_500_then_200_retries_after_two_minutes_with_the_jsonb_ordered_body(receiver):
    receiver.scripts["main"] = [500, 200]
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        assert fake.deliveries() == [delivery(1, "retrying", 1, 500, "HTTP 500", NOW_MS)]
        fake.move(2 * MINUTE - 1)
        assert len(receiver.to("main")) == 1
        fake.move(1)
        first, retry = receiver.to("main")
        assert retry["signed"] and header(retry, "X-FlowMaestro-Delivery-ID") == ["1"]
        payload = json.loads(first["body"])
        # jsonb: shorter keys first, then bytewise, at every level
        data_text = ('{"status":"completed","outputs":{"ok":true,"total":2},"started_at":"2026-03-04T05:06:00.000Z",'
                     '"workflow_id":"%s","completed_at":"%s","execution_id":"%s","workflow_name":"Nightly report"}'
                     % (WF, NOW, EX))
        assert retry["body"] == ('{"id":"%s","data":%s,"event":"execution.completed","created_at":"%s"}'
                                 % (payload["id"], data_text, NOW)).encode()
        # markSuccess leaves the last error in place
        assert fake.deliveries() == [delivery(1, "success", 2, 200, "HTTP 500", NOW_MS + 2 * MINUTE)]


def test_always_500_retries_at_2_4_8_16_minutes_then_fails(receiver):
    receiver.scripts["main"] = [500]
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        at = NOW_MS
        for attempt, gap in enumerate([2, 4, 8, 16], 2):
            fake.move(gap * MINUTE - 1)
            assert len(receiver.to("main")) == attempt - 1
            fake.move(1)
            at += gap * MINUTE
            assert len(receiver.to("main")) == attempt
            status = "failed" if attempt == 5 else "retrying"
            assert fake.deliveries() == [delivery(1, status, attempt, 500, "HTTP 500", at)]
        assert at == NOW_MS + 30 * MINUTE
        fake.move(24 * 60 * MINUTE)
        assert len(receiver.to("main")) == 5
        assert all(r["signed"] for r in receiver.requests)
        assert len({r["body"] for r in receiver.to("main")[1:]}) == 1  # every retry sends the same bytes


def test_one_long_clock_move_sends_every_retry_due_with_the_same_records(receiver):
    receiver.scripts["main"] = [500]
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        fake.move(60 * MINUTE)
        assert len(receiver.to("main")) == 5
        assert fake.deliveries() == [delivery(1, "failed", 5, 500, "HTTP 500", NOW_MS + 30 * MINUTE)]


@pytest.mark.parametrize("status,reason", [(404, "Not Found"), (400, "Bad Request"), (410, "Gone"),
                                           (501, "Not Implemented")])
def test_other_non_2xx_fails_at_once_with_status_text(receiver, status, reason):
    receiver.scripts["main"] = [status]
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        fake.move(60 * MINUTE)
        assert len(receiver.to("main")) == 1
        assert fake.deliveries() == [delivery(1, "failed", 1, status, f"HTTP {status}: {reason}", NOW_MS)]


@pytest.mark.parametrize("status", sorted(dispatcher.RETRYABLE_STATUSES))
def test_retryable_statuses(receiver, status):
    receiver.scripts["main"] = [status, 201]
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        assert fake.deliveries()[0]["status"] == "retrying"
        fake.move(2 * MINUTE)
        assert fake.deliveries() == [delivery(1, "success", 2, 201, f"HTTP {status}", NOW_MS + 2 * MINUTE)]


def test_connection_refused_is_fetch_failed_and_retried(receiver):
    with serving(scenario(receiver.url, main={"url": f"http://127.0.0.1:{closed_port()}/hook"})) as fake:
        fake.publish()
        fake.move(0)
        assert fake.deliveries() == [delivery(1, "retrying", 1, None, messages.FETCH_FAILED, NOW_MS)]
        fake.move(2 * MINUTE)
        assert fake.deliveries() == [delivery(1, "retrying", 2, None, "fetch failed", NOW_MS + 2 * MINUTE)]
        assert fake.state.store.delivery_rows[1].next_retry_at == NOW_MS + 6 * MINUTE


def test_timeout_is_the_abort_message(receiver, monkeypatch):
    monkeypatch.setattr(dispatcher, "TIMEOUT_S", 0.3)
    receiver.delays["main"] = 1.0
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        assert fake.deliveries() == [delivery(1, "retrying", 1, None, messages.FETCH_TIMEOUT, NOW_MS)]


def test_retry_of_a_deactivated_or_deleted_webhook_fails_without_a_request(receiver):
    receiver.scripts["main"] = receiver.scripts["elsewhere"] = [500]
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        assert fake.api("PATCH", f"/webhooks/{HOOK['main']}", json={"is_active": False}).status_code == 200
        assert fake.api("DELETE", f"/webhooks/{HOOK['elsewhere']}", "u1-w2").status_code == 200
        fake.move(2 * MINUTE)
        assert len(receiver.requests) == 2
        assert fake.deliveries() == [delivery(1, "failed", 1, 500, "HTTP 500", NOW_MS)]
        gone = fake.state.store.delivery_rows[2]
        assert (gone.status, gone.attempts, gone.next_retry_at) == ("failed", 1, None)


def test_a_scenarios_due_retrying_delivery_is_resent_as_jsonb_returns_it(receiver):
    seeded = {"id": 41, "event_type": "execution.completed", "status": "retrying", "attempts": 2,
              "payload": {"event": "execution.completed", "data": {"b": 1, "a": 2, "10": 3, "2": 4, "aa": [1.5]}},
              "created_at": "2026-03-04T05:00:00Z", "last_attempt_at": "2026-03-04T05:02:00Z",
              "next_retry_at": "2026-03-04T05:06:00Z", "error_message": "HTTP 503", "response_status": 503}
    with serving(scenario(receiver.url, main={"deliveries": [seeded]})) as fake:
        fake.move(0)
        (request,) = receiver.requests
        # jsonb: shorter keys first ("2","a","b","10","aa"), then JSON.parse puts index keys first
        assert request["body"] == b'{"data":{"2":4,"10":3,"a":2,"b":1,"aa":[1.5]},"event":"execution.completed"}'
        assert request["signed"] and header(request, "X-FlowMaestro-Delivery-ID") == ["41"]
        due, created = parse_instant("2026-03-04T05:06:00Z"), parse_instant("2026-03-04T05:00:00Z")
        assert fake.deliveries()[0] == delivery(41, "success", 3, 200, "HTTP 503", due, created)
        fake.publish()
        fake.move(0)
        assert fake.deliveries()[0]["id"] == "42"  # new ids follow the stored ones


def test_a_payload_jsonb_refuses_makes_no_delivery(receiver):
    with serving(scenario(receiver.url)) as fake:
        fake.publish(data={"note": "nul \x00 inside"})  # Postgres: unsupported Unicode escape sequence
        fake.publish(data={"note": "fine"})
        fake.move(0)
        assert [json.loads(r["body"])["data"] for r in receiver.to("main")] == [{"note": "fine"}]
        assert [d["id"] for d in fake.deliveries()] == ["1"]


def test_response_body_and_error_are_truncated(receiver):
    receiver.bodies["main"] = "é".encode() * 12_000
    with serving(scenario(receiver.url)) as fake:
        fake.publish()
        fake.move(0)
        assert fake.state.store.delivery_rows[1].response_body == "é" * 10_000
    assert dispatcher.js_slice("x" * 999 + "😀", 1000) == "x" * 999 + "\ufffd"  # a pair cut in half
    assert dispatcher.js_slice("😀" * 10, 1000) == "😀" * 10


def test_same_scenario_seed_and_clock_moves_give_the_same_deliveries(receiver):
    def run():
        receiver.requests.clear()
        receiver.scripts["main"] = [500, 503, 200]
        with serving(scenario(receiver.url)) as fake:
            fake.publish()
            fake.publish("execution.completed", {"n": 2})
            fake.move(0)
            fake.move(7 * MINUTE)
            rows = [(d.id, d.payload, d.status, d.attempts, d.last_attempt_at, d.next_retry_at)
                    for d in fake.state.store.delivery_rows.values()]
            return rows, fake.deliveries(), sorted(r["body"] for r in receiver.requests)
    first, second = run(), run()
    assert first == second
    assert [row[0] for row in first[0]] == [1, 2, 3, 4]


# ---------------------------------------------------------------- end to end through the API

WORKFLOW_DEF = {"nodes": [{"id": "input_1", "type": "input", "data": {"label": "Topic", "variableName": "topic"}},
                          {"id": "output_1", "type": "output", "data": {"outputName": "out", "value": "{{topic}}"}}],
                "edges": [{"id": "e1", "source": "input_1", "target": "output_1"}]}


def test_executing_a_workflow_delivers_started_and_completed(receiver):
    workflow = {"id": WF, "user": U1, "workspace": W1, "name": "Nightly report", "definition": WORKFLOW_DEF,
                "created_at": "2026-01-01T00:00:00Z"}
    scn = scenario(receiver.url, main={"events": ["execution.started", "execution.completed"]},
                   extra_data={"workflows": [workflow]},
                   behaviours={"workflows": {WF: {"duration_ms": 1000, "outputs": {"answer": "{{inputs.topic}}"}}}})
    with serving(scn) as fake:
        with FlowMaestroClient(api_key=fake.server.key("u1"), base_url=fake.base, max_retries=0) as client:
            execution_id = client.workflows.execute(WF, inputs={"topic": "tides"})["data"]["execution_id"]
        deadline = time.monotonic() + 5
        while len(receiver.to("main")) < 2 and time.monotonic() < deadline:
            fake.move(1000)  # the run goes on with the clock; each move returns once its sends are done
        started, completed = (json.loads(r["body"]) for r in receiver.to("main"))
        assert [started["event"], completed["event"]] == ["execution.started", "execution.completed"]
        assert completed["data"]["execution_id"] == execution_id and completed["data"]["status"] == "completed"
        assert completed["data"]["outputs"] == {"answer": "tides"}
        assert all(r["signed"] for r in receiver.requests)
        assert [d["status"] for d in fake.deliveries()] == ["success", "success"]


AGENT, THREAD = "e0000000-0000-4000-8000-000000000001", "f0000000-0000-4000-8000-000000000001"


def test_an_agent_reply_delivers_thread_message_and_agent_execution_events(receiver):
    kinds = ["thread.message.created", "thread.message.completed", "agent.execution.started",
             "agent.execution.completed"]
    extra = {"agents": [{"id": AGENT, "user": U1, "workspace": W1, "name": "Echo"}],
             "threads": [{"id": THREAD, "user": U1, "workspace": W1, "agent": AGENT,
                          "created_at": "2026-02-01T00:00:00Z"}]}
    with serving(scenario(receiver.url, main={"events": kinds}, extra_data=extra)) as fake:
        with FlowMaestroClient(api_key=fake.server.key("u1"), base_url=fake.base, max_retries=0) as client:
            reply = client.threads.send_message(THREAD, "hello there")["data"]
        fake.move(0)
        got = [json.loads(r["body"]) for r in receiver.to("main")]
        assert [(p["event"], p["data"].get("role")) for p in got] == [
            ("thread.message.created", "user"), ("agent.execution.started", None),
            ("thread.message.created", "assistant"), ("thread.message.completed", "assistant"),
            ("agent.execution.completed", None)]
        assert got[0]["data"]["content"] == "hello there"
        assert got[2]["data"]["content"] == reply["message"]["content"]
        assert got[4]["data"]["status"] == "completed"
        assert {p["data"]["thread_id"] for p in got} == {THREAD}
        assert len(receiver.to("threads")) == 2 and all(r["signed"] for r in receiver.requests)


# ---------------------------------------------------------------- quirk webhook_patch_events_typeerror

@pytest.mark.parametrize("events", ["execution.started", {"a": 1}, 5, True], ids=repr)
@pytest.mark.parametrize("quirk", [True, False], ids=["on", "off"])
def test_patch_with_non_array_events(receiver, quirk, events):
    app = make_app(scenario(receiver.url), quirks={"webhook_patch_events_typeerror": quirk})
    headers = {"X-API-Key": keys_of(app)["u1"]}
    with TestClient(app, base_url="http://127.0.0.1") as c:
        before = c.get(f"{API}/webhooks/{HOOK['main']}", headers=headers).json()["data"]
        r = c.patch(f"{API}/webhooks/{HOOK['main']}", json={"events": events, "name": "changed"}, headers=headers)
        if quirk:
            assert r.status_code == 500
            assert r.json() == {"statusCode": 500, "error": "Internal Server Error",
                                "message": "body.events.filter is not a function"}
        else:
            assert r.status_code == 400
            assert r.json()["error"] == {"code": "validation_error", "message": webhook_resource.EVENTS_NOT_ARRAY}
        assert c.get(f"{API}/webhooks/{HOOK['main']}", headers=headers).json()["data"] == before

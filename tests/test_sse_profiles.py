"""GET /executions/:id/events in both profiles (CONTRACT.md §7, §9.4), over real sockets,
with the official SDK's `executions.stream()` and with raw httpx streaming.

Quirk sse_live_events_silent: production sends a live execution `connected`, then only
keep-alives, and never closes (the SDK's 5 s read timeout then ends the stream with its
StreamError); intended, the run's events follow as they happen and the stream closes
500 ms after the terminal one. Keep-alives come every sse_keepalive_ms of the fake clock.
Quirk sse_drops_headers: production's raw writeHead keeps only four headers."""
from __future__ import annotations

import json
import queue
import threading
import time

import httpx
import pytest
from flowmaestro import FlowMaestroClient
from flowmaestro.errors import StreamError

from fakemaestro.clock import Clock
from fakemaestro.http.sse import KEEPALIVE
from fakemaestro.testing import serve_in_thread

from .conftest import make_app
from .test_lifecycle import T0, WF, scenario

SSE_HEAD = {"content-type": "text/event-stream", "cache-control": "no-cache", "connection": "keep-alive",
            "x-accel-buffering": "no"}
NOISE = {"X-Request-ID": "req-sse-1", "X-Trace-ID": "trace-sse-1", "Origin": "https://app.example.test"}
RUN_TYPES = ["execution:started", "node:started", "node:completed", "execution:progress",
             "node:started", "node:completed", "execution:progress", "execution:completed"]


class Served:
    """A real server on a frozen clock, its SDK client and a raw httpx client."""

    def __init__(self, server, clock: Clock) -> None:
        self.server, self.clock = server, clock
        self.key = server.key("ci")
        self.http = httpx.Client(base_url=server.base_url, trust_env=False, timeout=10)
        self.sdk = FlowMaestroClient(api_key=self.key, base_url=server.base_url, max_retries=0)

    def execute(self, name: str) -> str:
        return self.sdk.workflows.execute(WF[name], inputs={"message": "hi"})["data"]["execution_id"]

    def stream(self, execution_id: str, **headers) -> "Reader":
        return Reader(self.http, f"/api/v1/executions/{execution_id}/events", {"X-API-Key": self.key, **headers})


@pytest.fixture
def serve():
    opened = []

    def start(**top) -> Served:
        clock = Clock(frozen_at_ms=T0)
        context = serve_in_thread(make_app(scenario(**top), clock=clock))
        served = Served(context.__enter__(), clock)
        opened.append((context, served))
        return served

    yield start
    for context, served in opened:
        served.http.close()
        served.sdk.close()
        context.__exit__(None, None, None)


class Reader:
    """A raw SSE response read in a background thread, so the test can wait with a deadline."""

    def __init__(self, http: httpx.Client, url: str, headers: dict) -> None:
        self._context = http.stream("GET", url, headers=headers)
        self.response = self._context.__enter__()
        self.body, self.eof_at = b"", None
        self._chunks: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        try:
            for chunk in self.response.iter_raw():
                self._chunks.put(chunk)
        except Exception:  # closed by the test
            pass
        self._chunks.put(None)

    def until(self, done, timeout: float = 3.0) -> bytes:
        """Read until done(body) holds, the stream ends, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not done(self.body) and self.eof_at is None:
            try:
                chunk = self._chunks.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if chunk is None:
                self.eof_at = time.monotonic()
            else:
                self.body += chunk
        return self.body

    def frames(self) -> list[tuple[str, dict]]:
        found = []
        for block in self.body.decode().split("\n\n"):
            if block.startswith("event: "):
                name_line, data_line = block.split("\n")
                assert data_line.startswith("data: ")
                found.append((name_line[len("event: "):], json.loads(data_line[len("data: "):])))
        return found

    def headers(self) -> dict[str, str]:
        return {k.decode().lower(): v.decode() for k, v in self.response.headers.raw}

    def close(self) -> None:
        self._context.__exit__(None, None, None)


def _has(text: bytes):
    return lambda body: text in body


# ---------------------------------------------------------------- production (quirks on)

def test_production_sdk_stream_gets_connected_then_times_out_after_5s_of_silence(serve):
    served = serve()
    eid = served.execute("echo")
    seen, started = [], time.monotonic()
    with pytest.raises(StreamError) as info:
        for event in served.sdk.executions.stream(eid):  # the clock stays frozen: no keep-alive comes
            seen.append(event)
    elapsed = time.monotonic() - started
    assert seen == [{"execution_id": eid, "status": "pending"}]
    assert info.value.message == "SSE stream timed out: timed out"
    assert 4.5 <= elapsed < 9, elapsed  # httpx's default 5 s read timeout, not the server


def test_production_raw_stream_keeps_alive_on_the_fake_clock_and_forwards_nothing(serve):
    served = serve()
    eid = served.execute("echo")
    stream = served.stream(eid, **NOISE)
    try:
        headers = stream.headers()
        assert {k: v for k, v in headers.items() if k not in ("date", "transfer-encoding")} == SSE_HEAD
        connected = f'event: connected\ndata: {{"execution_id":"{eid}","status":"pending"}}\n\n'.encode()
        assert stream.until(_has(b"\n\n")) == connected
        assert stream.until(_has(KEEPALIVE), timeout=0.4) == connected  # no real-time keep-alive
        served.clock.advance(30_000)  # the run completes and a keep-alive falls due
        assert stream.until(_has(KEEPALIVE)) == connected + KEEPALIVE
        assert stream.until(lambda body: False, timeout=0.6) == connected + KEEPALIVE  # no events, still open
        assert stream.eof_at is None
        assert served.sdk.executions.get(eid)["data"]["status"] == "completed"  # it ran, silently
    finally:
        stream.close()


# ---------------------------------------------------------------- intended (quirks off)

def test_intended_sdk_stream_yields_the_run_and_ends(serve):
    served = serve(profile="intended")
    eid = served.execute("echo")
    seen, started = [], time.monotonic()
    for event in served.sdk.executions.stream(eid):
        seen.append(event)
        if len(seen) == 1:
            served.clock.advance(60_000)  # the whole run falls due
    assert time.monotonic() - started < 4
    assert seen[0] == {"execution_id": eid, "status": "pending"}  # `connected` has no `type`
    assert [e["type"] for e in seen[1:]] == RUN_TYPES
    assert all(e["executionId"] == eid for e in seen[1:])
    assert seen[-1]["outputs"] == {"result": "You said hi"}
    record = served.sdk.executions.get(eid)["data"]
    assert record["status"] == "completed" and record["outputs"] == seen[-1]["outputs"]


def test_intended_raw_stream_names_frames_by_type_and_closes_500ms_after_the_end(serve):
    served = serve(profile="intended")
    eid = served.execute("fail")
    stream = served.stream(eid)
    try:
        stream.until(_has(b"\n\n"))
        served.clock.advance(60_000)
        stream.until(_has(b"event: execution:failed"))
        terminal_at = time.monotonic()
        stream.until(lambda body: False, timeout=3)
        assert stream.eof_at is not None and 0.4 <= stream.eof_at - terminal_at < 2
    finally:
        stream.close()
    frames = stream.frames()
    assert frames[0] == ("connected", {"execution_id": eid, "status": "pending"})
    assert all(name == payload["type"] for name, payload in frames[1:])
    assert [name for name, _ in frames[1:]] == ["execution:started", "node:started", "node:completed",
                                                "execution:progress", "node:started", "node:failed",
                                                "execution:failed"]
    assert b"id:" not in stream.body and b"retry:" not in stream.body


def test_intended_keepalives_follow_the_fake_clock_and_cancel_closes(serve):
    served = serve(profile="intended")
    eid = served.execute("never")  # never picked up: only keep-alives until something happens
    stream = served.stream(eid)
    try:
        connected = stream.until(_has(b"\n\n"))
        assert stream.until(_has(KEEPALIVE), timeout=0.3) == connected
        served.clock.advance(30_000)
        assert stream.until(_has(KEEPALIVE)) == connected + KEEPALIVE
        assert served.http.post(f"/api/v1/executions/{eid}/cancel",
                                headers={"X-API-Key": served.key}).status_code == 200
        stream.until(lambda body: False, timeout=3)
        assert stream.eof_at is not None
    finally:
        stream.close()
    now = served.clock.now_ms()
    assert stream.frames()[-1] == ("execution:cancelled", {"type": "execution:cancelled", "timestamp": now,
                                                           "executionId": eid, "status": "cancelled"})


def test_forwarding_without_the_cancel_event_leaves_a_cancelled_stream_open(serve):
    served = serve(profile="intended", quirks={"cancel_keeps_completed_at_null": True})
    eid = served.execute("never")
    stream = served.stream(eid)
    try:
        connected = stream.until(_has(b"\n\n"))
        served.http.post(f"/api/v1/executions/{eid}/cancel", headers={"X-API-Key": served.key})
        assert stream.until(lambda body: False, timeout=0.6) == connected and stream.eof_at is None
    finally:
        stream.close()


# ---------------------------------------------------------------- sse_drops_headers

@pytest.mark.parametrize("quirk", [True, False])
def test_sse_drops_headers(serve, quirk):
    served = serve(quirks={"sse_drops_headers": quirk})
    eid = served.execute("echo")
    served.clock.advance(60_000)  # finished: one event, then the stream closes
    stream = served.stream(eid, **NOISE)
    try:
        body = stream.until(lambda b: False, timeout=3)
    finally:
        stream.close()
    assert body.startswith(b"event: execution:completed\n")
    headers = {k: v for k, v in stream.headers().items() if k not in ("date", "transfer-encoding")}
    if quirk:
        assert headers == SSE_HEAD
        return
    assert {k: headers[k] for k in SSE_HEAD} == SSE_HEAD
    assert headers["x-request-id"] == NOISE["X-Request-ID"] and headers["x-trace-id"] == NOISE["X-Trace-ID"]
    assert headers["access-control-allow-origin"] == NOISE["Origin"]
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["x-ratelimit-limit"] == "1000000" and int(headers["x-ratelimit-remaining"]) < 1000000
    assert {"x-ratelimit-reset", "x-ratelimit-limit-day", "x-ratelimit-remaining-day"} <= set(headers)

"""Replay all 177 production recordings, in order, against the fake loaded with the
recordings' state, and compare what a client sees.

Normalized only where production itself randomizes: meta.request_id/timestamp,
X-Request-ID/X-Trace-ID (unless the client sent them), ids and timestamps of
resources created during the run, webhook secrets. The clock is set to each
recording's own instant, so rate-limit windows, X-RateLimit-Reset and Retry-After
are compared exactly.
"""
from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from fakemaestro.clock import Clock, parse_instant
from fakemaestro.scenario import load_scenario_file
from fakemaestro.testing import serve_in_thread

from .conftest import make_app
from .recordings import RECORDINGS, SCENARIO, UUID, all_recordings

pytestmark = pytest.mark.skipif(not RECORDINGS.exists(), reason="production recordings not available")

COMPARED_HEADERS = ("content-type", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                    "x-ratelimit-limit-day", "x-ratelimit-remaining-day", "retry-after", "vary",
                    "access-control-allow-origin", "access-control-allow-credentials",
                    "access-control-expose-headers", "access-control-allow-methods", "access-control-allow-headers",
                    "cache-control", "x-accel-buffering")
# Recordings whose numbers come from the recording setup's stand-in embeddings
# (production-recordings/README.md): ranking and shape are compared, scores are not.
STAND_IN_SCORES = {"085-agents-memory-search.txt", "086-agents-memory-search-low-threshold.txt",
                   "119-kb-query.txt", "120-kb-query-top-k-clamped.txt"}
RUN_DAY = re.compile(r"2026-11-28T\d\d:\d\d:\d\d\.\d{3}Z")
SECRET = re.compile(r"whsec_[0-9a-f]{64}")


class _Receiver(BaseHTTPRequestHandler):
    """The recording setup's webhook receiver: 200, or 500 on paths containing /fail."""
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        _Receiver.received.append((self.path, dict(self.headers), body))
        self.send_response(500 if "/fail" in self.path else 200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def receiver_3999():
    try:
        server = ThreadingHTTPServer(("127.0.0.1", 3999), _Receiver)
    except OSError:
        yield None
        return
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


class IdMap:
    """Recorded ids of resources created during the run -> the fake's ids."""

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.to_fake: dict[str, str] = {}

    def learn(self, recorded, fake) -> None:
        if isinstance(recorded, dict) and isinstance(fake, dict):
            for key in recorded.keys() & fake.keys():
                self.learn(recorded[key], fake[key])
        elif isinstance(recorded, list) and isinstance(fake, list):
            for r, f in zip(recorded, fake):
                self.learn(r, f)
        elif isinstance(recorded, str) and isinstance(fake, str) and UUID.fullmatch(recorded) \
                and recorded not in self.known and recorded not in self.to_fake:
            self.to_fake[recorded] = fake

    def translate(self, text: str) -> str:
        for recorded, fake in self.to_fake.items():
            text = text.replace(recorded, fake)
        return text


def _normalize(value, known: set[str], scores: bool):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "meta" and isinstance(item, dict):
                assert set(item) == {"request_id", "timestamp"}
                assert UUID.fullmatch(item["request_id"]) and re.fullmatch(r"\d{4}-.*\.\d{3}Z", item["timestamp"])
                out[key] = "<meta>"
            elif scores and key in ("score", "similarity"):
                assert isinstance(item, (int, float)) and 0 <= item <= 1
                out[key] = "<score>"
            else:
                out[key] = _normalize(item, known, scores)
        return out
    if isinstance(value, list):
        return [_normalize(v, known, scores) for v in value]
    if isinstance(value, str):
        if UUID.fullmatch(value) and value not in known:
            return "<created-id>"
        if RUN_DAY.fullmatch(value):
            return "<run-time>"
        if SECRET.fullmatch(value):
            return "<secret>"
        if value.startswith("timestamp") is False and "2026-11-28T" in value:
            return RUN_DAY.sub("<run-time>", value)
    return value


def _instant(rec) -> int:
    match = re.search(r'"timestamp":"([^"]+)"', rec.response_body)
    if match:
        return parse_instant(match.group(1))
    from email.utils import parsedate_to_datetime
    return parse_instant(parsedate_to_datetime(rec.header("date")))


def _send(client: httpx.Client, base: str, rec, ids: IdMap):
    path = ids.translate(rec.path)
    headers = [(n, ids.translate(v)) for n, v in rec.headers]
    body = ids.translate(rec.body.decode()).encode() if rec.body is not None else None
    if rec.body is not None and not any(n.lower() == "content-type" for n, _ in headers):
        # curl --data-binary without -H Content-Type sends form encoding
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    request = client.build_request(rec.method, base + path, headers=headers, content=body)
    if rec.max_time and rec.method != "HEAD":
        chunks = []
        try:
            with client.stream(rec.method, base + path, headers=headers, content=body,
                               timeout=httpx.Timeout(rec.max_time, read=rec.max_time)) as response:
                for chunk in response.iter_raw():
                    chunks.append(chunk)
        except httpx.ReadTimeout:
            pass
        return response, b"".join(chunks)
    response = client.send(request)
    return response, response.content


def _compare(rec, response, body: bytes, ids: IdMap, known: set[str]) -> list[str]:
    problems = []
    if response.status_code != rec.status:
        problems.append(f"status {response.status_code} != recorded {rec.status}")
    for name in COMPARED_HEADERS:
        mine, theirs = response.headers.get(name), rec.header(name)
        if mine != theirs:
            problems.append(f"header {name}: {mine!r} != recorded {theirs!r}")
    for name in ("x-request-id", "x-trace-id"):
        sent = next((v for n, v in rec.headers if n.lower() == name), None)
        if (response.headers.get(name) is None) != (rec.header(name) is None):
            problems.append(f"header {name} presence differs")
        elif sent is not None and response.headers.get(name) != sent:
            problems.append(f"header {name} not echoed")
    if rec.method == "HEAD":
        if response.headers.get("content-length") != rec.header("content-length") or body:
            problems.append("HEAD content-length/body differs")
        return problems
    text = body.decode("utf-8")
    if (rec.header("content-type") or "").startswith("application/json"):
        recorded, mine = json.loads(rec.response_body), json.loads(text)
        ids.learn(recorded, mine)
        scores = rec.name in STAND_IN_SCORES
        if _normalize(recorded, known, scores) != _normalize(mine, known, scores):
            problems.append(f"body differs:\n  recorded {rec.response_body}\n  fake     {text}")
        elif list(json.loads(rec.response_body)) != list(json.loads(text)):
            problems.append("top-level key order differs")
    elif ids.translate(rec.response_body) != text:
        problems.append(f"raw body differs:\n  recorded {rec.response_body!r}\n  fake     {text!r}")
    return problems


def test_replay_all_recordings(receiver_3999):
    recordings = all_recordings()
    assert len(recordings) == 177
    scenario = load_scenario_file(SCENARIO)
    known = set(UUID.findall(SCENARIO.read_text()))
    clock = Clock(frozen_at_ms=_instant(recordings[0]))
    app = make_app(scenario, clock=clock)
    ids = IdMap(known)
    skipped, failures = {}, {}
    with serve_in_thread(app) as server, httpx.Client(timeout=30) as client:
        for rec in recordings:
            if rec.name == "144-webhooks-test.txt" and receiver_3999 is None:
                skipped[rec.name] = "port 3999 (the recorded receiver) is busy on this machine"
                continue
            if rec.name == "145-webhooks-test-closed-port.txt" and not _port_closed(3998):
                skipped[rec.name] = "port 3998 (recorded as closed) is open on this machine"
                continue
            clock.set(_instant(rec))
            response, body = _send(client, server.base_url, rec, ids)
            problems = _compare(rec, response, body, ids, known)
            if problems:
                failures[rec.name] = problems
    report = "\n".join(f"{name}:\n  " + "\n  ".join(p) for name, p in failures.items())
    assert not failures, f"{len(failures)} recordings differ:\n{report}"
    assert len(skipped) <= 2, skipped

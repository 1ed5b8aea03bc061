"""The status line as production writes it (`HTTP/1.1 404 Not Found`): Node's reason
phrases, on both servers, read off a raw socket."""
from __future__ import annotations

import copy
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fakemaestro.app import create_app
from fakemaestro.http.reasons import NODE_STATUS_TEXT, phrase
from fakemaestro.scenario import Scenario
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.scenario.loader import check
from fakemaestro.testing import serve_in_thread

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "production-recordings"
ROOT = Path(__file__).resolve().parents[1]
STATUS_LINE = re.compile(r"^HTTP/1\.1 (\d{3}) (.*)$", re.M)


def recorded_status_lines() -> list[tuple[int, str]]:
    found = []
    for path in sorted(RECORDINGS.glob("*.txt")):
        response = path.read_text(encoding="utf-8").split("### RESPONSE", 1)[1]
        code, text = STATUS_LINE.search(response).groups()
        found.append((int(code), text))
    return found


def test_every_recorded_status_line_has_nodes_phrase():
    lines = recorded_status_lines()
    assert len(lines) == 177 and len({code for code, _ in lines}) >= 10
    assert [(code, phrase(code)) for code, _ in lines] == lines


def test_codes_node_does_not_list_are_unknown_and_phrases_differ_from_pythons_where_node_does():
    assert phrase(599) == "unknown" and phrase(306) == "unknown"
    assert (phrase(413), phrase(418), phrase(422)) == ("Payload Too Large", "I'm a Teapot", "Unprocessable Entity")
    assert all(100 <= code < 600 and text.isascii() for code, text in NODE_STATUS_TEXT.items())


def faults_scenario() -> Scenario:
    data = copy.deepcopy(default_scenario().data)
    data["faults"] = [{"name": "teapot", "match": {"path": "/api/v1/agents"}, "do": {"status": 418, "body": {}}},
                      {"name": "odd", "match": {"path": "/api/v1/webhooks"}, "do": {"status": 599, "body": {}}}]
    return check(Scenario(data, "<default + faults>"))


def status_line(port: int, path: str, key: str | None) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (f"X-API-Key: {key}\r\n" if key else "")
        sock.sendall((head + "Connection: close\r\n\r\n").encode())
        received = b""
        while b"\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\r\n", 1)[0].decode("latin-1")


EXPECTED = [("/api/v1/workflows", "full", "HTTP/1.1 200 OK"),
            ("/api/v1/workflows", None, "HTTP/1.1 401 Unauthorized"),
            ("/api/v1/workflows", "workflows-read", "HTTP/1.1 200 OK"),
            ("/api/v1/executions", "workflows-read", "HTTP/1.1 403 Forbidden"),
            ("/api/v1/nothing-here", "full", "HTTP/1.1 404 Not Found"),
            ("/api/v1/agents", "full", "HTTP/1.1 418 I'm a Teapot"),
            ("/api/v1/webhooks", "full", "HTTP/1.1 599 unknown")]


def test_hypercorn_writes_productions_status_lines():
    app = create_app(faults_scenario())
    with serve_in_thread(app) as server:
        seen = [(path, key, status_line(server.port, path, key and server.key(key))) for path, key, _ in EXPECTED]
    assert seen == EXPECTED


def test_uvicorn_writes_productions_status_lines(tmp_path):
    pytest.importorskip("uvicorn")
    source = tmp_path / "faults.yaml"
    import yaml
    source.write_text(yaml.safe_dump(faults_scenario().data), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "fakemaestro", "serve", "--port", "0", "--server", "uvicorn",
                             "--scenario", str(source)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(14)]
        port = int(re.search(r"Base URL: http://127\.0\.0\.1:(\d+)", "".join(lines)).group(1))
        keys = dict(re.findall(r"^  ([\w-]+): (fm_live_\w+)$", "".join(lines), re.M))
        seen = [(path, key, status_line(port, path, key and keys[key])) for path, key, _ in EXPECTED]
        assert seen == EXPECTED
    finally:
        proc.terminate()
        proc.wait(10)

"""The `fakemaestro` command: keys, and serve over a real socket with a clean stop."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import httpx

from fakemaestro.cli import main
from fakemaestro.scenario.defaults import default_scenario

from .recordings import SCENARIO

NAMED_KEYS = ["full", "bulk", "read-only", "workflows-read", "revoked", "expired", "inactive",
              "low-rate", "low-daily", "other-workspace"]


def test_keys_json_prints_the_default_named_keys(capsys):
    assert main(["keys", "--json"]) == 0
    keys = json.loads(capsys.readouterr().out)
    assert list(keys) == NAMED_KEYS
    assert all(re.fullmatch(r"fm_live_[0-9A-Za-z]{32}", k) for k in keys.values())
    assert keys == default_scenario().key_names()


def test_keys_follow_the_seed(capsys):
    main(["keys", "--json", "--seed", "7"])
    seven = json.loads(capsys.readouterr().out)
    main(["keys", "--json", "--seed", "7"])
    assert json.loads(capsys.readouterr().out) == seven
    main(["keys", "--json", "--seed", "8"])
    assert json.loads(capsys.readouterr().out) != seven


def test_keys_of_a_scenario_file(capsys):
    assert main(["keys", "--scenario", str(SCENARIO)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^full\s+fm_live_Q0av1JT9BCqDc5Dgjsp9WVB8ggXOujo2$", out, re.M)


def test_a_missing_scenario_file_is_a_clear_error(capsys, tmp_path):
    assert main(["keys", "--scenario", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: cannot read" in capsys.readouterr().err


def test_serve_prints_url_and_keys_answers_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "fakemaestro", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3 + len(NAMED_KEYS))]
        base = re.search(r"Base URL: (http://127\.0\.0\.1:\d+)", "".join(lines)).group(1)
        printed = dict(re.findall(r"^\s+([\w-]+): (fm_live_\w+)$", "".join(lines), re.M))
        assert list(printed) == NAMED_KEYS
        response = httpx.get(f"{base}/api/v1/workflows", headers={"X-API-Key": printed["full"]}, timeout=10)
        assert response.status_code == 200 and response.json()["pagination"]["total_count"] > 0
        assert "server" not in response.headers
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert "stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

"""`fakemaestro conform` end to end, against fakes served on 127.0.0.1: exit status,
progress, the Markdown and JUnit reports, read-only runs that never write, pacing
by the target's rate-limit headers, and --differential between two fakes, one of
them altered. (The suite's checks, chains and baseline are tested in contract_tests/.)"""
from __future__ import annotations

import json
import socket
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from fakemaestro import cli
from fakemaestro.app import create_app
from fakemaestro.conform import Options, Target, run
from fakemaestro.conform.command import INSTALL_HINT
from fakemaestro.conform.throttle import Throttle
from fakemaestro.scenario import load_scenario_files
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.testing import serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_YAML = ROOT / "scenarios" / "default.yaml"
FROZEN_AT = "2026-03-15T09:30:10Z"
QUICK = ["--max-examples", "1", "--quiet"]


@pytest.fixture
def frozen(tmp_path) -> list[str]:
    """The default scenario with its clock frozen: two fakes made from it answer alike."""
    extra = tmp_path / "frozen.yaml"
    extra.write_text(f"clock: {{frozen_at: '{FROZEN_AT}'}}\n")
    return [str(DEFAULT_YAML), str(extra)]


def conform(server, *args: str, key: str = "bulk") -> int:
    return cli.main(["conform", "--target", server.base_url, "--api-key", server.key(key),
                     "--readonly-key", server.key("read-only"), *args])


class HideAdmin:
    """Makes a fake look like any other API: its admin API answers 404."""

    def __init__(self, app) -> None:
        self.app, self.state = app, app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/_fakemaestro"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            return await send({"type": "http.response.body", "body": b""})
        return await self.app(scope, receive, send)


class ExtraField:
    """Adds an undocumented `owner_id` to GET /workflows/{id} answers: drift."""

    def __init__(self, app) -> None:
        self.app, self.state = app, app.state

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/v1/workflows/") or path.count("/") != 4:
            return await self.app(scope, receive, send)
        start, chunks = {}, []

        async def altered(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = json.loads(b"".join(chunks))
            if isinstance(body.get("data"), dict):
                body["data"]["owner_id"] = "5e1f0000-0000-4000-8000-000000000001"
            raw = json.dumps(body, separators=(",", ":")).encode()
            await send({**start, "headers": [(k, str(len(raw)).encode() if k == b"content-length" else v)
                                              for k, v in start["headers"]]})
            await send({"type": "http.response.body", "body": raw})

        return await self.app(scope, receive, altered)


# ------------------------------------------------------------------ the command

def test_help_names_every_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["conform", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--target", "--api-key", "--readonly-key", "--read-only", "--allow-writes", "--max-examples",
                   "--seed", "--report", "--junit", "--differential", "--scenario"):
        assert option in out


def test_without_schemathesis_help_works_and_a_run_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "schemathesis", None)  # import schemathesis -> ImportError
    with pytest.raises(SystemExit) as exit_:
        cli.main(["conform", "--help"])
    assert exit_.value.code == 0 and "--differential" in capsys.readouterr().out
    assert cli.main(["conform", "--target", "http://127.0.0.1:9", "--api-key", "fm_live_x"]) == 2
    assert INSTALL_HINT in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--api-key", "fm_live_x"], "give --target URL"),
    (["--target", "http://127.0.0.1:9"], "give --api-key KEY"),
    (["--target", "127.0.0.1:9", "--api-key", "fm_live_x"], "must be an http(s) URL"),
    (["--target", "http://127.0.0.1:9", "--api-key", "fm_live_x", "--phases", "fuzz,fuz"], "unknown phases fuz"),
    (["--target", "http://127.0.0.1:9", "--api-key", "fm_live_x", "--scenario", "x.yaml"], "go with --differential"),
])
def test_usage_problems_exit_2(args, message, monkeypatch, capsys):
    for var in ("FAKEMAESTRO_TARGET_URL", "FAKEMAESTRO_TARGET_API_KEY", "FAKEMAESTRO_TARGET_READONLY_KEY"):
        monkeypatch.delenv(var, raising=False)
    assert cli.main(["conform", *args]) == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_target_or_a_refused_key_exits_2(capsys):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert cli.main(["conform", "--target", f"http://127.0.0.1:{port}", "--api-key", "fm_live_x"]) == 2
    assert "cannot reach" in capsys.readouterr().err
    with serve_in_thread(create_app(default_scenario())) as server:
        assert cli.main(["conform", "--target", server.base_url, "--api-key", "fm_live_nope"]) == 2
    assert "refuses --api-key (401" in capsys.readouterr().err


def test_a_conformant_fake_passes_with_both_reports(tmp_path, capsys):
    report, junit = tmp_path / "report.md", tmp_path / "junit.xml"
    with serve_in_thread(create_app(default_scenario())) as server:
        status = conform(server, "--max-examples", "1", "--report", str(report), "--junit", str(junit))
    out, err = capsys.readouterr()
    assert status == 0, out
    assert "verdict: conformant" in out
    assert "conform: coverage 1/32 listWorkflows" in err and "conform: baseline" in err  # progress
    text = report.read_text()
    for heading in ("## New findings", "## Stateful chains", "## Baseline entries", "## Known production defects seen",
                    "## Requests per operation and phase"):
        assert heading in text
    assert "| webhook | completed |" in text and "| non-uuid-path-id | reproduced |" in text
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0"
    suites = {s.get("name"): s for s in root}
    assert set(suites) == {"conformance", "chains", "baseline"}
    assert suites["conformance"].get("tests") == "32"
    assert suites["chains"].get("tests") == "4" and suites["baseline"].get("tests") == "12"


def test_drift_exits_1_and_the_reports_name_it(tmp_path, capsys):
    report, junit = tmp_path / "report.md", tmp_path / "junit.xml"
    with serve_in_thread(ExtraField(create_app(default_scenario()))) as server:
        status = conform(server, *QUICK, "--phases", "known-ids", "--operation", "getWorkflow",
                         "--report", str(report), "--junit", str(junit))
    out = capsys.readouterr().out
    assert status == 1
    assert "NOT conformant" in out and "getWorkflow [documented_fields]" in out
    assert "### getWorkflow: `documented_fields`" in report.read_text()
    assert "undocumented key 'owner_id'" in report.read_text()
    failures = [(case.get("name"), f.get("message")) for case in ET.parse(junit).getroot().iter("testcase")
                for f in case.iter("failure")]
    assert ("getWorkflow", "[documented_fields] documented_fields") in failures


# ------------------------------------------------------------------ safety

def _methods(server) -> set[str]:
    return {entry.method for entry in server.state.journal.entries}


def test_read_only_sends_only_get_even_to_a_fake():
    with serve_in_thread(create_app(default_scenario())) as server:
        assert conform(server, *QUICK, "--read-only") == 0
        assert _methods(server) <= {"GET", "HEAD"}


def test_a_target_that_is_not_a_fake_gets_writes_only_when_allowed():
    with serve_in_thread(HideAdmin(create_app(default_scenario()))) as server:
        assert conform(server, *QUICK, "--phases", "coverage,fuzz,chains") == 0
        assert _methods(server) == {"GET"}
        assert conform(server, *QUICK, "--phases", "chains", "--allow-writes") == 0
        assert {"POST", "PATCH", "DELETE"} <= _methods(server)


# ------------------------------------------------------------------ pacing

def test_the_run_paces_itself_by_the_rate_limit_headers():
    """Key `low-rate` may send 3 requests a minute; the run waits for each new window
    (here: moves the fake's frozen clock instead of sleeping) and never meets a 429."""
    scenario = load_scenario_files([str(DEFAULT_YAML)])
    app = create_app(scenario)
    app.state.fake.clock.freeze()
    with serve_in_thread(app) as server:
        moves = []

        def wait(seconds: float) -> None:
            moves.append(seconds)
            httpx.post(f"{server.base_url}/_fakemaestro/clock", json={"advance_ms": int(seconds * 1000)})

        target = Target("paced", server.key("low-rate"), base_url=server.base_url, throttle=Throttle(sleep=wait))
        report = run(target, Options(max_examples=5, phases=("fuzz",), operations=frozenset({"listWorkflows"})))
        statuses = [entry.status for entry in server.state.journal.entries]
    assert len(statuses) >= 8 and 429 not in statuses
    assert len(moves) >= 2 and all(0 < m <= 61 for m in moves)
    assert report.waits == moves and not report.new_findings


def test_a_spent_daily_quota_stops_the_run():
    with serve_in_thread(create_app(default_scenario())) as server:
        target = Target("daily", server.key("low-daily"), base_url=server.base_url)
        report = run(target, Options(max_examples=5, phases=("fuzz",), operations=frozenset({"listWorkflows"})))
        statuses = [entry.status for entry in server.state.journal.entries]
    assert "daily quota" in report.aborted
    assert not report.ok and 429 not in statuses


# ------------------------------------------------------------------ differential

def test_differential_between_two_alike_fakes_finds_nothing(frozen, capsys):
    with serve_in_thread(create_app(load_scenario_files(frozen))) as server:
        status = conform(server, *QUICK, "--differential", *sum((["--scenario", f] for f in frozen), []),
                         "--phases", "fuzz,chains", "--operation", "listAgents", "--operation", "getWorkflow")
    out = capsys.readouterr().out
    assert status == 0, out
    assert "differences: 0 new, 0 known" in out


def test_differential_reports_every_difference_from_an_altered_fake(frozen, tmp_path, capsys):
    report, junit = tmp_path / "diff.md", tmp_path / "diff.xml"
    with serve_in_thread(ExtraField(create_app(load_scenario_files(frozen)))) as server:
        status = conform(server, *QUICK, "--differential", *sum((["--scenario", f] for f in frozen), []),
                         "--phases", "fuzz,chains", "--operation", "getWorkflow",
                         "--report", str(report), "--junit", str(junit))
    out = capsys.readouterr().out
    assert status == 1
    assert "difference: getWorkflow body /data keys" in out
    text = report.read_text()
    assert "## Differences between the target and the fake" in text
    assert "| new | getWorkflow | body /data keys | id, name, description, version, inputs, created_at, updated_at, " \
           "owner_id | id, name, description, version, inputs, created_at, updated_at |" in text
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    assert int(suites["differential"].get("failures")) >= 1
    other = [d for d in text.split("## Differences")[1].split("##")[0].splitlines() if "| new |" in d
             and "getWorkflow | body /data keys" not in d]
    assert not other, other  # the alteration is the only difference


# ------------------------------------------------------------------ the chain walker

def _walk(chain: str, answers: dict):
    """Walk a chain against scripted answers {operation: [(status, body), ...]} (taken in
    order); returns the walk's result and the (operation, path parameters) it sent."""
    from fakemaestro.conform import chains

    sent = []

    def send(i, step, params_per_side):
        sent.append((step.operation, params_per_side[0]))
        status, body = answers[step.operation].pop(0)
        return [chains.Previous(step.operation, params_per_side[0], status, body)]

    try:
        return chains.walk(chains.CHAINS[chain], send), sent
    except chains.Broken as exc:
        return str(exc), sent


def test_a_walk_follows_the_documents_links_even_past_a_408():
    agent, thread = "a0000000-0000-4000-8000-000000000001", "b0000000-0000-4000-8000-000000000002"
    result, sent = _walk("agent", {
        "listAgents": [(200, {"data": [{"id": agent}]})], "getAgent": [(200, {"data": {"id": agent}})],
        "createThread": [(201, {"data": {"id": thread}})], "sendThreadMessage": [(408, {"error": {}})],
        "listThreadMessages": [(200, {"data": {"messages": []}})], "deleteThread": [(200, {"data": {"id": thread}})]})
    assert result is True
    assert sent == [("listAgents", {}), ("getAgent", {"id": agent}), ("createThread", {"id": agent}),
                    ("sendThreadMessage", {"id": thread}), ("listThreadMessages", {"id": thread}),
                    ("deleteThread", {"id": thread})]


def test_a_walk_tries_the_next_listed_item_until_it_writes_then_breaks():
    ids = [f"c000000{i}-0000-4000-8000-000000000000" for i in range(3)]
    listed = (200, {"data": [{"id": i} for i in ids]})
    result, sent = _walk("workflow", {
        "listWorkflows": [listed], "getWorkflow": [(404, {}), (200, {"data": {"id": ids[1]}}),
                                                  (200, {"data": {"id": ids[2]}})],
        "executeWorkflow": [(400, {}), (202, {"data": {"execution_id": "e1"}})],
        "getExecution": [(200, {"data": {"id": "e1"}})], "cancelExecution": [(400, {})]})
    assert [op for op, _ in sent] == ["listWorkflows", "getWorkflow", "getWorkflow", "executeWorkflow",
                                      "getWorkflow", "executeWorkflow", "getExecution", "cancelExecution"]
    assert sent[5] == ("executeWorkflow", {"id": ids[2]})
    assert result == "cancelExecution answered 400, expected 2xx"  # after the write: broken, no more tries

"""The command line and scenario files: `check` validates without serving, repeated
--scenario files layer (later ones extending and overriding earlier ones), and
`serve --admin-token` protects the admin API of a real server process."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fakemaestro.cli import admin_warning, build_parser, main
from fakemaestro.scenario import ScenarioError, load_scenario_files

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "data" / "broken"
API_KEY_KEYS = ("name, id, key, user, workspace, scopes, bundle, per_minute, per_day, expires_at, revoked_at, "
                "revoked, inactive")
CI_KEY = "fm_live_CliScenarioCi000000000000000001"
DEPLOY_KEY = "fm_live_CliScenarioDeploy00000000000001"

BASE = f"""\
name: base
seed: 11
tenants:
  users:
    - {{id: u-owner, email: owner@example.test}}
  workspaces:
    - {{id: ws-main, owner: u-owner}}
  api_keys:
    - {{name: ci, key: {CI_KEY}, user: u-owner, workspace: ws-main, bundle: full-access, per_minute: 60}}
data:
  workflows:
    - {{id: 00000000-0000-4000-8000-000000000001, user: u-owner, workspace: ws-main, name: Nightly}}
"""

# overrides the `ci` key's per_minute, adds a key and a fault that uses it
OVERLAY = f"""\
name: ci-overlay
tenants:
  api_keys:
    - {{name: ci, key: {CI_KEY}, user: u-owner, workspace: ws-main, bundle: full-access, per_minute: 5}}
    - {{name: deploy, key: {DEPLOY_KEY}, user: u-owner, workspace: ws-main, scopes: [workflows:read]}}
faults:
  - name: deploy-down
    match: {{key: deploy, operation: listWorkflows}}
    do: {{error: framework_502}}
"""


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    base, overlay = tmp_path / "base.yaml", tmp_path / "overlay.yaml"
    base.write_text(BASE, encoding="utf-8")
    overlay.write_text(OVERLAY, encoding="utf-8")
    return base, overlay


# ================================================================= check

def test_check_ok_prints_the_files_and_exits_0(capsys, files):
    base, overlay = files
    assert main(["check", str(base), str(overlay)]) == 0
    out, err = capsys.readouterr()
    assert out == f"ok: {base}, {overlay}\n" and err == ""


def test_check_the_shipped_scenarios(capsys):
    paths = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    assert len(paths) > 5
    for path in paths:
        assert main(["check", path]) == 0, capsys.readouterr().err
        assert capsys.readouterr().out == f"ok: {path}\n"


def test_check_a_broken_file_prints_the_exact_problem_and_exits_2(capsys):
    path = BROKEN / "api_key_unknown_key.yaml"
    assert main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f'{path}:11:7: tenants.api_keys[0].scope: unknown key "scope"; valid keys: {API_KEY_KEYS}\n'


def test_check_prints_every_problem_line(capsys):
    path = BROKEN / "several_schema_problems.yaml"
    with pytest.raises(ScenarioError) as raised:
        load_scenario_files([path])
    assert main(["check", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4
    assert lines == [str(p) for p in raised.value.problems]
    assert lines[0] == f'{path}:11:19: tenants.api_keys[0].per_minute: expected integer; got text "sixty"'


def test_check_layers_files_like_serve(capsys, files):
    base, overlay = files
    # alone, the overlay refers to users, workspaces and keys it does not define
    assert main(["check", str(overlay)]) == 2
    err = capsys.readouterr().err
    assert f'{overlay}:4:70: tenants.api_keys[0].user: no user with id "u-owner" in tenants.users' in err.splitlines()
    assert main(["check", str(base), str(overlay)]) == 0
    # a file that cannot be read
    assert main(["check", str(base), str(overlay.parent / "missing.yaml")]) == 2
    assert capsys.readouterr().err.endswith(f"{overlay.parent / 'missing.yaml'}: cannot read: No such file or directory\n")


def test_check_exit_code_of_the_real_command():
    path = BROKEN / "unknown_bundle.yaml"
    done = subprocess.run([sys.executable, "-m", "fakemaestro", "check", str(path)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"{path}:") and "bundle" in done.stderr
    done = subprocess.run([sys.executable, "-m", "fakemaestro", "check", str(ROOT / "scenarios" / "outage.yaml")],
                          capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, f"ok: {ROOT / 'scenarios' / 'outage.yaml'}\n")


def test_check_needs_a_file(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["check"])
    assert exited.value.code == 2


# ================================================================= several --scenario files

def test_keys_of_layered_files(capsys, files):
    base, overlay = files
    assert main(["keys", "--json", "--scenario", str(base)]) == 0
    assert json.loads(capsys.readouterr().out) == {"ci": CI_KEY}
    assert main(["keys", "--json", "--scenario", str(base), "--scenario", str(overlay)]) == 0
    assert json.loads(capsys.readouterr().out) == {"ci": CI_KEY, "deploy": DEPLOY_KEY}


def test_layered_files_merge_as_documented(files):
    base, overlay = files
    args = build_parser().parse_args(["serve", "--scenario", str(base), "--scenario", str(overlay)])
    assert args.scenario == [str(base), str(overlay)]
    from fakemaestro.cli import _scenario
    scenario = _scenario(args)
    assert scenario.source == f"{base} + {overlay}"
    keys = scenario.data["tenants"]["api_keys"]
    assert [(k["name"], k.get("per_minute")) for k in keys] == [("ci", 5), ("deploy", None)]
    assert [f["name"] for f in scenario.data["faults"]] == ["deploy-down"]
    assert scenario.data["name"] == "ci-overlay" and scenario.seed == 11


def test_a_broken_layer_stops_serve_before_it_binds(capsys, files, tmp_path):
    base, _ = files
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - {name: x, match: {key: nobody}, do: {error: timeout}}\n", encoding="utf-8")
    assert main(["serve", "--port", "0", "--scenario", str(base), "--scenario", str(bad)]) == 2
    assert f'{bad}:2:28: faults[0].match.key: no API key named "nobody"; keys: ci' in capsys.readouterr().err


# ================================================================= serve --admin-token

def _start(args: list[str]) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "fakemaestro", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    while True:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Admin API:"):
            break
    return proc, lines


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_layered_files_with_an_admin_token(files):
    base, overlay = files
    proc, lines = _start(["--scenario", str(base), "--scenario", str(overlay), "--admin-token", "t0ken"])
    try:
        text = "\n".join(lines)
        assert f"FakeMaestro serving {base} + {overlay}" in text
        base_url = re.search(r"^Base URL: (http://127\.0\.0\.1:\d+)$", text, re.M).group(1)
        assert lines[-1] == f"Admin API: {base_url}/_fakemaestro/ (token required)"
        assert f"  deploy: {DEPLOY_KEY}" in lines
        with httpx.Client(base_url=base_url, timeout=10) as http:
            # the overlay's per_minute and fault are in force
            ok = http.get("/api/v1/workflows", headers={"X-API-Key": CI_KEY})
            assert ok.status_code == 200 and ok.headers["x-ratelimit-limit"] == "5"
            assert http.get("/api/v1/workflows", headers={"X-API-Key": DEPLOY_KEY}).status_code == 502
            # the admin API wants the token, except health
            assert http.get("/_fakemaestro/health").json()["status"] == "ok"
            denied = http.get("/_fakemaestro/faults")
            assert denied.status_code == 401 and denied.json()["admin_error"]["code"] == "unauthorized"
            assert http.get("/_fakemaestro/faults", headers={"X-Admin-Token": "wrong"}).status_code == 401
            faults = http.get("/_fakemaestro/faults", headers={"Authorization": "Bearer t0ken"}).json()["faults"]
            assert [(f["name"], f["hits"]) for f in faults] == [("deploy-down", 1)]
            verified = http.post("/_fakemaestro/verify", headers={"X-Admin-Token": "t0ken"},
                                 json={"key": "ci", "status": 200, "count": 1})
            assert verified.json()["matches"] is True
        assert _stop(proc) == 0
        rest = proc.stdout.read()
        assert "FakeMaestro stopped" in rest
        assert "warning" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_without_a_token_says_so(files):
    base, _ = files
    proc, lines = _start(["--scenario", str(base)])
    try:
        assert lines[-1].startswith("Admin API: http://127.0.0.1:") and lines[-1].endswith("/_fakemaestro/ (no token)")
        base_url = lines[-1].split(" ")[2].removesuffix("/_fakemaestro/")
        assert httpx.get(f"{base_url}/_fakemaestro/faults", timeout=10).status_code == 200
        assert _stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_empty_admin_token_is_refused(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", "0", "--admin-token", ""])
    assert exited.value.code == 2
    assert "--admin-token must not be empty" in capsys.readouterr().err


@pytest.mark.parametrize("host, token, warns", [
    ("127.0.0.1", None, False), ("127.0.0.2", None, False), ("::1", None, False), ("localhost", None, False),
    ("0.0.0.0", None, True), ("::", None, True), ("192.168.1.20", None, True), ("fake.example.test", None, True),
    ("0.0.0.0", "t0ken", False),
])
def test_the_open_admin_api_warning(host, token, warns):
    warning = admin_warning(host, token)
    if warns:
        assert warning.startswith(f"fakemaestro: warning: serving on {host} without --admin-token")
        assert "/_fakemaestro/" in warning
    else:
        assert warning is None


def test_help_texts_describe_the_new_flags():
    serve = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()
    assert "--admin-token TOKEN" in serve and "repeat it to layer files" in serve
    check = build_parser()._subparsers._group_actions[0].choices["check"].format_help()
    assert "exits 2" in check and "FILE [FILE ...]" in check

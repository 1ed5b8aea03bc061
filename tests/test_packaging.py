"""Packaging for CI sidecars (docs/sidecar.md): FAKEMAESTRO_* variables mirroring the serve
flags, --workers refused, --server hypercorn|uvicorn, the Dockerfile's configuration kept
equal to the CLI, the runtime dependencies, and the examples in examples/ci/ run for real."""
from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
import yaml
from flowmaestro import FlowMaestroClient

from fakemaestro import cli, serving
from fakemaestro.cli import ENVIRONMENT, apply_environment, build_parser, main
from fakemaestro.testing import serve_in_thread

from .conftest import make_app

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "examples" / "ci"
CI_SCENARIO = CI / "scenario.yaml"
CI_KEY = "fm_live_CiSidecarExample0000000000000001"
DEPLOY_KEY = "fm_live_PackagingOverlayDeploy00000000001"
OVERLAY = f"""
tenants:
  api_keys:
    - {{name: deploy, key: {DEPLOY_KEY}, user: a0000000-0000-4000-8000-000000000001,
       workspace: b0000000-0000-4000-8000-000000000001, bundle: read-only}}
"""


def serve_args(argv: list[str], environ: dict[str, str]):
    parser = build_parser()
    args = parser.parse_args(["serve", *argv])
    apply_environment(args, parser, environ)
    return args


def keys_json(capsys, argv: list[str], environ: dict[str, str]) -> dict[str, str]:
    assert main(["keys", "--json", *argv], environ) == 0
    return json.loads(capsys.readouterr().out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def overlay(tmp_path) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(OVERLAY, encoding="utf-8")
    return path


# ================================================================= FAKEMAESTRO_* variables

def test_every_serve_flag_has_its_variable():
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    flags = {a.option_strings[0] for a in serve._actions if a.option_strings and a.dest != "help"}
    assert flags == {flag for flag, _, _ in ENVIRONMENT.values()}
    assert all(var == "FAKEMAESTRO_" + flag[2:].upper().replace("-", "_").replace("QUIRK", "QUIRKS")
               for var, (flag, _, _) in ENVIRONMENT.items())
    assert "FAKEMAESTRO_SCENARIO" in serve.format_help()


def test_variables_fill_what_the_command_line_leaves_unset():
    args = serve_args([], {"FAKEMAESTRO_HOST": "0.0.0.0", "FAKEMAESTRO_PORT": "9001", "FAKEMAESTRO_SEED": "5",
                           "FAKEMAESTRO_PROFILE": "intended", "FAKEMAESTRO_ADMIN_TOKEN": "s3cret",
                           "FAKEMAESTRO_SERVER": "uvicorn", "FAKEMAESTRO_WORKERS": "1",
                           "FAKEMAESTRO_QUIRKS": "sse_drops_headers=on, malformed_json_500=on"})
    assert (args.host, args.port, args.seed, args.profile, args.admin_token, args.server, args.workers) == \
        ("0.0.0.0", 9001, 5, "intended", "s3cret", "uvicorn", 1)
    assert dict(args.quirk) == {"sse_drops_headers": True, "malformed_json_500": True}


def test_the_command_line_wins_and_quirk_flags_apply_over_the_variable():
    args = serve_args(["--port", "7000", "--profile", "production", "--quirk", "sse_drops_headers=off"],
                      {"FAKEMAESTRO_PORT": "9001", "FAKEMAESTRO_PROFILE": "intended",
                       "FAKEMAESTRO_QUIRKS": "sse_drops_headers=on malformed_json_500=off"})
    assert (args.port, args.profile) == (7000, "production")
    assert dict(args.quirk) == {"sse_drops_headers": False, "malformed_json_500": False}


def test_defaults_without_variables_and_empty_variables_count_as_unset():
    for environ in ({}, {var: "" for var in ENVIRONMENT}, {var: "  " for var in ENVIRONMENT}):
        args = serve_args([], environ)
        assert (args.host, args.port, args.server, args.workers, args.scenario, args.seed, args.admin_token) == \
            ("127.0.0.1", 8000, "hypercorn", 1, None, None, None)


def test_scenario_variable_layers_files_like_repeated_flags(capsys, overlay):
    by_flags = keys_json(capsys, ["--scenario", str(CI_SCENARIO), "--scenario", str(overlay)], {})
    assert by_flags == {"ci": CI_KEY, "deploy": DEPLOY_KEY}
    for sep in (",", os.pathsep, f" {os.pathsep} "):
        assert keys_json(capsys, [], {"FAKEMAESTRO_SCENARIO": f"{CI_SCENARIO}{sep}{overlay}"}) == by_flags
    # a --scenario on the command line replaces the variable's files
    assert keys_json(capsys, ["--scenario", str(CI_SCENARIO)], {"FAKEMAESTRO_SCENARIO": str(overlay)}) == {"ci": CI_KEY}


def test_seed_variable_is_the_seed_flag(capsys):
    seeded = keys_json(capsys, ["--seed", "5"], {})
    assert keys_json(capsys, [], {"FAKEMAESTRO_SEED": "5"}) == seeded
    assert keys_json(capsys, [], {}) != seeded
    assert keys_json(capsys, ["--seed", "5"], {"FAKEMAESTRO_SEED": "6"}) == seeded


@pytest.mark.parametrize("var, value, says", [
    ("FAKEMAESTRO_PORT", "eighty", "FAKEMAESTRO_PORT='eighty' (as --port): expected an integer"),
    ("FAKEMAESTRO_SEED", "1.5", "FAKEMAESTRO_SEED='1.5' (as --seed): expected an integer"),
    ("FAKEMAESTRO_PROFILE", "staging", "invalid choice 'staging' (choose from production, intended)"),
    ("FAKEMAESTRO_SERVER", "gunicorn", "invalid choice 'gunicorn' (choose from hypercorn, uvicorn)"),
    ("FAKEMAESTRO_QUIRKS", "sse_drops_headers=yes", "expected sse_drops_headers=on or sse_drops_headers=off"),
    ("FAKEMAESTRO_QUIRKS", "no_such_quirk=on", "unknown quirk 'no_such_quirk'; known quirks: "),
])
def test_a_bad_variable_is_refused_naming_it(capsys, var, value, says):
    with pytest.raises(SystemExit) as exc:
        main(["serve"], {var: value})
    assert exc.value.code == 2
    assert says in capsys.readouterr().err


def test_serve_configured_by_variables_only(tmp_path):
    env = {**os.environ, "FAKEMAESTRO_PORT": "0", "FAKEMAESTRO_SCENARIO": str(CI_SCENARIO),
           "FAKEMAESTRO_PROFILE": "intended", "FAKEMAESTRO_ADMIN_TOKEN": "s3cret"}
    proc = subprocess.Popen([sys.executable, "-m", "fakemaestro", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = "".join(proc.stdout.readline() for _ in range(5))
        assert f"FakeMaestro serving {CI_SCENARIO}, profile intended\n" in banner
        assert "(token required)" in banner
        base = re.search(r"Base URL: (http://127\.0\.0\.1:\d+)", banner).group(1)
        assert httpx.get(f"{base}/_fakemaestro/health").json()["status"] == "ok"
        assert httpx.get(f"{base}/_fakemaestro/journal").status_code == 401
        with FlowMaestroClient(CI_KEY, base_url=base) as client:
            assert [w["name"] for w in client.workflows.list()["data"]] == ["Nightly report"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


# ================================================================= --workers

@pytest.mark.parametrize("argv, environ", [(["--workers", "4"], {}), ([], {"FAKEMAESTRO_WORKERS": "2"})])
def test_more_than_one_worker_is_refused_with_the_reason(capsys, argv, environ):
    with pytest.raises(SystemExit) as exc:
        main(["serve", *argv], environ)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "runs in one process, and refuses more than one worker" in err
    for reason in ("the fake clock", "rate-limit windows", "N times its limit", "request journal"):
        assert reason in err


def test_zero_workers_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--workers", "0"], {})
    assert "--workers must be 1 (got 0)" in capsys.readouterr().err


# ================================================================= --server

def test_a_missing_server_names_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn -> ImportError
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--server", "uvicorn"], {})
    assert exc.value.code == 2
    assert "pip install 'fakemaestro[fast]'" in capsys.readouterr().err


def test_uvicorn_serves_the_fake_and_stops_on_sigterm():
    proc = subprocess.Popen([sys.executable, "-m", "fakemaestro", "serve", "--port", "0", "--server", "uvicorn",
                             "--scenario", str(CI_SCENARIO)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = "".join(proc.stdout.readline() for _ in range(2))
        assert banner.startswith(f"FakeMaestro serving {CI_SCENARIO}, profile production, on uvicorn\n")
        base = re.search(r"Base URL: (http://127\.0\.0\.1:\d+)", banner).group(1)
        listed = httpx.get(f"{base}/api/v1/workflows", headers={"X-API-Key": CI_KEY})
        assert listed.status_code == 200 and "server" not in listed.headers
        assert "x-ratelimit-remaining" in listed.headers  # the same pipeline behind it
        with httpx.Client(http1=False, http2=True) as h2c, pytest.raises(httpx.RemoteProtocolError):
            h2c.get(f"{base}/health")  # HTTP/1.1 only: HTTP/2 needs hypercorn
        with FlowMaestroClient(CI_KEY, base_url=base) as client:
            started = client.workflows.execute("c0000000-0000-4000-8000-000000000001", inputs={"day": "Mon"})
            execution_id = started["data"]["execution_id"]
            assert next(client.executions.stream(execution_id))["execution_id"] == execution_id  # SSE
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0  # uvicorn re-raises SIGTERM unless the CLI owns it
        assert proc.stdout.read().endswith("FakeMaestro stopped\n")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_hypercorn_the_default_speaks_http2():
    assert serving.DEFAULT_SERVER == "hypercorn"
    with serve_in_thread(make_app()) as server:
        with httpx.Client(http1=False, http2=True) as h2c:  # h2c with prior knowledge
            response = h2c.get(f"{server.base_url}/health")
        assert (response.status_code, response.http_version) == (200, "HTTP/2")


# ================================================================= the Dockerfile

def dockerfile() -> list[str]:
    """The instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def stages() -> list[list[str]]:
    found: list[list[str]] = []
    for line in dockerfile():
        if line.startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(line)
    return found


def test_dockerfile_is_multi_stage_on_base_image_and_runs_non_root():
    lines = dockerfile()
    assert lines[0] == "ARG BASE_IMAGE=python:3.12-slim"
    build, final = stages()
    assert build[0] == "FROM ${BASE_IMAGE} AS build" and final[0] == "FROM ${BASE_IMAGE}"
    assert any("python3 -m venv /opt/fakemaestro" in line for line in build)  # python3: Debian's and slim's
    user = next(line for line in final if line.startswith("USER "))
    assert user == "USER 10001:10001" and "useradd --system --uid 10001" in " ".join(final)
    assert [line for line in final if line.startswith("COPY --from")] == [
        "COPY --from=build /opt/fakemaestro /opt/fakemaestro"]
    # the build stage's CA certificates never reach the final image
    assert any(".ci/build-ca/" in line for line in build) and not any("build-ca" in line for line in final)


def test_dockerfile_configuration_is_the_cli():
    final = stages()[1]
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(line for line in final if line.startswith("ENV "))))
    configured = {name for name in env if name.startswith("FAKEMAESTRO_")}
    assert configured and configured <= set(ENVIRONMENT)
    assert "EXPOSE 8000" in final and env["FAKEMAESTRO_PORT"] == "8000"
    assert env["FAKEMAESTRO_HOST"] == "0.0.0.0"  # reachable from the job's container or host
    assert "WORKDIR /scenarios" in final  # relative FAKEMAESTRO_SCENARIO paths resolve in the mount
    assert final[-2:] == ['ENTRYPOINT ["fakemaestro"]', 'CMD ["serve"]']
    args = serve_args([], {name: value for name, value in env.items() if name in ENVIRONMENT})
    assert (args.host, args.port) == ("0.0.0.0", 8000)


def healthcheck_code() -> str:
    line = next(line for line in dockerfile() if line.startswith("HEALTHCHECK "))
    command = json.loads(line[line.index("CMD ") + 4:])
    assert command[:2] == ["/opt/fakemaestro/bin/python", "-c"] and "/_fakemaestro/health" in command[2]
    return command[2]


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_the_healthcheck_command_passes_on_a_serving_fake_and_fails_without_one(host):
    code = healthcheck_code()
    with serve_in_thread(make_app()) as server:
        env = {**os.environ, "FAKEMAESTRO_HOST": host, "FAKEMAESTRO_PORT": str(server.port),
               "HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}  # must be ignored
        assert subprocess.run([sys.executable, "-c", code], env=env, timeout=10).returncode == 0
    env["FAKEMAESTRO_PORT"] = str(free_port())
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=10).returncode != 0


def ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore's rule: the last matching pattern decides; a directory pattern covers its files."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        if any(fnmatch.fnmatch("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)) \
                or fnmatch.fnmatch(path, pattern.replace("**/", "*")):
            result = not negate
    return result


def test_dockerignore_keeps_what_the_dockerfile_copies_and_nothing_else():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copied = [src for line in dockerfile() if line.startswith("COPY ") and "--from" not in line
              for src in line.split()[1:-1]]
    assert copied and all(not ignored(src.rstrip("/") + ("/x.py" if src.endswith("/") else ""), patterns)
                          for src in copied)
    for left_out in ("tests/test_app.py", ".git/HEAD", ".venv/bin/python", "bench/run.py", "docs/sidecar.md",
                     "fakemaestro/__pycache__/cli.cpython-311.pyc", ".ci/run"):
        assert ignored(left_out, patterns), left_out


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_copied_ca_certificates_are_never_committed():
    def check_ignore(path: str) -> int:
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode
    if check_ignore(".ci/build-ca/.gitignore") == 128:
        pytest.skip("not a git checkout")
    assert check_ignore(".ci/build-ca/sandboxing-egress-ca.crt") == 0
    assert check_ignore(".ci/build-ca/.gitignore") == 1


def test_ci_runs_the_readme_test_command_then_the_docker_smoke():
    run = (ROOT / ".ci" / "run").read_text()
    assert run.index('bash -c "$cmd"') < run.index("exec .ci/docker-smoke")
    smoke = (ROOT / ".ci" / "docker-smoke").read_text()
    assert os.access(ROOT / ".ci" / "docker-smoke", os.X_OK)
    for needed in ("dockerd --bridge=none --iptables=false --ip-forward=false", "--network host", "debootstrap",
                   "/etc/apt/sources.list", "/usr/local/share/ca-certificates", "BASE_IMAGE=", "trap cleanup EXIT"):
        assert needed in smoke, needed


# ================================================================= dependencies

def third_party_imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Top-level names of the non-stdlib modules `path` imports (anywhere, or only at module
    level: in its body and the if/try blocks there, not in functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in _module_level(tree.body) if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "fakemaestro"}


def _module_level(body):
    for node in body:
        yield node
        for block in ("body", "orelse", "finalbody"):
            if isinstance(node, (ast.If, ast.Try)):
                yield from _module_level(getattr(node, block, []))
        for handler in getattr(node, "handlers", []):
            yield from _module_level(handler.body)


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalized(re.split(r"[<>=!~\[;\s]", r, maxsplit=1)[0]) for r in requirements}


def normalized(name: str) -> str:
    return name.lower().replace("_", "-")


def with_their_dependencies(names: set[str]) -> set[str]:
    """The distributions and, recursively, what they require (not their extras)."""
    from importlib.metadata import PackageNotFoundError, requires

    closure, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in closure:
            closure.add(name)
            try:
                todo += requirement_names([r for r in requires(name) or [] if "extra ==" not in r])
            except PackageNotFoundError:  # an extra's package not installed here
                pass
    return closure


def test_every_import_of_the_package_is_a_declared_dependency():
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = requirement_names(project["dependencies"]).union(
        *(requirement_names(reqs) for name, reqs in project["optional-dependencies"].items()
          if name != "test"))  # optional features (extras) import theirs when used
    allowed = with_their_dependencies(declared)
    distributions = packages_distributions()
    for path in sorted((ROOT / "fakemaestro").rglob("*.py")):
        for module in third_party_imports(path):
            dists = {normalized(d) for d in distributions.get(module, [module])}
            assert dists & (allowed | ({"pytest"} if path.name == "pytest_plugin.py" else set())), \
                f"{path.relative_to(ROOT)} imports {module} ({', '.join(dists)}): not declared"


def test_what_serving_imports_at_module_level_is_a_runtime_dependency():
    """`pip install fakemaestro` alone must be enough for `fakemaestro serve`: every module
    serving loads imports, at its top level, only [project.dependencies] (jsonschema once was not)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = requirement_names(project["dependencies"])
    code = ("import sys; import fakemaestro.cli, fakemaestro.serving; from fakemaestro.app import create_app; "
            "create_app(); print(' '.join(m for m in sys.modules if m.startswith('fakemaestro')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True).stdout.split()
    assert "fakemaestro.scenario.validate" in loaded
    from importlib.metadata import packages_distributions
    distributions = packages_distributions()
    for name in loaded:
        path = ROOT / Path(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for module in third_party_imports(path, top_level_only=True):
            dists = {normalized(d) for d in distributions.get(module, [module])}
            assert dists & runtime, f"{name} imports {module} ({', '.join(dists)}): not in [project.dependencies]"


# ================================================================= examples/ci

def test_the_pip_variant_runs_its_client_against_a_real_fake(tmp_path):
    port = free_port()
    env = {**os.environ, "FAKEMAESTRO_SKIP_INSTALL": "1", "FAKEMAESTRO_PORT": str(port),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("FAKEMAESTRO_SCENARIO", None)
    done = subprocess.run([str(CI / "pip-sidecar.sh")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("ok: listed workflows, executed c0000000-")
    assert f"http://127.0.0.1:{port} healthy, serving {CI_SCENARIO}" in done.stdout
    assert "FakeMaestro serving" in (tmp_path / "fakemaestro.log").read_text()
    with socket.socket() as s:  # its trap stopped the fake
        assert s.connect_ex(("127.0.0.1", port)) != 0


def smoke_client():
    sys.path.insert(0, str(CI))
    try:
        import smoke_client
    finally:
        sys.path.remove(str(CI))
    return smoke_client


def test_the_smoke_client_loads_its_scenario_into_a_running_fake(capsys):
    client = smoke_client()
    with serve_in_thread(make_app()) as server:  # the default scenario: no `ci` key yet
        assert client.main(["--base-url", server.base_url, "--wait", "5"]) == 1
        assert "FAILED: AuthenticationError" in capsys.readouterr().err
        assert client.main(["--base-url", server.base_url, "--load", str(CI_SCENARIO), "--wait", "5"]) == 0
        out = capsys.readouterr().out
        assert "healthy, serving <embedded default, seed 1>" in out and out.splitlines()[-1].startswith("ok: ")
        assert server.state.scenario.data["name"] == "ci-sidecar"


def test_ci_examples_configure_the_image_with_real_variables():
    github = yaml.safe_load((CI / "github-actions.yml").read_text())
    gitlab = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    compose = yaml.safe_load((CI / "docker-compose.yml").read_text())
    service = github["jobs"]["service-container"]["services"]["fakemaestro"]
    gl_service = gitlab["contract-tests"]["services"][0]
    sidecar = compose["services"]["fakemaestro"]
    for variables in (service["env"], gl_service["variables"], sidecar["environment"]):
        assert set(variables) <= set(ENVIRONMENT)
        serve_args([], {k: str(v) for k, v in variables.items() if k != "FAKEMAESTRO_SCENARIO"})  # valid values
    assert service["ports"] == ["8000:8000"] and sidecar["ports"] == ["8000:8000"]
    assert sidecar["volumes"] == ["./:/scenarios:ro"] and (CI / sidecar["environment"]["FAKEMAESTRO_SCENARIO"]).exists()
    assert compose["services"]["tests"]["depends_on"]["fakemaestro"]["condition"] == "service_healthy"
    assert (CI / sidecar["build"]["context"]).resolve() == ROOT
    steps = " ".join(str(s.get("run", "")) for s in github["jobs"]["service-container"]["steps"])
    assert "smoke_client.py --load examples/ci/scenario.yaml" in steps
    assert "smoke_client.py --load examples/ci/scenario.yaml" in " ".join(gitlab["contract-tests"]["script"])
    assert "smoke_client.py" in compose["services"]["tests"]["command"]
    assert any(s.get("run") == "examples/ci/pip-sidecar.sh" for s in github["jobs"]["pip-sidecar"]["steps"])


def test_cli_module_docstring_names_the_variables():
    assert "FAKEMAESTRO_*" in cli.__doc__ and serving.WORKERS_REFUSED.count("{n}") == 1

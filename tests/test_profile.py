"""Profiles and quirks: the registry, how a scenario and the CLI choose them, and the
HTTP-level quirks (non-UUID ids, malformed JSON) in both states."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from fakemaestro import cli
from fakemaestro.profile import QUIRKS, Fidelity, UnknownQuirk
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.scenario import Scenario

from .conftest import keys_of, make_app

WORKFLOW_ID_BAD = "wf_123"


def _client(profile=None, quirks=None, scenario=None):
    app = make_app(scenario, profile=profile, quirks=quirks)
    client = TestClient(app, base_url="http://127.0.0.1")
    client.headers["X-API-Key"] = keys_of(app)["bulk"]
    return client


def test_production_reproduces_every_quirk_and_intended_none():
    assert all(Fidelity("production").on(name) for name in QUIRKS)
    assert not any(Fidelity("intended").on(name) for name in QUIRKS)


def test_a_quirk_switch_overrides_the_profile():
    fidelity = Fidelity("intended", {"non_uuid_id_500": True})
    assert fidelity.on("non_uuid_id_500") and not fidelity.on("malformed_json_500")
    assert not Fidelity("production", {"malformed_json_500": False}).on("malformed_json_500")


def test_unknown_quirks_and_profiles_are_refused_with_the_valid_names():
    with pytest.raises(UnknownQuirk, match="known quirks: .*non_uuid_id_500"):
        Fidelity("production", {"non_uuid_ids": True})
    with pytest.raises(ValueError, match="production, intended"):
        Fidelity("staging")


def test_the_scenario_chooses_and_create_app_overrides():
    scenario = Scenario({**default_scenario().data, "profile": "intended",
                         "quirks": {"malformed_json_500": True}}, "test")
    state = make_app(scenario).state.fake
    assert state.fidelity.profile == "intended" and state.fidelity.on("malformed_json_500")
    state = make_app(scenario, profile="production", quirks={"non_uuid_id_500": False}).state.fake
    assert state.fidelity.on("malformed_json_500") and not state.fidelity.on("non_uuid_id_500")


def test_overrides_survive_a_scenario_load():
    state = make_app(profile="intended").state.fake
    state.load(default_scenario(7))
    assert state.fidelity.profile == "intended"


def test_cli_quirk_flags_parse_and_refuse_bad_values(capsys):
    args = cli.build_parser().parse_args(["serve", "--profile", "intended", "--quirk", "malformed_json_500=on"])
    assert args.profile == "intended" and dict(args.quirk) == {"malformed_json_500": True}
    for bad in ("malformed_json_500", "malformed_json_500=yes", "nope=on"):
        with pytest.raises(SystemExit) as exc:
            cli.build_parser().parse_args(["serve", "--quirk", bad])
        assert exc.value.code == 2
    assert "known quirks" in capsys.readouterr().err


# --------------------------------------------------------------- non_uuid_id_500 (§1.7)

NON_UUID_CASES = [
    ("GET", f"/api/v1/workflows/{WORKFLOW_ID_BAD}", "Workflow"),
    ("GET", "/api/v1/executions/exec_1", "Execution"),
    ("GET", "/api/v1/threads/thread_1/messages", "Thread"),
    ("GET", "/api/v1/webhooks/wh_1", "Webhook"),
    ("GET", "/api/v1/knowledge-bases/kb_1", "Knowledge Base"),
]


@pytest.mark.parametrize("method,path,resource", NON_UUID_CASES)
def test_non_uuid_id_on_gives_the_22p02_fastify_body(method, path, resource):
    response = _client().request(method, path)
    assert response.status_code == 500
    assert response.json()["code"] == "22P02"
    assert response.json()["message"] == f'invalid input syntax for type uuid: "{path.split("/")[4]}"'


@pytest.mark.parametrize("method,path,resource", NON_UUID_CASES)
def test_non_uuid_id_off_gives_the_ordinary_404(method, path, resource):
    response = _client(quirks={"non_uuid_id_500": False}).request(method, path)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "resource_not_found"
    assert error["message"] == f"{resource} with id '{path.split('/')[4]}' not found"


def test_non_uuid_id_on_execute_off_is_404_not_execution_failed():
    on = _client().post(f"/api/v1/workflows/{WORKFLOW_ID_BAD}/execute", json={})
    assert (on.status_code, on.json()["error"]["code"]) == (500, "execution_failed")
    off = _client(profile="intended").post(f"/api/v1/workflows/{WORKFLOW_ID_BAD}/execute", json={})
    assert (off.status_code, off.json()["error"]["code"]) == (404, "resource_not_found")


# --------------------------------------------------------------- malformed_json_500 (§1.7)

def test_malformed_json_on_is_500_with_connection_close():
    response = _client().post("/api/v1/webhooks", content=b"{bad", headers={"content-type": "application/json"})
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    assert response.json() == {"statusCode": 500, "error": "Internal Server Error",
                               "message": "Expected property name or '}' in JSON at position 1"}


@pytest.mark.beyond_contract  # production never answers 400 with a Fastify body here
def test_malformed_json_off_is_400_and_keeps_the_connection():
    response = _client(quirks={"malformed_json_500": False}).post(
        "/api/v1/webhooks", content=b"{bad", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "connection" not in response.headers
    assert response.json() == {"statusCode": 400, "error": "Bad Request",
                               "message": "Expected property name or '}' in JSON at position 1"}


# --------------------------------------------------------------- the documented tables

def _quirk_rows(path: str) -> dict[str, str]:
    from pathlib import Path
    rows = {}
    for line in (Path(__file__).parent.parent / path).read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and cells[0].strip("`") in QUIRKS:
            rows[cells[0].strip("`")] = line
    return rows


@pytest.mark.parametrize("path", ["README.md", "docs/scenarios.md"])
def test_every_quirk_is_documented_with_both_behaviours_and_its_section(path):
    rows = _quirk_rows(path)
    assert sorted(rows) == sorted(QUIRKS)
    for name, quirk in QUIRKS.items():
        for text in (quirk.production, quirk.intended, quirk.section):
            assert text in rows[name], f"{path}: the row of {name} does not say {text!r}"

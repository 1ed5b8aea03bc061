"""Broken scenarios: every mistake is reported with the exact text a user reads, at the
right file, line and column (`FILE:LINE:COL: YAML.PATH: message`, one line per problem);
several problems are all reported in file order; several files name the one at fault;
merging follows its stated rules; a broken scenario never half-applies to a running app.

Each file in tests/data/broken/ is one realistic mistake. Where the current message is
not what a demanding user needs, the case asserts the wanted text and is marked
`xfail(strict=True, reason="fake bug: ...")`.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from fakemaestro.app import AppState
from fakemaestro.http.scopes import ALL_SCOPES, BUNDLES
from fakemaestro.scenario import Scenario, build_store
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.scenario.loader import (
    check,
    load_scenario_files,
    load_scenario_text,
    parse_text,
)
from fakemaestro.scenario.marked import plain
from fakemaestro.scenario.validate import Problem, ScenarioError

from .conftest import make_app

BROKEN = Path(__file__).resolve().parent / "data" / "broken"

OPERATIONS = ("cancelExecution, createThread, createWebhook, deleteAgentMemory, deleteThread, deleteWebhook, "
              "executeTrigger, executeWorkflow, getAgent, getAgentMemory, getAgentMemoryStats, getExecution, "
              "getKnowledgeBase, getThread, getWebhook, getWorkflow, listAgentMemory, listAgents, listExecutions, "
              "listKnowledgeBases, listThreadMessages, listTriggers, listWebhookDeliveries, listWebhooks, "
              "listWorkflows, putAgentMemory, queryKnowledgeBase, searchAgentMemory, sendThreadMessage, "
              "streamExecutionEvents, testWebhook, updateWebhook")
ERROR_CODES = ("rate_limit_exceeded, service_unavailable, internal_error, execution_failed, invalid_api_key, "
               "expired_api_key, revoked_api_key, insufficient_scope, timeout, resource_not_found, "
               "validation_error, not_implemented, framework_500, framework_502, framework_504")
SCOPES = ("workflows:read, workflows:execute, executions:read, executions:cancel, agents:read, agents:execute, "
          "threads:read, threads:write, triggers:read, triggers:execute, knowledge-bases:read, "
          "knowledge-bases:query, webhooks:read, webhooks:write")
EVENTS = ("execution.started, execution.completed, execution.failed, execution.cancelled, thread.message.created, "
          "thread.message.completed, thread.message.failed, agent.execution.started, agent.execution.completed, "
          "agent.execution.failed")
BUNDLE_NAMES = "workflow-executor, agent-executor, knowledge-base-reader, read-only, full-access"
NOTHING_TO_DO = ("nothing to do: give error, status, latency, connection, truncate_at, malformed_json, drip "
                 "or sse_cut_after")
API_KEY_KEYS = ("name, id, key, user, workspace, scopes, bundle, per_minute, per_day, expires_at, revoked_at, "
                "revoked, inactive")
DO_KEYS = ("error, message, retry_after, window, status, body, headers, latency, connection, truncate_at, "
           "malformed_json, drip, sse_cut_after")
TOP_KEYS = "name, description, seed, epoch, profile, quirks, clock, tenants, data, behaviours, faults"

# file -> the full text of str(ScenarioError) when loading it (from inside tests/data/broken)
EXPECTED = {
    # --- syntax
    "syntax_bad_indentation.yaml":
        "syntax_bad_indentation.yaml:12:6: (syntax): not valid YAML: "
        "expected <block end>, but found '<block mapping start>'",
    "syntax_tab_indentation.yaml":
        "syntax_tab_indentation.yaml:2:1: (syntax): not valid YAML: found character '\\t' that cannot start any token",
    "top_level_list.yaml":
        "top_level_list.yaml:2:1: (top level): expected a mapping of scenario sections",
    # --- unknown keys
    "unknown_top_level_key.yaml":
        f'unknown_top_level_key.yaml:7:1: fault: unknown key "fault"; valid keys: {TOP_KEYS}',
    "api_key_unknown_key.yaml":
        f'api_key_unknown_key.yaml:11:7: tenants.api_keys[0].scope: unknown key "scope"; valid keys: {API_KEY_KEYS}',
    "fault_do_typo.yaml":
        f'fault_do_typo.yaml:7:7: faults[0].do.eror: unknown key "eror"; valid keys: {DO_KEYS}',
    # --- unknown enum values
    "unknown_bundle.yaml":
        f'unknown_bundle.yaml:10:15: tenants.api_keys[0].bundle: expected one of {BUNDLE_NAMES}; got "read-write"',
    "unknown_scope.yaml":
        f'unknown_scope.yaml:10:32: tenants.api_keys[0].scopes[1]: expected one of {SCOPES}; got "workflows:write"',
    "unknown_error_code.yaml":
        f'unknown_error_code.yaml:5:17: faults[0].do.error: expected one of {ERROR_CODES}; got "rate_limited"',
    "unknown_execution_status.yaml":
        "unknown_execution_status.yaml:15:15: data.executions[0].status: expected one of pending, running, paused, "
        'completed, failed, cancelled; got "succeeded"',
    "unknown_trigger_type.yaml":
        "unknown_trigger_type.yaml:16:21: data.triggers[0].trigger_type: expected one of schedule, webhook, event, "
        'manual; got "cron"',
    "unknown_webhook_event.yaml":
        f'unknown_webhook_event.yaml:13:35: data.webhooks[0].events[1]: expected one of {EVENTS}; '
        'got "execution.finished"',
    # --- wrong types and values
    "per_minute_text.yaml":
        'per_minute_text.yaml:10:19: tenants.api_keys[0].per_minute: expected integer; got text "sixty"',
    "api_key_bad_prefix.yaml":
        'api_key_bad_prefix.yaml:10:12: tenants.api_keys[0].key: expected text matching ^fm_live_; got "fm_test_abc"',
    "probability_over_one.yaml":
        "probability_over_one.yaml:5:20: faults[0].when.probability: 50 is greater than the maximum of 1",
    "faults_as_mapping.yaml":
        'faults_as_mapping.yaml:2:3: faults: expected array; got a mapping {"flaky": {"do": {"error": '
        '"internal_error"}}}',
    "revoked_at_true.yaml":
        "revoked_at_true.yaml:10:19: tenants.api_keys[0].revoked_at: expected ISO-8601 time (UTC when no zone is "
        "given) or epoch milliseconds, or null; got a boolean true",
    "latency_uniform_one_bound.yaml":
        "latency_uniform_one_bound.yaml:6:29: faults[0].do.latency.uniform_ms: expected two numbers [low, high]; "
        "got [250]",
    # --- missing keys, bad times
    "api_key_without_user.yaml":
        'api_key_without_user.yaml:7:7: tenants.api_keys[0]: missing required key "user"',
    "expires_at_yesterday.yaml":
        'expires_at_yesterday.yaml:10:19: tenants.api_keys[0].expires_at: expected an ISO-8601 time; got "yesterday"',
    "when_from_bad_time.yaml":
        'when_from_bad_time.yaml:4:18: faults[0].when.from: expected an ISO-8601 time; got "tomorrow 09:00"',
    # --- references
    "unknown_user_reference.yaml":
        'unknown_user_reference.yaml:8:13: tenants.api_keys[0].user: no user with id "u-ownr" in tenants.users',
    "unknown_workspace_reference.yaml":
        "unknown_workspace_reference.yaml:10:18: data.workflows[0].workspace: no workspace with id \"ws-mian\" "
        "in tenants.workspaces",
    "unknown_workflow_reference.yaml":
        'unknown_workflow_reference.yaml:14:17: data.executions[0].workflow: no workflow with id "wf-2" in '
        "data.workflows",
    "unknown_agent_reference.yaml":
        'unknown_agent_reference.yaml:16:14: data.threads[0].agent: no agent with id "ag-suport" in data.agents',
    "behaviour_unknown_agent.yaml":
        'behaviour_unknown_agent.yaml:14:5: behaviours.agents.ag-suport: no agent with id "ag-suport" in data.agents',
    "reply_pattern_bad_regex.yaml":
        "reply_pattern_bad_regex.yaml:16:20: behaviours.agents.ag-support.replies[0].pattern: "
        "not a valid regular expression: missing ), unterminated subpattern at position 7",
    "generate_without_workspace.yaml":
        "generate_without_workspace.yaml:4:5: data.generate: needs at least one workspace in tenants.workspaces",
    # --- duplicates and contradictions
    "duplicate_key_names.yaml":
        'duplicate_key_names.yaml:11:13: tenants.api_keys[1].name: key name "ci" is already used by api_keys[0]',
    "duplicate_yaml_key.yaml":
        'duplicate_yaml_key.yaml:11:7: tenants.api_keys[0].bundle: duplicate key "bundle" (first given at line 10)',
    "duplicate_workflow_id.yaml":
        'duplicate_workflow_id.yaml:12:11: data.workflows[1].id: id "wf-1" is already used by data.workflows[0]',
    "scopes_and_bundle.yaml":
        "scopes_and_bundle.yaml:11:15: tenants.api_keys[0].bundle: give either scopes or bundle, not both",
    # --- faults
    "fault_nothing_to_do.yaml":
        f"fault_nothing_to_do.yaml:5:7: faults[0].do: {NOTHING_TO_DO}",
    "fault_error_and_status.yaml":
        "fault_error_and_status.yaml:5:41: faults[0].do.status: give either error or status, not both",
    "fault_error_with_body.yaml":
        "fault_error_with_body.yaml:5:39: faults[0].do.body: body goes with status (a custom answer); an error "
        "is rendered exactly as production renders it",
    "fault_unknown_operation.yaml":
        f'fault_unknown_operation.yaml:3:24: faults[0].match.operation: unknown operation "listWorkflow"; '
        f"valid operations: {OPERATIONS}",
    "fault_unknown_key_name.yaml":
        'fault_unknown_key_name.yaml:12:18: faults[0].match.key: no API key named "deploy"; keys: ci',
    "fault_unknown_tenant.yaml":
        'fault_unknown_tenant.yaml:7:21: faults[0].match.tenant: no workspace with id "ws-other"',
    "fault_header_bad_value.yaml":
        'fault_header_bad_value.yaml:10:19: faults[0].do.headers.X-Reason: a header value holds tabs and the '
        'characters U+0020-U+007E and U+0080-U+00FF only; got "down\\nfor maintenance"',
    "fault_header_bad_name.yaml":
        "fault_header_bad_name.yaml:9:9: faults[0].do.headers.Retry After: \"Retry After\" is not a header name: "
        "letters, digits and !#$%&'*+-.^_`|~ only",
    "latency_two_distributions.yaml":
        "latency_two_distributions.yaml:6:9: faults[0].do.latency: expected exactly one of fixed_ms, uniform_ms, "
        "lognormal",
    # --- several problems in one file, in file order
    "several_schema_problems.yaml": "\n".join([
        'several_schema_problems.yaml:11:19: tenants.api_keys[0].per_minute: expected integer; got text "sixty"',
        (f"several_schema_problems.yaml:12:15: tenants.api_keys[0].bundle: expected one of {BUNDLE_NAMES}; "
         'got "read-write"'),
        f'several_schema_problems.yaml:14:17: faults[0].do.error: expected one of {ERROR_CODES}; got "rate_limited"',
        "several_schema_problems.yaml:15:25: faults[0].when.probability: 2 is greater than the maximum of 1"]),
    "several_reference_problems.yaml": "\n".join([
        'several_reference_problems.yaml:8:13: tenants.api_keys[0].user: no user with id "u-ownr" in tenants.users',
        ('several_reference_problems.yaml:14:18: data.workflows[0].workspace: no workspace with id "ws-mian" in '
         "tenants.workspaces"),
        ('several_reference_problems.yaml:17:24: faults[0].match.operation: unknown operation "listWorkflow"; '
         f"valid operations: {OPERATIONS}"),
        f"several_reference_problems.yaml:18:9: faults[0].do: {NOTHING_TO_DO}"]),
    "several_unsorted_problems.yaml": "\n".join([
        'several_unsorted_problems.yaml:8:13: tenants.api_keys[0].user: no user with id "u-ownr" in tenants.users',
        ('several_unsorted_problems.yaml:11:24: faults[0].match.operation: unknown operation "listWorkflow"; '
         f"valid operations: {OPERATIONS}"),
        ('several_unsorted_problems.yaml:17:18: data.workflows[0].workspace: no workspace with id "ws-mian" in '
         "tenants.workspaces"),
        ('several_unsorted_problems.yaml:19:19: data.workflows[0].created_at: expected an ISO-8601 time; '
         'got "last tuesday"')]),
    "several_mixed_problems.yaml": (
        'several_mixed_problems.yaml:9:13: tenants.api_keys[0].user: no user with id "u-ownr" in tenants.users\n'
        'several_mixed_problems.yaml:11:19: tenants.api_keys[0].per_minute: expected integer; got text "sixty"'),
}

FAKE_BUGS: dict[str, str] = {}  # file -> "what is wrong", for a known bug recorded as a strict xfail
EXPECTED["syntax_unclosed_bracket.yaml"] = (
    "syntax_unclosed_bracket.yaml:12:5: (syntax): not valid YAML: expected ',' or ']', but got ':' "
    "(while parsing a flow sequence started at line 11, column 15)")


def _cases():
    for name in sorted(EXPECTED):
        marks = [pytest.mark.xfail(strict=True, reason=f"fake bug: {FAKE_BUGS[name]}")] if name in FAKE_BUGS else []
        yield pytest.param(name, EXPECTED[name], marks=marks, id=name.removesuffix(".yaml"))


def _error(*names: str | Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_files(list(names))
    return caught.value


def test_the_table_covers_every_broken_file():
    on_disk = {p.name for p in BROKEN.glob("*.yaml")}
    assert on_disk == set(EXPECTED) and set(FAKE_BUGS) <= on_disk
    assert len(on_disk) >= 18


@pytest.mark.parametrize("name,expected", list(_cases()))
def test_broken_file_message(monkeypatch, name, expected):
    monkeypatch.chdir(BROKEN)
    assert str(_error(name)) == expected


@pytest.mark.parametrize("name,expected", list(_cases()))
def test_broken_text_message_names_the_given_source(name, expected):
    # load_scenario_text reports the same problems under the source name it is given
    text = (BROKEN / name).read_text(encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, source=f"ci/{name}")
    assert str(caught.value) == "\n".join(f"ci/{line}" for line in expected.split("\n"))


def test_problems_are_structured_one_line_each(monkeypatch):
    monkeypatch.chdir(BROKEN)
    err = _error("several_schema_problems.yaml")
    assert isinstance(err, ValueError)
    assert [(p.source, p.line, p.column, p.path) for p in err.problems] == [
        ("several_schema_problems.yaml", 11, 19, "tenants.api_keys[0].per_minute"),
        ("several_schema_problems.yaml", 12, 15, "tenants.api_keys[0].bundle"),
        ("several_schema_problems.yaml", 14, 17, "faults[0].do.error"),
        ("several_schema_problems.yaml", 15, 25, "faults[0].when.probability")]
    assert str(err).split("\n") == [str(p) for p in err.problems]
    assert err.problems[0].message == 'expected integer; got text "sixty"'


@pytest.mark.parametrize("name,count", [("several_schema_problems.yaml", 4), ("several_reference_problems.yaml", 4),
                                        ("several_unsorted_problems.yaml", 4)])
def test_every_problem_of_a_file_is_reported(monkeypatch, name, count):
    monkeypatch.chdir(BROKEN)
    assert len(_error(name).problems) == count


def test_reference_problems_are_sorted_by_position(monkeypatch):
    monkeypatch.chdir(BROKEN)
    problems = _error("several_unsorted_problems.yaml").problems
    assert [(p.line, p.column) for p in problems] == sorted((p.line, p.column) for p in problems)


def test_an_unreadable_file_is_one_whole_file_problem(tmp_path):
    missing = tmp_path / "nope.yaml"
    err = _error(missing)
    assert str(err) == f"{missing}: cannot read: No such file or directory"
    assert err.problems == [Problem(str(missing), 0, 0, "(file)", "cannot read: No such file or directory")]


def test_an_empty_file_is_an_empty_scenario(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    scenario = load_scenario_files([empty])
    assert plain(scenario.data) == {} and scenario.source == str(empty)


def test_unquoted_yaml_timestamps_are_times():
    scenario = load_scenario_text(GOOD.replace("bundle: read-only, per_minute: 60}",
                                               "bundle: read-only, expires_at: 2026-12-31T23:59:59Z}"), "good.yaml")
    key = build_store(scenario).key_by_name("ci")
    assert key.expires_at == 1798761599000


@pytest.mark.parametrize("text", ["epoch: 1767225600000\n", "clock: {frozen_at: 1767225600000}\n"],
                         ids=["epoch", "clock.frozen_at"])
def test_epoch_milliseconds_are_times(text):
    from fakemaestro.app import create_app
    scenario = load_scenario_text(text + "tenants:\n  users: [{id: u}]\n  workspaces: [{id: w}]\n"
                                         "data:\n  workflows: [{id: wf, user: u, workspace: w, name: n}]\n", "ms.yaml")
    app = create_app(scenario)
    state = app.state.fake
    if "epoch" in text:
        assert state.store.workflows["wf"].created_at == 1767225600000
    else:
        assert state.clock.now_ms() == 1767225600000


# ================================================================= several files

GOOD = """\
name: base
seed: 7
epoch: "2026-03-01T00:00:00Z"
clock: {frozen_at: "2026-03-02T00:00:00Z"}
quirks: {sse_live_events_silent: true}
tenants:
  users:
    - {id: u-owner, email: owner@example.test}
  workspaces:
    - {id: ws-main, owner: u-owner}
  api_keys:
    - {name: ci, user: u-owner, workspace: ws-main, bundle: read-only, per_minute: 60}
    - {name: admin, user: u-owner, workspace: ws-main, bundle: full-access}
data:
  workflows:
    - {id: wf-1, user: u-owner, workspace: ws-main, name: Nightly report, description: first}
faults:
  - {name: flaky, match: {operation: listWorkflows}, do: {error: service_unavailable}}
"""

OVERLAY = """\
name: overlay
seed: 8
clock: {frozen_at: "2026-04-01T00:00:00Z"}
quirks: {webhook_dispatch_dead: false}
tenants:
  api_keys:
    - {name: ci, user: u-owner, workspace: ws-main, bundle: full-access, per_minute: 5}
    - {name: deploy, user: u-owner, workspace: ws-main, scopes: [workflows:read]}
data:
  workflows:
    - {id: wf-1, user: u-owner, workspace: ws-main, name: Nightly report v2}
    - {id: wf-2, user: u-owner, workspace: ws-main, name: Weekly report}
faults:
  - {name: flaky, match: {operation: getWorkflow}, do: {error: internal_error}}
  - {name: slow, do: {latency: {fixed_ms: 5}}}
"""


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    load_scenario_files([path])  # it is good on its own
    return path


def _write(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["unknown_bundle.yaml", "fault_do_typo.yaml", "unknown_user_reference.yaml",
                                  "fault_unknown_operation.yaml", "syntax_unclosed_bracket.yaml"])
def test_with_two_files_the_problem_names_the_bad_file(monkeypatch, good, name):
    monkeypatch.chdir(BROKEN)
    err = _error(good, name)
    assert {p.source for p in err.problems} == {name}
    alone = _error(name)
    assert [(p.line, p.column, p.path, p.message) for p in err.problems] == \
        [(p.line, p.column, p.path, p.message) for p in alone.problems]


def test_a_reference_broken_by_an_overlay_names_the_overlay(tmp_path, good):
    bad = _write(tmp_path, "ci.yaml", "tenants:\n  api_keys:\n    - name: deploy\n      user: u-ghost\n"
                                      "      workspace: ws-main\n")
    assert str(_error(good, bad)) == \
        f'{bad}:4:13: tenants.api_keys[2].user: no user with id "u-ghost" in tenants.users'
    # the same file first: the problem is still placed in it
    assert str(_error(bad, good)) == \
        f'{bad}:4:13: tenants.api_keys[0].user: no user with id "u-ghost" in tenants.users'


def test_an_overlay_may_refer_to_what_an_earlier_file_defines(tmp_path, good):
    extra = _write(tmp_path, "extra.yaml", "data:\n  executions:\n    - {id: ex-1, workflow: wf-1, status: running}\n"
                                           "faults:\n  - {name: ci-only, match: {key: ci}, do: {error: timeout}}\n")
    scenario = load_scenario_files([good, extra])
    assert build_store(scenario).executions["ex-1"].workflow_id == "wf-1"
    # alone, the same file is missing its references
    assert [p.path for p in _error(extra).problems] == ["data.executions[0].workflow", "faults[0].match.key"]


def test_a_problem_left_in_the_first_file_names_the_first_file(tmp_path):
    base = _write(tmp_path, "base.yaml", 'name: base\nseed: 7\nepoch: "2026-13-01T00:00:00Z"\n')
    ci = _write(tmp_path, "ci.yaml", "faults:\n  - name: flaky\n    do: {error: internal_error}\n")
    assert str(_error(base, ci)) == f'{base}:3:8: epoch: expected an ISO-8601 time; got "2026-13-01T00:00:00Z"'


def test_merging_rules(tmp_path, good):
    overlay = _write(tmp_path, "overlay.yaml", OVERLAY)
    merged = load_scenario_files([good, overlay])
    data = plain(merged.data)
    assert merged.source == f"{good} + {overlay}"
    # scalars: the later file wins
    assert (data["name"], data["seed"], data["epoch"]) == ("overlay", 8, "2026-03-01T00:00:00Z")
    # mappings merge key by key; a scalar inside is replaced
    assert data["quirks"] == {"sse_live_events_silent": True, "webhook_dispatch_dead": False}
    assert data["clock"] == {"frozen_at": "2026-04-01T00:00:00Z"}
    # records: same id/name replaces the earlier record whole (in its place), new ones are appended
    assert data["tenants"]["users"] == [{"id": "u-owner", "email": "owner@example.test"}]
    assert data["tenants"]["api_keys"] == [
        {"name": "ci", "user": "u-owner", "workspace": "ws-main", "bundle": "full-access", "per_minute": 5},
        {"name": "admin", "user": "u-owner", "workspace": "ws-main", "bundle": "full-access"},
        {"name": "deploy", "user": "u-owner", "workspace": "ws-main", "scopes": ["workflows:read"]}]
    assert data["data"]["workflows"] == [
        {"id": "wf-1", "user": "u-owner", "workspace": "ws-main", "name": "Nightly report v2"},
        {"id": "wf-2", "user": "u-owner", "workspace": "ws-main", "name": "Weekly report"}]
    assert data["faults"] == [
        {"name": "flaky", "match": {"operation": "getWorkflow"}, "do": {"error": "internal_error"}},
        {"name": "slow", "do": {"latency": {"fixed_ms": 5}}}]
    # and the built store says the same
    store = build_store(merged)
    ci = store.key_by_name("ci")
    assert ci.scopes == list(BUNDLES["full-access"]) == list(ALL_SCOPES) and ci.per_minute == 5
    assert [k.name for k in store.keys.values()] == ["ci", "admin", "deploy"]
    assert store.workflows["wf-1"].name == "Nightly report v2" and store.workflows["wf-1"].description is None
    assert set(store.workflows) == {"wf-1", "wf-2"}
    assert merged.seed == 8 and merged.frozen_at_ms() == 1775001600000  # 2026-04-01T00:00:00Z


def test_merging_keeps_each_record_s_position_for_later_problems(tmp_path, good):
    # the replaced record points into the overlay, the kept one into the base
    overlay = _write(tmp_path, "overlay.yaml", OVERLAY.replace("per_minute: 5}", "per_minute: 5, expires_at: soon}"))
    err = _error(good, overlay)
    assert str(err) == f'{overlay}:7:101: tenants.api_keys[0].expires_at: expected an ISO-8601 time; got "soon"'


def test_merging_is_the_same_through_extended(tmp_path, good):
    overlay = _write(tmp_path, "overlay.yaml", OVERLAY)
    via_files = load_scenario_files([good, overlay])
    via_extended = parse_text(GOOD, str(good))
    via_extended = check(via_extended).extended(parse_text(OVERLAY, str(overlay)))
    assert plain(via_extended.data) == plain(via_files.data)
    assert via_extended.source == via_files.source


# ================================================================= nothing half-applied

def _scenario_with_a_fault() -> Scenario:
    data = copy.deepcopy(default_scenario().data)
    data["faults"] = [{"name": "x-fail", "match": {"headers": {"X-Fail": "yes"}}, "do": {"error": "framework_500"}}]
    return check(Scenario(data, "<default + x-fail>"))


def _observe(state, client) -> dict:
    """Every list as the API renders it (data and pagination)."""
    key = {"X-API-Key": state.store.key_by_name("bulk").raw}
    out = {}
    for path in ("workflows", "executions", "agents", "triggers", "knowledge-bases", "webhooks"):
        body = client.get(f"/api/v1/{path}", params={"per_page": 100}, headers=key).json()
        out[path] = (body["data"], body["pagination"])
    return out


def _snapshot(state) -> dict:
    return {"scenario": state.scenario, "store": state.store, "faults": state.faults,
            "rules": [r.summary() for r in state.faults.rules],
            "journal": [e.as_dict() for e in state.journal.entries],
            "minute": dict(state.limiter._minute), "day": dict(state.limiter._day),
            "webhooks": sorted(state.store.webhooks), "keys": {k.name: k.raw for k in state.store.keys.values()}}


BROKEN_FOR_LOAD = ["unknown_bundle.yaml", "unknown_user_reference.yaml", "syntax_unclosed_bracket.yaml",
                   "generate_without_workspace.yaml", "behaviour_unknown_agent.yaml", "several_reference_problems.yaml"]


@pytest.mark.parametrize("name", BROKEN_FOR_LOAD)
def test_a_broken_scenario_changes_nothing_on_a_running_app(name):
    app = make_app(_scenario_with_a_fault())
    state = app.state.fake
    with TestClient(app, base_url="http://127.0.0.1") as client:
        bulk = {"X-API-Key": state.store.key_by_name("bulk").raw}
        created = client.post("/api/v1/webhooks", headers=bulk,
                              json={"name": "n", "url": "http://127.0.0.1:9/x", "events": ["execution.started"]})
        assert created.status_code == 201
        assert client.get("/api/v1/workflows", headers={**bulk, "X-Fail": "yes"}).status_code == 500
        before_lists = _observe(state, client)
        remaining = int(client.get("/api/v1/workflows", headers=bulk).headers["x-ratelimit-remaining"])
        before = _snapshot(state)
        assert before["journal"] and before["rules"][0]["hits"] == 1 and before["minute"]

        with pytest.raises(ScenarioError):
            state.load(load_scenario_text((BROKEN / name).read_text(encoding="utf-8"), name))

        assert _snapshot(state) == before
        assert state.scenario is before["scenario"] and state.store is before["store"]
        assert state.faults is before["faults"]
        # the rate window carried on: the count continues from where it was
        r = client.get("/api/v1/workflows", headers=bulk)
        assert int(r.headers["x-ratelimit-remaining"]) == remaining - 1
        assert _observe(state, client) == before_lists and created.json()["data"]["id"] in state.store.webhooks
        assert client.get("/api/v1/workflows", headers={**bulk, "X-Fail": "yes"}).status_code == 500
        assert state.faults.rules[0].hits == 2


@pytest.mark.parametrize("data", [
    pytest.param({"data": {"generate": {"workflows": 3}}}, id="store-cannot-be-built"),
    pytest.param({"tenants": {"users": [{"id": "u"}], "workspaces": [{"id": "w"}]}, "faults": [{"match": {}}]},
                 id="fault-rules-cannot-be-built"),
])
def test_appstate_load_is_all_or_nothing_even_for_an_unchecked_scenario(data):
    app = make_app(_scenario_with_a_fault())
    state = app.state.fake
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.get("/api/v1/workflows", headers={"X-API-Key": state.store.key_by_name("bulk").raw, "X-Fail": "yes"})
    before = _snapshot(state)
    with pytest.raises((ScenarioError, KeyError)):
        state.load(Scenario(data, "<unchecked>"))
    assert _snapshot(state) == before


def test_a_good_scenario_does_replace_everything():
    # the counterpart of the tests above: load really switches when the scenario is good
    app = make_app(_scenario_with_a_fault())
    state = app.state.fake
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.get("/api/v1/workflows", headers={"X-API-Key": state.store.key_by_name("bulk").raw, "X-Fail": "yes"})
    before = _snapshot(state)
    state.load(load_scenario_text(GOOD, "good.yaml"))
    after = _snapshot(state)
    assert after["store"] is not before["store"] and after["faults"] is not before["faults"]
    assert after["journal"] == [] and after["minute"] == {} and after["day"] == {}
    assert sorted(after["keys"]) == ["admin", "ci"] and state.scenario.source == "good.yaml"
    assert isinstance(state, AppState)


# ================================================================= JSON is read as JSON

JSON_SCENARIO = """\
{
\t"name": "from json",
\t"seed": 1e3,
\t"description": "\\ud83d\\ude00 \\/ on",
\t"quirks": {"malformed_json_500": false},
\t"tenants": {
\t\t"users": [{"id": "u-owner"}],
\t\t"workspaces": [{"id": "ws-main"}],
\t\t"api_keys": [{"name": "ci", "user": "u-owner", "workspace": "ws-main", "expires_at": 1767225600000}]
\t}
}
"""


@pytest.mark.parametrize("source", ["good.json", "good.yaml", "<admin request>"])
def test_json_text_is_read_with_json_rules_not_yaml_1_1(source):
    # YAML 1.1 reads this differently: `1e3` is text there, a tab cannot indent, and
    # "\ud83d\ude00" stays two lone surrogates. JSON text is JSON, whatever the file name.
    scenario = load_scenario_text(JSON_SCENARIO, source)
    assert plain(scenario.data) == json.loads(JSON_SCENARIO)
    assert scenario.seed == 1000 and scenario.data["description"] == "\U0001F600 / on"
    assert build_store(scenario).key_by_name("ci").expires_at == 1767225600000


def test_json_problems_have_json_positions():
    text = ('{"tenants": {\n  "users": [{"id": "u-owner"}],\n  "workspaces": [{"id": "ws-main"}],\n'
            '  "api_keys": [{"name": "ci", "user": "u-ownr", "workspace": "ws-main", "bundle": "all"}]\n},\n'
            ' "faults": [{"do": {"eror": "timeout"}}]}\n')
    assert str(_error_text(text, "ci.json")).split("\n") == [
        'ci.json:4:39: tenants.api_keys[0].user: no user with id "u-ownr" in tenants.users',
        f'ci.json:4:83: tenants.api_keys[0].bundle: expected one of {BUNDLE_NAMES}; got "all"',
        f'ci.json:6:21: faults[0].do.eror: unknown key "eror"; valid keys: {DO_KEYS}']


@pytest.mark.parametrize("text,expected", [
    ('{"name": yes}', "ci.json:1:10: (syntax): not valid JSON: Expecting value"),          # a YAML 1.1 boolean
    ('{"seed": 1:30}', "ci.json:1:11: (syntax): not valid JSON: Expecting ',' delimiter"),  # YAML 1.1: 90
    ('{"name": "x",\n "seed": 1,\n}', "ci.json:3:1: (syntax): not valid JSON: "
                                      "Expecting property name enclosed in double quotes"),
    ("name: x\n", "ci.json:1:1: (syntax): not valid JSON: Expecting value"),
])
def test_a_json_file_must_be_json(text, expected):
    assert str(_error_text(text, "ci.json")) == expected


def test_json_syntax_can_be_asked_for_whatever_the_name():
    assert str(_error_text('{"name": on}', "request", syntax="json")) == \
        "request:1:10: (syntax): not valid JSON: Expecting value"
    # without it, text that is not JSON is YAML (a flow mapping), read with YAML's rules
    assert load_scenario_text('{name: x, seed: 0x10}', "request").seed == 16


def test_a_json_file_on_disk_is_read_as_json(tmp_path):
    path = _write(tmp_path, "base.json", JSON_SCENARIO)
    overlay = _write(tmp_path, "ci.json", '{"tenants": {"api_keys": [{"name": "ci", "user": "u-x", '
                                          '"workspace": "ws-main"}]}}')
    assert load_scenario_files([path]).seed == 1000
    assert str(_error(path, overlay)) == f'{overlay}:1:50: tenants.api_keys[0].user: no user with id "u-x" in ' \
                                         "tenants.users"


def test_duplicate_json_keys_are_reported():
    assert str(_error_text('{"name": "a",\n "seed": 1,\n "name": "b"}', "ci.json")) == \
        'ci.json:3:2: name: duplicate key "name" (first given at line 1)'


# ================================================================= more places and messages

def _error_text(text: str, source: str, **kwargs) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, source, **kwargs)
    return caught.value


TENANTS = "tenants:\n  users: [{id: u}]\n  workspaces: [{id: w}]\n"


def test_a_yaml_merge_key_may_be_overridden_but_a_repeated_key_is_reported():
    text = (TENANTS + "  api_keys:\n    - &k {name: a, user: u, workspace: w}\n    - <<: *k\n      name: b\n"
            "    - <<: *k\n      name: c\n      name: d\n")
    assert str(_error_text(text, "ci.yaml")) == \
        'ci.yaml:10:7: tenants.api_keys[2].name: duplicate key "name" (first given at line 9)'


def test_duplicate_ids_nested_and_in_one_of_several_files(tmp_path, good):
    text = (TENANTS + "data:\n  workflows: [{id: wf, user: u, workspace: w, name: n}]\n  agents:\n"
            "    - {id: ag, user: u, workspace: w, name: a}\n  threads:\n"
            "    - {id: t1, user: u, workspace: w, agent: ag, runs: [{id: r1}]}\n"
            "    - {id: t2, user: u, workspace: w, agent: ag, runs: [{id: r1}]}\n")
    assert str(_error_text(text, "ci.yaml")) == \
        'ci.yaml:10:62: data.threads[1].runs[0].id: id "r1" is already used by data.threads[0].runs[0]'
    # a file repeating an id is reported even when it extends another file
    twice = _write(tmp_path, "twice.yaml", "data:\n  workflows:\n    - {id: wf-9, user: u-owner, workspace: ws-main, "
                                           "name: a}\n    - {id: wf-9, user: u-owner, workspace: ws-main, name: b}\n")
    assert str(_error(good, twice)) == \
        f'{twice}:4:12: data.workflows[2].id: id "wf-9" is already used by data.workflows[1]'


def test_a_value_the_schema_rejects_is_not_reported_again_by_the_reference_checks():
    text = (TENANTS + "  api_keys:\n    - {name: ci, user: 5, workspace: w}\n"
            "faults:\n  - {match: {key: ci}, do: {eror: timeout}}\n")
    assert str(_error_text(text, "ci.yaml")).split("\n") == [
        "ci.yaml:5:24: tenants.api_keys[0].user: expected string; got an integer 5",
        f'ci.yaml:7:29: faults[0].do.eror: unknown key "eror"; valid keys: {DO_KEYS}']


def test_all_unreadable_files_are_reported_together(tmp_path):
    one = _write(tmp_path, "one.yaml", "name: [x\n")
    two = _write(tmp_path, "two.yaml", "- a\n")
    assert str(_error(one, two)).split("\n") == [
        f"{one}:2:1: (syntax): not valid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence started at line 1, column 7)",
        f"{two}:1:1: (top level): expected a mapping of scenario sections"]


@pytest.mark.parametrize("written,ms", [("2026-12-31 23:59:59 -5", 1798779599000), ("2026-12-31", 1798675200000),
                                        ("2026-12-31t23:59:59.5z", 1798761599500), ("1798761599000", 1798761599000)])
def test_every_yaml_timestamp_form_and_epoch_milliseconds_are_times(written, ms):
    scenario = load_scenario_text(GOOD.replace("bundle: read-only, per_minute: 60}",
                                               f"bundle: read-only, expires_at: {written}}}"), "good.yaml")
    assert build_store(scenario).key_by_name("ci").expires_at == ms


@pytest.mark.parametrize("written,message", [
    ("99999999999999999", "expected epoch milliseconds within the years 1 to 9999; got 99999999999999999"),
    ('"2026-02-30T00:00:00Z"', 'expected an ISO-8601 time; got "2026-02-30T00:00:00Z"'),
    ("[2026]", "expected ISO-8601 time (UTC when no zone is given) or epoch milliseconds; got a list [2026]"),
])
def test_impossible_times_are_reported(written, message):
    assert str(_error_text(f"epoch: {written}\n", "ci.yaml")) == f"ci.yaml:1:8: epoch: {message}"


def test_fault_times_in_epoch_milliseconds_and_unquoted_dates_load():
    # (tests/test_faults_socket.py checks that the fault engine fires by them)
    scenario = load_scenario_text("faults:\n  - {when: {from: 1767225600000, until: 2026-01-02}, "
                                  "do: {error: timeout}}\n", "ci.yaml")
    assert plain(scenario.data["faults"][0]["when"]) == {"from": 1767225600000, "until": "2026-01-02"}


def test_unchecked_data_without_marks_names_the_scenario_and_the_path():
    err = pytest.raises(ScenarioError, check, Scenario({"faults": [{"do": {}}], "seed": "x"}, "<made in a test>"))
    assert str(err.value).split("\n") == ["<made in a test>: seed: expected integer; got text \"x\"",
                                          f"<made in a test>: faults[0].do: {NOTHING_TO_DO}"]


def test_behaviours_for_an_unknown_knowledge_base_are_placed():
    text = TENANTS + "behaviours:\n  knowledge_bases:\n    kb-x:\n      documents: []\n"
    assert str(_error_text(text, "ci.yaml")) == \
        'ci.yaml:6:5: behaviours.knowledge_bases.kb-x: no knowledge base with id "kb-x" in data.knowledge_bases'


def test_a_document_that_is_not_a_mapping_is_placed_where_it_starts():
    assert str(_error_text("# a comment\n\n   just text\n", "ci.yaml")) == \
        "ci.yaml:3:4: (top level): expected a mapping of scenario sections"


def test_parse_instant_accepts_every_time_form():
    from datetime import date, datetime, timezone

    from fakemaestro.clock import parse_instant
    assert parse_instant(1767225600000) == parse_instant(1767225600000.0) == 1767225600000
    assert parse_instant(datetime(2026, 1, 1, tzinfo=timezone.utc)) == parse_instant(date(2026, 1, 1)) \
        == parse_instant("2026-01-01T00:00:00Z") == parse_instant("2026-01-01 00:00:00") == 1767225600000
    for bad in (True, 1.5, 10**20, "yesterday", None, [1]):
        with pytest.raises(ValueError):
            parse_instant(bad)


def test_aliases_that_repeat_too_much_are_refused_quickly():
    lines = ['  a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    assert str(_error_text("quirks:\n" + "\n".join(lines) + "\n", "ci.yaml")) == (
        "ci.yaml:6:7: (syntax): not valid YAML: aliases repeat more than 1,000,000 values (this anchored "
        "collection made it too many)")

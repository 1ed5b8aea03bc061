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
    "fault_unknown_operation.yaml":
        f'fault_unknown_operation.yaml:3:24: faults[0].match.operation: unknown operation "listWorkflow"; '
        f"valid operations: {OPERATIONS}",
    "fault_unknown_key_name.yaml":
        'fault_unknown_key_name.yaml:12:18: faults[0].match.key: no API key named "deploy"; keys: ci',
    "fault_unknown_tenant.yaml":
        'fault_unknown_tenant.yaml:7:21: faults[0].match.tenant: no workspace with id "ws-other"',
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

FAKE_BUGS = {
    "syntax_unclosed_bracket.yaml": "the syntax error is reported on the line after the unclosed '[' with no "
                                    "mention of where the bracket was opened (PyYAML's context is dropped)",
    "top_level_list.yaml": "a non-mapping document is always reported at 1:1, not where the document starts",
    "faults_as_mapping.yaml": "the loader's internal class name (MarkedDict) leaks into the message "
                              "instead of 'a mapping'",
    "revoked_at_true.yaml": "a nullable time says only 'expected one of the allowed forms'",
    "latency_uniform_one_bound.yaml": "'[250] is too short' does not say that two numbers [low, high] are expected",
    "behaviour_unknown_agent.yaml": "an unknown agent in behaviours is reported without line, column or path, "
                                    "as a Python exception repr",
    "generate_without_workspace.yaml": "data.generate without a workspace is reported without line, column or "
                                       "path, as a Python exception repr",
    "duplicate_yaml_key.yaml": "a key given twice in one mapping is silently accepted (the last one wins)",
    "duplicate_workflow_id.yaml": "two records with the same id are silently accepted (one is lost)",
    "several_unsorted_problems.yaml": "reference/time problems are reported in check order, not sorted by position",
    "several_mixed_problems.yaml": "reference problems are not reported at all while the same file has a "
                                   "schema problem",
}
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


@pytest.mark.xfail(strict=True, reason="fake bug: " + FAKE_BUGS["several_unsorted_problems.yaml"])
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


@pytest.mark.xfail(strict=True, reason="fake bug: an unquoted ISO time (a YAML timestamp) is rejected with "
                                       "'expected one of the allowed forms; got datetime ...'")
def test_unquoted_yaml_timestamps_are_times():
    scenario = load_scenario_text(GOOD.replace("bundle: read-only, per_minute: 60}",
                                               "bundle: read-only, expires_at: 2026-12-31T23:59:59Z}"), "good.yaml")
    key = build_store(scenario).key_by_name("ci")
    assert key.expires_at == 1798761599000


@pytest.mark.xfail(strict=True, reason="fake bug: epoch milliseconds, which the schema allows for every time, "
                                       "crash outside the loader's checks: `epoch` raises a bare AttributeError "
                                       "from load_scenario_text, `clock.frozen_at` loads and then crashes create_app")
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
quirks: {alpha: true}
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
quirks: {beta: false}
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


@pytest.mark.xfail(strict=True, reason="fake bug: a problem in a top-level value of an earlier file is reported "
                                       "in the later file (merged mappings take the overlay's source)")
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
    assert data["quirks"] == {"alpha": True, "beta": False}
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

"""The pytest plugin, run on test files written here by pytester: fixtures over a real
socket and in-process, per-test isolation, the marker, the journal in a failure's
report, hypothesis with the session-scoped fixture, and no cost for sessions that do
not use it."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)


def test_the_plugin_is_registered_through_its_entry_point(pytester):
    config = pytester.parseconfig()
    import fakemaestro.pytest_plugin as plugin
    assert config.pluginmanager.get_plugin("fakemaestro") is plugin
    pytester.makepyfile("def test_nothing(): pass")
    assert "fakemaestro(scenario=None, profile=None, faults=None, seed=None, quirks=None)" in \
        run(pytester, "--markers").stdout.str()


def test_the_fixture_is_a_real_server_the_sdk_talks_to(pytester):
    pytester.makepyfile("""
        import socket
        from urllib.parse import urlsplit
        from flowmaestro import FlowMaestroClient

        def test_sdk(fakemaestro):
            url = urlsplit(fakemaestro.base_url)
            assert url.hostname == "127.0.0.1" and url.port
            socket.create_connection((url.hostname, url.port), timeout=2).close()
            with FlowMaestroClient(fakemaestro.key("full"), base_url=fakemaestro.base_url, max_retries=0) as client:
                page = client.workflows.list(per_page=2)
            assert len(page["data"]) == 2
            assert fakemaestro.verify(operation="listWorkflows", key="full", status=200) == 1
            [entry] = fakemaestro.journal()
            assert (entry["method"], entry["path"], entry["query"]) == ("GET", "/api/v1/workflows", "per_page=2")
            assert set(fakemaestro.keys) >= {"full", "read-only", "other-workspace"}
    """)
    run(pytester).assert_outcomes(passed=1)


def test_tests_never_see_each_others_state(pytester):
    pytester.makepyfile("""
        import httpx

        def auth(fm):
            return {"authorization": "Bearer " + fm.key("full")}

        def test_a_changes_everything(fakemaestro):
            created = httpx.post(fakemaestro.base_url + "/api/v1/webhooks", headers=auth(fakemaestro),
                                 json={"name": "mine", "url": "https://example.com/h", "events": ["execution.completed"]})
            assert created.status_code == 201
            fakemaestro.clock.freeze("2030-01-01T00:00:00Z")
            fakemaestro.clock.advance(5000)
            assert fakemaestro.clock.now == "2030-01-01T00:00:05.000Z"
            fakemaestro.extend({"faults": [{"name": "down", "do": {"error": "service_unavailable"}}]})
            assert httpx.get(fakemaestro.base_url + "/api/v1/workflows", headers=auth(fakemaestro)).status_code == 503

        def test_b_sees_the_session_scenario_again(fakemaestro):
            assert fakemaestro.journal() == [] and fakemaestro.faults() == []
            assert not fakemaestro.clock.frozen and fakemaestro.clock.now < "2030"
            hooks = httpx.get(fakemaestro.base_url + "/api/v1/webhooks", headers=auth(fakemaestro)).json()["data"]
            assert "mine" not in [h["name"] for h in hooks]
            assert fakemaestro.verify(count=1)
    """)
    run(pytester).assert_outcomes(passed=2)


def test_the_marker_sets_scenario_profile_seed_quirks_and_faults_for_one_test(pytester):
    pytester.makefile(".yaml", tiny="""
        seed: 7
        tenants:
          users: [{id: u1}]
          workspaces: [{id: w1, owner: u1}]
          api_keys: [{name: only, user: u1, workspace: w1}]
    """)
    pytester.makepyfile("""
        import httpx, pytest

        @pytest.mark.fakemaestro(scenario="tiny.yaml", profile="intended", seed=11,
                                 quirks={"kb_chunk_count_inflated": True},
                                 faults=[{"match": {"operation": "listAgents"}, "do": {"error": "internal_error"}}])
        def test_marked(fakemaestro):
            assert list(fakemaestro.keys) == ["only"]
            data = fakemaestro.state.scenario.data
            assert (data["profile"], data["seed"]) == ("intended", 11)
            assert fakemaestro.state.fidelity.on("kb_chunk_count_inflated")
            assert not fakemaestro.state.fidelity.on("executions_list_window")
            got = httpx.get(fakemaestro.base_url + "/api/v1/agents",
                            headers={"authorization": "Bearer " + fakemaestro.key("only")})
            assert got.status_code == 500

        @pytest.mark.fakemaestro(scenario={"tenants": {"users": [{"id": "u"}], "workspaces": [{"id": "w"}],
                                                       "api_keys": [{"name": "inline", "user": "u", "workspace": "w"}]}})
        def test_a_dict(fakemaestro_app):
            assert list(fakemaestro_app.keys) == ["inline"]

        def test_unmarked(fakemaestro):
            assert "full" in fakemaestro.keys and fakemaestro.faults() == []
            assert fakemaestro.state.fidelity.on("executions_list_window")  # production, the default
    """)
    run(pytester).assert_outcomes(passed=3)


def test_marker_mistakes_are_explained(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.fakemaestro(profle="intended")
        def test_typo(fakemaestro):
            pass

        @pytest.mark.fakemaestro(profile="staging")
        def test_bad_profile(fakemaestro):
            pass

        @pytest.mark.fakemaestro(profile="intended")
        def test_no_fixture():
            pass
    """)
    result = run(pytester)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines([
        "*@pytest.mark.fakemaestro: unknown option(s) profle; valid: scenario, profile, faults, seed, quirks*",
        "*@pytest.mark.fakemaestro: the scenario would not load:*",
        "*profile*staging*",
        "*@pytest.mark.fakemaestro needs the fakemaestro or fakemaestro_app fixture*",
    ])


def test_a_failure_report_shows_the_journal_of_that_test(pytester):
    pytester.makepyfile("""
        import httpx

        def test_passes_first(fakemaestro):
            httpx.get(fakemaestro.base_url + "/api/v1/agents")

        def test_fails(fakemaestro):
            headers = {"authorization": "Bearer " + fakemaestro.key("full")}
            httpx.get(fakemaestro.base_url + "/api/v1/workflows?per_page=3", headers=headers)
            httpx.get(fakemaestro.base_url + "/api/v1/executions", headers={"authorization": "Bearer fm_live_nope"})
            assert False, "client bug"
    """)
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*- fakemaestro journal (fakemaestro) -*",
        "2 request(s):",
        "  #1 *Z GET /api/v1/workflows?per_page=3 -> 200  (listWorkflows, key=full)",
        "  #2 *Z GET /api/v1/executions -> 401  (listExecutions, no key)",
    ])
    assert "/api/v1/agents" not in result.stdout.str()  # the other test's request


def test_verify_with_a_count_explains_a_mismatch(pytester):
    pytester.makepyfile("""
        import httpx, pytest

        def test_verify(fakemaestro):
            httpx.get(fakemaestro.base_url + "/api/v1/agents")
            with pytest.raises(AssertionError) as info:
                fakemaestro.verify(count=2, path="/api/v1/agents")
            assert "expected 2 request(s) matching {'path': '/api/v1/agents'}, found 1" in str(info.value)
            assert "GET /api/v1/agents -> 401" in str(info.value)
    """)
    run(pytester).assert_outcomes(passed=1)


def test_hypothesis_uses_the_session_fixture_and_shrinks_the_schedule(pytester):
    pytester.makepyfile("""
        from flowmaestro import FlowMaestroClient, ServerError
        from hypothesis import given, settings
        from fakemaestro.strategies import fault_schedules

        @settings(max_examples=30, deadline=None, database=None)
        @given(schedule=fault_schedules("listWorkflows", errors=["service_unavailable", "internal_error"]))
        def test_client(fakemaestro, schedule):
            fakemaestro.apply(schedule)
            with FlowMaestroClient(fakemaestro.key("bulk"), base_url=fakemaestro.base_url, max_retries=0) as c:
                try:
                    c.workflows.list()
                except ServerError as err:
                    assert err.status_code != 500, "a 500 is a bug in this client"
    """)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    assert "schedule=FaultSchedule(listWorkflows: [<500 internal_error>])," in result.stdout.str()  # shrunk
    result.stdout.fnmatch_lines([
        "*- fakemaestro journal (fakemaestro) -*",
        "1 request(s):",
        "  #1 *GET /api/v1/workflows -> 500  (listWorkflows, key=bulk, fault=fakemaestro.apply-0)",
    ])
    assert "FailedHealthCheck" not in result.stdout.str()


def test_the_in_process_app_serves_httpx_and_moves_its_clock(pytester):
    pytester.makepyfile("""
        import asyncio, httpx

        def test_asgi(fakemaestro_app):
            assert fakemaestro_app.base_url is None
            fakemaestro_app.clock.freeze("2026-05-01T00:00:00Z")
            fakemaestro_app.clock.advance(60_000)

            async def call():
                transport = httpx.ASGITransport(app=fakemaestro_app)
                async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
                    return await client.get("/api/v1/workflows",
                                            headers={"authorization": "Bearer " + fakemaestro_app.key("full")})
            response = asyncio.run(call())
            assert response.status_code == 200 and response.json()["data"]
            [entry] = fakemaestro_app.journal()
            assert entry["time"] == "2026-05-01T00:01:00.000Z"
    """)
    run(pytester).assert_outcomes(passed=1)


def test_the_session_scenario_is_a_fixture_to_override(pytester):
    pytester.makeconftest("""
        import pytest

        @pytest.fixture(scope="session")
        def fakemaestro_scenario():
            return {"tenants": {"users": [{"id": "u"}], "workspaces": [{"id": "w"}],
                                "api_keys": [{"name": "team-key", "user": "u", "workspace": "w"}]},
                    "clock": {"frozen_at": "2026-02-02T00:00:00Z"}}
    """)
    pytester.makepyfile("""
        def test_one(fakemaestro):
            assert list(fakemaestro.keys) == ["team-key"]
            fakemaestro.clock.advance(1000)

        def test_two(fakemaestro):
            assert fakemaestro.clock.now == "2026-02-02T00:00:00.000Z"  # frozen where the scenario says, again
    """)
    run(pytester).assert_outcomes(passed=2)


def test_a_session_without_the_fixtures_does_not_load_the_fake(pytester):
    pytester.makepyfile("""
        import sys

        def test_plain():
            assert "fakemaestro.pytest_plugin" in sys.modules
            assert "fakemaestro.app" not in sys.modules
    """)
    runpytest = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:schemathesis")  # (slow to import)
    runpytest.assert_outcomes(passed=1)


def test_the_docs_page_shows_the_examples_that_run_in_ci():
    """Each code block of docs/property-testing.md that names an example file is a
    verbatim copy of part of that file."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "property-testing.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n# (examples/property_tests/\S+\.py)\n(.*?)```", page, re.S)
    assert len(blocks) >= 8
    for path, code in blocks:
        assert code in (root / path).read_text(encoding="utf-8"), f"docs/property-testing.md differs from {path}"

"""Tenant isolation (CONTRACT.md §1.9) and determinism: keys of one workspace never see
another's data, two CI jobs sharing one real server stay apart, the same seed gives the
same bytes, and a 100,000-execution scenario pages correctly."""
from __future__ import annotations

import copy
import threading

import httpx
import pytest
from starlette.testclient import TestClient

from fakemaestro.clock import Clock, parse_instant
from fakemaestro.scenario import Scenario
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.testing import serve_in_thread

from .conftest import keys_of, make_app

API = "/api/v1"
FROZEN = parse_instant("2026-10-10T10:10:10.010Z")
LISTS = ["/workflows", "/executions", "/agents", "/triggers", "/knowledge-bases", "/webhooks"]
ITEM_ROUTES = {"/workflows": "/workflows/{}", "/executions": "/executions/{}", "/agents": "/agents/{}",
               "/knowledge-bases": "/knowledge-bases/{}", "/webhooks": "/webhooks/{}"}


def _client(app):
    return TestClient(app, base_url="http://127.0.0.1")


def _all(c, key, path, **params):
    r = c.get(f"{API}{path}", params={"per_page": 100, **params}, headers={"X-API-Key": key})
    assert r.status_code == 200, (path, r.text)
    return r.json()["data"]


# ---------------------------------------------------------------- workspace isolation (default scenario)

def _default_without_rate_limits(seed: int = 1) -> Scenario:
    """The default scenario with every key's limits raised: these tests count data, not requests."""
    scenario = default_scenario(seed)
    data = copy.deepcopy(scenario.data)
    for key in data["tenants"]["api_keys"]:
        key.update(per_minute=10**6, per_day=10**8)
    return Scenario(data, scenario.source)


@pytest.fixture(scope="module")
def default_app():
    return make_app(_default_without_rate_limits(), clock=Clock(frozen_at_ms=FROZEN))


@pytest.fixture(scope="module")
def seen(default_app):
    """Ids each side sees on every list, and the threads each workspace holds."""
    keys = keys_of(default_app)
    with _client(default_app) as c:
        found = {side: {path: [i["id"] for i in _all(c, keys[name], path)] for path in LISTS}
                 for side, name in (("main", "bulk"), ("other", "other-workspace"))}
    store = default_app.state.fake.store
    for side, name in (("main", "bulk"), ("other", "other-workspace")):
        ws = store.key_by_name(name).workspace_id
        found[side]["threads"] = [t.id for t in store.threads.values() if t.workspace_id == ws]
    return found


def test_both_sides_hold_data(seen):
    # the isolation checks below mean something only if each side has data of its own
    for path in ("/workflows", "/agents", "/knowledge-bases", "/webhooks"):
        assert seen["main"][path] and seen["other"][path], path
    assert seen["main"]["/executions"] and seen["main"]["/triggers"] and seen["main"]["threads"]


@pytest.mark.parametrize("path", LISTS + ["threads"])
def test_lists_are_disjoint(seen, path):
    assert not set(seen["main"][path]) & set(seen["other"][path])


@pytest.mark.parametrize("viewer,owner", [("other-workspace", "main"), ("bulk", "other")])
def test_item_reads_across_workspaces_are_404(default_app, seen, viewer, owner):
    key = {"X-API-Key": keys_of(default_app)[viewer]}
    checked = 0
    with _client(default_app) as c:
        for path, route in ITEM_ROUTES.items():
            for id_ in seen[owner][path]:
                r = c.get(API + route.format(id_), headers=key)
                assert r.status_code == 404, (route, id_, r.text)
                assert r.json()["error"]["details"]["id"] == id_
                checked += 1
        for id_ in seen[owner]["threads"]:
            for suffix in ("", "/messages"):
                assert c.get(f"{API}/threads/{id_}{suffix}", headers=key).status_code == 404
        for id_ in seen[owner]["/agents"]:
            for suffix in ("/memory", "/memory/stats"):
                assert c.get(f"{API}/agents/{id_}{suffix}", headers=key).status_code == 404
        for id_ in seen[owner]["/webhooks"]:
            assert c.get(f"{API}/webhooks/{id_}/deliveries", headers=key).status_code == 404
        for id_ in seen[owner]["/workflows"]:
            # executions filtered by a foreign workflow: an empty page, not the owner's rows
            assert _all(c, key["X-API-Key"], "/executions", workflow_id=id_) == []
    assert checked


def test_writes_across_workspaces_are_404_and_change_nothing(default_app, seen):
    key = {"X-API-Key": keys_of(default_app)["other-workspace"]}
    store = default_app.state.fake.store
    with _client(default_app) as c:
        for id_ in seen["main"]["/workflows"]:
            assert c.post(f"{API}/workflows/{id_}/execute", headers=key).status_code == 404
        for id_ in seen["main"]["/triggers"]:
            assert c.post(f"{API}/triggers/{id_}/execute", headers=key).status_code == 404
        for id_ in seen["main"]["/executions"]:
            assert c.post(f"{API}/executions/{id_}/cancel", headers=key).status_code == 404
        for id_ in seen["main"]["/agents"]:
            assert c.post(f"{API}/agents/{id_}/threads", headers=key).status_code == 404
        for id_ in seen["main"]["/webhooks"]:
            assert c.patch(f"{API}/webhooks/{id_}", json={"name": "x"}, headers=key).status_code == 404
            assert c.delete(f"{API}/webhooks/{id_}", headers=key).status_code == 404
        for id_ in seen["main"]["threads"]:
            assert c.delete(f"{API}/threads/{id_}", headers=key).status_code == 404
    assert all(store.webhooks[i].name != "x" and store.webhooks[i].deleted_at is None
               for i in seen["main"]["/webhooks"])
    assert all(store.threads[i].deleted_at is None for i in seen["main"]["threads"])


# ---------------------------------------------------------------- KBs follow the user, not the workspace

def test_knowledge_bases_follow_the_keys_user():
    u1, u2 = "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002"
    w1, w2 = "b0000000-0000-4000-8000-000000000001", "b0000000-0000-4000-8000-000000000002"
    kb_u1_w1, kb_u1_w2, kb_u2_w1 = (f"20000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
    app = make_app(Scenario({"seed": 2, "tenants": {
        "users": [{"id": u1}, {"id": u2}], "workspaces": [{"id": w1}, {"id": w2}],
        "api_keys": [{"name": "u1-w1", "user": u1, "workspace": w1}, {"name": "u1-w2", "user": u1, "workspace": w2},
                     {"name": "u2-w1", "user": u2, "workspace": w1}]},
        "data": {"knowledge_bases": [
            {"id": kb_u1_w1, "user": u1, "workspace": w1, "name": "a", "created_at": "2026-01-01T00:00:00Z"},
            {"id": kb_u1_w2, "user": u1, "workspace": w2, "name": "b", "created_at": "2026-01-02T00:00:00Z"},
            {"id": kb_u2_w1, "user": u2, "workspace": w1, "name": "c", "created_at": "2026-01-03T00:00:00Z"}]}}))
    keys = keys_of(app)
    with _client(app) as c:
        for name in ("u1-w1", "u1-w2"):  # the same user sees the same KBs from either workspace
            assert [k["id"] for k in _all(c, keys[name], "/knowledge-bases")] == [kb_u1_w2, kb_u1_w1]
        assert [k["id"] for k in _all(c, keys["u2-w1"], "/knowledge-bases")] == [kb_u2_w1]
        teammate = {"X-API-Key": keys["u2-w1"]}
        assert c.get(f"{API}/knowledge-bases/{kb_u1_w1}", headers=teammate).status_code == 404
        assert c.post(f"{API}/knowledge-bases/{kb_u1_w1}/query", json={"query": "q"},
                      headers=teammate).status_code == 404


# ---------------------------------------------------------------- two CI jobs on one real server

def _two_workspaces() -> Scenario:
    tenants = {"users": [], "workspaces": [], "api_keys": []}
    data = {"workflows": [], "agents": []}
    for n in (1, 2):
        user, ws = f"a0000000-0000-4000-8000-00000000000{n}", f"b0000000-0000-4000-8000-00000000000{n}"
        tenants["users"].append({"id": user})
        tenants["workspaces"].append({"id": ws, "owner": user})
        tenants["api_keys"].append({"name": f"job{n}", "user": user, "workspace": ws,
                                    "per_minute": 10**6, "per_day": 10**8})
        data["workflows"].append({"id": f"c0000000-0000-4000-8000-00000000000{n}", "user": user, "workspace": ws,
                                  "name": f"wf{n}", "definition": {"nodes": {}, "edges": []}})
        data["agents"].append({"id": f"e0000000-0000-4000-8000-00000000000{n}", "user": user, "workspace": ws,
                               "name": f"agent{n}"})
    return Scenario({"seed": 31, "tenants": tenants, "data": data})


def _ci_job(base_url: str, key: str, n: int, start: threading.Barrier, rounds: int = 8) -> dict:
    workflow, agent = f"c0000000-0000-4000-8000-00000000000{n}", f"e0000000-0000-4000-8000-00000000000{n}"
    made = {"webhooks": [], "threads": [], "executions": []}
    with httpx.Client(base_url=base_url + API, headers={"X-API-Key": key}, timeout=10, trust_env=False) as http:
        start.wait()
        for i in range(rounds):
            hook = http.post("/webhooks", json={"name": f"job{n}-{i}", "url": f"http://127.0.0.1:9/{n}/{i}",
                                                "events": ["execution.completed"]})
            assert hook.status_code == 201, hook.text
            made["webhooks"].append(hook.json()["data"]["id"])
            thread = http.post(f"/agents/{agent}/threads")
            assert thread.status_code == 201, thread.text
            made["threads"].append(thread.json()["data"]["id"])
            sent = http.post(f"/threads/{made['threads'][-1]}/messages", json={"content": f"job {n} round {i}"})
            assert sent.status_code == 200, sent.text
            ex = http.post(f"/workflows/{workflow}/execute", json={"inputs": {"job": n, "round": i}})
            assert ex.status_code == 202, ex.text
            made["executions"].append(ex.json()["data"]["execution_id"])
        made["listed_webhooks"] = [w["id"] for w in http.get("/webhooks", params={"per_page": 100}).json()["data"]]
        made["listed_executions"] = [e["id"] for e in
                                     http.get("/executions", params={"per_page": 100}).json()["data"]]
        made["listed_by_workflow"] = [e["id"] for e in http.get(
            "/executions", params={"per_page": 100, "workflow_id": workflow}).json()["data"]]
        made["inputs"] = {e["inputs"]["job"] for e in
                          http.get("/executions", params={"per_page": 100}).json()["data"]}
    return made


def test_two_parallel_ci_jobs_never_see_each_other():
    app = make_app(_two_workspaces())
    with serve_in_thread(app) as running:
        keys = keys_of(app)
        start = threading.Barrier(2)
        results: dict[int, dict] = {}
        errors: list[BaseException] = []

        def run(n: int) -> None:
            try:
                results[n] = _ci_job(running.base_url, keys[f"job{n}"], n, start)
            except BaseException as exc:  # surfaced in the main thread below
                errors.append(exc)
                start.abort()

        threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        one, two = results[1], results[2]
        for made, theirs in ((one, two), (two, one)):
            assert sorted(made["listed_webhooks"]) == sorted(made["webhooks"])
            assert made["listed_executions"] == made["listed_by_workflow"] == made["executions"][::-1]
            assert len(made["inputs"]) == 1
            assert not set(made["threads"]) & set(theirs["threads"])
        # cross reads with the other job's key, after both finished
        with httpx.Client(base_url=running.base_url + API, timeout=10, trust_env=False) as http:
            for mine, theirs, n in ((one, two, 1), (two, one, 2)):
                key = {"X-API-Key": keys[f"job{n}"]}
                for id_ in theirs["webhooks"][:3]:
                    assert http.get(f"/webhooks/{id_}", headers=key).status_code == 404
                for id_ in theirs["threads"][:3]:
                    assert http.get(f"/threads/{id_}/messages", headers=key).status_code == 404
                for id_ in theirs["executions"][:3]:
                    assert http.get(f"/executions/{id_}", headers=key).status_code == 404
                assert http.get(f"/threads/{mine['threads'][0]}/messages", headers=key).status_code == 200


# ---------------------------------------------------------------- determinism

def _bodies_without_meta(app) -> dict[str, bytes]:
    keys = keys_of(app)
    out = {}
    with _client(app) as c:
        for name in ("bulk", "other-workspace"):
            for path in LISTS:
                r = c.get(f"{API}{path}?per_page=100", headers={"X-API-Key": keys[name]})
                assert r.status_code == 200
                body = r.content
                cut = body.rindex(b',"meta":')  # meta is the last key of the envelope
                out[f"{name} {path}"] = body[:cut]
        agent = next(iter(c.get(f"{API}/agents", headers={"X-API-Key": keys["bulk"]}).json()["data"]))["id"]
        r = c.get(f"{API}/agents/{agent}/memory", headers={"X-API-Key": keys["bulk"]})
        out["memory"] = r.content[:r.content.rindex(b',"meta":')]
    return out


def test_same_seed_gives_byte_identical_lists_except_meta():
    a = _bodies_without_meta(make_app(default_scenario(1), clock=Clock(frozen_at_ms=FROZEN)))
    b = _bodies_without_meta(make_app(default_scenario(1), clock=Clock(frozen_at_ms=FROZEN)))
    assert a == b
    assert all(b'"data":[{' in body for name, body in a.items() if "bulk" in name)


def test_same_seed_same_keys_and_same_created_ids():
    apps = [make_app(default_scenario(4), clock=Clock(frozen_at_ms=FROZEN)) for _ in range(2)]
    assert keys_of(apps[0]) == keys_of(apps[1])
    created = []
    for app in apps:
        with _client(app) as c:
            r = c.post(f"{API}/webhooks", json={"name": "n", "url": "http://127.0.0.1:9/x",
                                                "events": ["execution.started"]},
                       headers={"X-API-Key": keys_of(app)["bulk"]})
            created.append({k: r.json()["data"][k] for k in ("id", "secret", "created_at")})
    assert created[0] == created[1]


def test_different_seed_gives_different_ids_and_keys():
    one, two = (make_app(default_scenario(s), clock=Clock(frozen_at_ms=FROZEN)) for s in (1, 2))
    assert set(keys_of(one).values()).isdisjoint(keys_of(two).values())
    with _client(one) as c1, _client(two) as c2:
        for path in LISTS:
            ids1 = {i["id"] for i in _all(c1, keys_of(one)["bulk"], path)}
            ids2 = {i["id"] for i in _all(c2, keys_of(two)["bulk"], path)}
            assert ids1 and ids2 and ids1.isdisjoint(ids2), path


def test_scenario_seed_drives_generated_ids_only():
    def build(seed):
        return Scenario({"seed": seed, "tenants": {
            "users": [{"id": "a0000000-0000-4000-8000-000000000001"}],
            "workspaces": [{"id": "b0000000-0000-4000-8000-000000000001"}],
            "api_keys": [{"name": "k", "user": "a0000000-0000-4000-8000-000000000001",
                          "workspace": "b0000000-0000-4000-8000-000000000001"}]},
            "data": {"workflows": [
                {"id": "c0000000-0000-4000-8000-000000000001", "user": "a0000000-0000-4000-8000-000000000001",
                 "workspace": "b0000000-0000-4000-8000-000000000001", "name": "fixed"},
                {"user": "a0000000-0000-4000-8000-000000000001",
                 "workspace": "b0000000-0000-4000-8000-000000000001", "name": "generated"}]}})

    def ids(seed):
        app = make_app(build(seed))
        with _client(app) as c:
            return {w["name"]: w["id"] for w in _all(c, keys_of(app)["k"], "/workflows")}
    a, b, c = ids(5), ids(5), ids(6)
    assert a == b
    assert a["fixed"] == c["fixed"] == "c0000000-0000-4000-8000-000000000001"
    assert a["generated"] != c["generated"]


# ---------------------------------------------------------------- 100,000 executions

N = 100_000
BIG_WS, BIG_USER = "b0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000001"
BIG_WFS = ["c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"]
BASE_MS = parse_instant("2026-01-01T00:00:00Z")
STATUSES = ("completed", "failed", "running", "pending")


def _big_id(i: int) -> str:
    return f"d0000000-0000-4000-8000-{i:012d}"


@pytest.fixture(scope="module")
def big():
    # execution i: workflow i % 2, status i % 4, created i seconds after BASE (newest = N-1)
    executions = [{"id": _big_id(i), "workflow": BIG_WFS[i % 2], "status": STATUSES[i % 4],
                   "created_at": BASE_MS + i * 1000} for i in range(N)]
    app = make_app(Scenario({"seed": 1, "tenants": {
        "users": [{"id": BIG_USER}], "workspaces": [{"id": BIG_WS, "owner": BIG_USER}],
        "api_keys": [{"name": "bulk", "user": BIG_USER, "workspace": BIG_WS, "per_minute": 10**6, "per_day": 10**8}]},
        "data": {"workflows": [{"id": w, "user": BIG_USER, "workspace": BIG_WS, "name": w[-1],
                                "definition": {"nodes": {}}} for w in BIG_WFS],
                 "executions": executions}}))
    with _client(app) as c:
        yield c, {"X-API-Key": keys_of(app)["bulk"]}


def _big_page(big, **params):
    c, key = big
    r = c.get(f"{API}/executions", params=params, headers=key)
    assert r.status_code == 200
    return r.json()


@pytest.mark.parametrize("page", [1, 2, 500, 1000])
def test_big_list_without_workflow_id(big, page):
    body = _big_page(big, page=page, per_page=100)
    first = N - 1 - (page - 1) * 100
    assert [e["id"] for e in body["data"]] == [_big_id(i) for i in range(first, first - 100, -1)]
    total = min(N, page * 100)
    assert body["pagination"] == {"page": page, "per_page": 100, "total_count": total,
                                  "total_pages": total // 100, "has_next": False, "has_prev": page > 1}


def test_big_list_past_the_end(big):
    body = _big_page(big, page=1001, per_page=100)
    assert body["data"] == [] and body["pagination"]["total_count"] == N and body["pagination"]["total_pages"] == 1000


@pytest.mark.parametrize("page", [1, 250, 500])
def test_big_list_by_workflow_has_the_true_count(big, page):
    body = _big_page(big, workflow_id=BIG_WFS[1], page=page, per_page=100)
    newest_odd = N - 1  # odd indexes belong to the second workflow
    first = newest_odd - (page - 1) * 200
    assert [e["id"] for e in body["data"]] == [_big_id(i) for i in range(first, first - 200, -2)]
    assert body["pagination"] == {"page": page, "per_page": 100, "total_count": N // 2, "total_pages": 500,
                                  "has_next": page < 500, "has_prev": page > 1}


def test_big_list_by_status(big):
    body = _big_page(big, status="pending", page=3, per_page=50)  # SQL filter before pagination
    newest_pending = max(i for i in range(N - 4, N) if i % 4 == 3)
    first = newest_pending - 100 * 4
    assert [e["id"] for e in body["data"]] == [_big_id(i) for i in range(first, first - 200, -4)]
    assert body["pagination"]["total_count"] == 150
    # the first workflow holds the even indexes: completed (i % 4 == 0) and running, never failed;
    # with workflow_id the status filter runs on the page and counts the page only
    filtered = _big_page(big, workflow_id=BIG_WFS[0], status="failed", per_page=100)
    assert filtered["data"] == [] and filtered["pagination"]["total_count"] == 0
    completed = _big_page(big, workflow_id=BIG_WFS[0], status="completed", per_page=100)
    assert len(completed["data"]) == 50 and completed["pagination"]["total_count"] == 50

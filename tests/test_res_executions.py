"""Executions (CONTRACT.md §5.2, §1.9): the list quirks with and without workflow_id,
get's user ownership, and which statuses can be cancelled."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from fakemaestro import messages
from fakemaestro.clock import Clock, parse_instant
from fakemaestro.scenario import Scenario

from .conftest import keys_of, make_app

API = "/api/v1"
U1, U2, U3 = (f"a0000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))  # key user, teammate, other
W1, W2 = (f"b0000000-0000-4000-8000-00000000000{i}" for i in (1, 2))
WF_A, WF_B, WF_TEAM, WF_DEL, WF_SYS, WF_OTHER, WF_MINE_W2 = (
    f"c0000000-0000-4000-8000-00000000000{i}" for i in range(1, 8))
UNKNOWN = "99999999-9999-4999-8999-999999999999"
FIELDS = ["id", "workflow_id", "status", "inputs", "outputs", "error", "started_at", "completed_at", "created_at"]
STATUSES = ("completed", "failed", "pending", "running", "paused", "cancelled")


def ex_id(n: int) -> str:
    return f"d0000000-0000-4000-8000-{n:012d}"


def _at(minute: int, second: int = 0) -> str:
    return f"2026-02-01T10:{minute:02d}:{second:02d}.000Z"


# Executions of WF_A: ids 1..10, created one minute apart (10 newest), statuses cycling.
A_IDS = [ex_id(n) for n in range(1, 11)]
SPECIAL = {  # id -> (workflow, status, created minute, extra)
    ex_id(21): (WF_B, "completed", 30, {}),
    ex_id(22): (WF_TEAM, "running", 31, {}),        # teammate's workflow: listed, but 404 on get
    ex_id(23): (WF_DEL, "completed", 32, {}),       # workflow soft-deleted
    ex_id(24): (WF_SYS, "completed", 33, {}),       # system workflow: not in the workspace list
    ex_id(25): (WF_A, "completed", 34, {"deleted_at": "2026-02-02T00:00:00Z"}),  # soft-deleted execution
    ex_id(26): (WF_MINE_W2, "pending", 35, {}),     # key user's workflow in another workspace
    ex_id(27): (WF_B, "pending", 36, {"inputs": {}}),
    ex_id(28): (WF_B, "paused", 37, {"inputs": None}),
}
OTHER_IDS = [ex_id(n) for n in range(41, 45)]  # workspace 2, interleaved with WF_A's by time


def _executions() -> list[dict]:
    rows = []
    for i, eid in enumerate(A_IDS):
        status = STATUSES[i % len(STATUSES)]
        row = {"id": eid, "workflow": WF_A, "status": status, "inputs": {"n": i + 1}, "created_at": _at(i)}
        if status != "pending":
            row["started_at"] = _at(i, 1)
        if status == "completed":
            row.update(outputs={"result": f"r{i + 1}"}, completed_at=_at(i, 3))
        if status == "failed":
            row.update(error="Node llm_1 failed", completed_at=_at(i, 2))
        rows.append(row)
    for eid, (wf, status, minute, extra) in SPECIAL.items():
        rows.append({"id": eid, "workflow": wf, "status": status, "inputs": {"k": eid[-2:]},
                     "created_at": _at(minute), **extra})
    for j, eid in enumerate(OTHER_IDS):  # at minutes 0.5, 1.5, ... : between WF_A's rows
        rows.append({"id": eid, "workflow": WF_OTHER, "status": "failed", "created_at": _at(j, 30)})
    return rows


def scenario() -> Scenario:
    def wf(id_, user, workspace, **extra):
        return {"id": id_, "user": user, "workspace": workspace, "name": id_[-1], "created_at": "2026-01-01T00:00:00Z",
                "definition": {"nodes": {}, "edges": []}, **extra}
    big = {"per_minute": 10**6, "per_day": 10**8}
    return Scenario({"seed": 5, "tenants": {
        "users": [{"id": U1}, {"id": U2}, {"id": U3}],
        "workspaces": [{"id": W1, "owner": U1}, {"id": W2, "owner": U3}],
        "api_keys": [{"name": "bulk", "user": U1, "workspace": W1, **big},
                     {"name": "teammate", "user": U2, "workspace": W1, **big},
                     {"name": "other", "user": U3, "workspace": W2, **big}]},
        "data": {"workflows": [wf(WF_A, U1, W1), wf(WF_B, U1, W1), wf(WF_TEAM, U2, W1),
                               wf(WF_DEL, U1, W1, deleted_at="2026-01-02T00:00:00Z"),
                               wf(WF_SYS, U1, W1, workflow_type="system"), wf(WF_OTHER, U3, W2),
                               wf(WF_MINE_W2, U1, W2)],
                 "executions": _executions()}})


# What the key's workspace sees without workflow_id, newest first (workflows A, B, teammate).
WORKSPACE_ORDER = [ex_id(28), ex_id(27), ex_id(22), ex_id(21)] + A_IDS[::-1]


@pytest.fixture
def app():
    return make_app(scenario(), clock=Clock(frozen_at_ms=parse_instant("2026-03-01T00:00:00Z")))


def _list(c, h, key="bulk", **params):
    r = c.get(f"{API}/executions", params=params, headers=h[key])
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["data", "pagination", "meta"]
    return [e["id"] for e in body["data"]], body["pagination"]


def _pagination(page, per_page, total):
    pages = -(-total // per_page)
    return {"page": page, "per_page": per_page, "total_count": total, "total_pages": pages,
            "has_next": page < pages, "has_prev": page > 1}


# ---------------------------------------------------------------- list without workflow_id

def test_list_without_workflow_id_is_the_workspaces_executions_newest_first(c, h):
    ids, pagination = _list(c, h, per_page=100)
    # deleted workflow, system workflow, soft-deleted execution, other workspace, and the key
    # user's workflow in another workspace are all absent; the teammate's execution is listed
    assert ids == WORKSPACE_ORDER
    assert pagination == _pagination(1, 100, len(WORKSPACE_ORDER))


def _solo_app(n: int):
    """One tenant only: every execution in the store belongs to the key's workspace."""
    big = {"per_minute": 10**6, "per_day": 10**8}
    return make_app(Scenario({"seed": 3, "tenants": {
        "users": [{"id": U1}], "workspaces": [{"id": W1, "owner": U1}],
        "api_keys": [{"name": "bulk", "user": U1, "workspace": W1, **big}]},
        "data": {"workflows": [{"id": WF_A, "user": U1, "workspace": W1, "name": "A", "definition": {"nodes": {}}}],
                 "executions": [{"id": ex_id(n_), "workflow": WF_A, "created_at": _at(n_ % 60, n_ // 60)}
                                for n_ in range(1, n + 1)]}}))


@pytest.mark.parametrize("page,per_page", [(1, 3), (2, 3), (3, 5), (5, 3), (6, 3), (13, 1), (20, 1), (1, 100)])
def test_list_without_workflow_id_total_is_min_of_n_and_page_times_per_page(page, per_page):
    app = _solo_app(13)
    newest = [ex_id(n) for n in range(13, 0, -1)]
    with TestClient(app, base_url="http://127.0.0.1") as c:
        ids, pagination = _list(c, {"bulk": {"X-API-Key": keys_of(app)["bulk"]}}, page=page, per_page=per_page)
    offset = (page - 1) * per_page
    assert ids == newest[offset:offset + per_page]
    total = min(13, page * per_page)
    assert pagination == {"page": page, "per_page": per_page, "total_count": total,
                          "total_pages": -(-total // per_page), "has_next": False, "has_prev": page > 1}


# Live executions of all tenants, newest first, as production's unscoped query reads them:
# 28 27 26(W2) 24(system wf) 23(deleted wf) 22 21 A10 A9 A8 A7 A6 A5 O4 A4 O3 A3 O2 A2 O1 A1
@pytest.mark.parametrize("page,per_page,expected,total", [
    (1, 3, [ex_id(28), ex_id(27)], 2),                     # window 28 27 26: 26 is another workspace's
    (2, 3, [], 3),                                         # window of 6 keeps 28 27 22: nothing at [3:6]
    (3, 3, [], 6),                                         # window of 9 keeps 6 rows
    (2, 5, [A_IDS[8], A_IDS[7]], 7),                       # window of 10 keeps 28 27 22 21 A10 A9 A8
    (1, 16, WORKSPACE_ORDER[:11], 11),                     # window reaches into the interleaved W2 rows
])
def test_list_without_workflow_id_other_tenants_rows_shrink_the_window(c, h, page, per_page, expected, total):
    ids, pagination = _list(c, h, page=page, per_page=per_page)
    assert ids == expected
    assert pagination == {"page": page, "per_page": per_page, "total_count": total,
                          "total_pages": -(-total // per_page), "has_next": False, "has_prev": page > 1}


@pytest.mark.parametrize("page,per_page,expected,total", [
    (1, 100, [ex_id(21), A_IDS[6], A_IDS[0]], 3),
    (1, 3, [ex_id(21)], 1),          # completed rows of all tenants: 24 23 21 A7 A1; window 24 23 21
    (2, 2, [], 2),                   # window 24 23 21 A7 keeps 21 A7, slice [2:4] is empty
    (2, 1, [], 0),                   # window 24 23 keeps nothing
])
def test_list_status_filter_without_workflow_id_runs_before_pagination(c, h, page, per_page, expected, total):
    ids, pagination = _list(c, h, status="completed", page=page, per_page=per_page)
    assert ids == expected
    assert pagination["total_count"] == total and pagination["has_next"] is False


@pytest.mark.parametrize("params", [{"workflow_id": "", "status": ""}, {"workflow_id": ""}, {"status": ""}])
def test_list_empty_strings_count_as_absent(c, h, params):
    assert _list(c, h, per_page=100, **params)[0] == WORKSPACE_ORDER


def test_list_unknown_status_is_not_validated(c, h):
    assert _list(c, h, status="bogus") == ([], _pagination(1, 20, 0))


def test_list_items_have_exact_fields(c, h):
    r = c.get(f"{API}/executions?per_page=100", headers=h["bulk"]).json()["data"]
    rows = {e["id"]: e for e in r}
    for row in rows.values():
        assert list(row) == FIELDS
    assert rows[A_IDS[0]] == {"id": A_IDS[0], "workflow_id": WF_A, "status": "completed", "inputs": {"n": 1},
                              "outputs": {"result": "r1"}, "error": None, "started_at": _at(0, 1),
                              "completed_at": _at(0, 3), "created_at": _at(0)}
    assert rows[A_IDS[1]]["error"] == "Node llm_1 failed" and rows[A_IDS[1]]["outputs"] is None
    assert rows[ex_id(27)]["inputs"] == {} and rows[ex_id(28)]["inputs"] is None


# ---------------------------------------------------------------- list with workflow_id

def test_list_by_workflow_paginates_with_the_true_count(c, h):
    newest_a = A_IDS[::-1]
    ids, pagination = _list(c, h, workflow_id=WF_A, per_page=4, page=2)
    assert ids == newest_a[4:8]
    assert pagination == _pagination(2, 4, 10) and pagination["has_next"] is True


def test_list_by_workflow_status_filter_runs_after_pagination(c, h):
    newest_a = A_IDS[::-1]
    page_rows = newest_a[0:4]  # A10..A7: statuses of indexes 9,8,7,6
    expected = [i for i in page_rows if STATUSES[A_IDS.index(i) % 6] == "failed"]
    ids, pagination = _list(c, h, workflow_id=WF_A, status="failed", per_page=4)
    assert ids == expected == [A_IDS[7]]
    assert pagination == _pagination(1, 4, 1)  # counts this page only; total_pages <= 1
    # page 3 (A2, A1) has a failed row too, and is again counted alone
    ids, pagination = _list(c, h, workflow_id=WF_A, status="failed", per_page=4, page=3)
    assert ids == [A_IDS[1]] and pagination == {**_pagination(3, 4, 1), "has_prev": True}
    # a page without matches: empty and total_pages 0
    ids, pagination = _list(c, h, workflow_id=WF_A, status="paused", per_page=2)
    assert ids == [] and pagination == _pagination(1, 2, 0)


@pytest.mark.parametrize("workflow_id", [WF_OTHER, WF_DEL, WF_MINE_W2, UNKNOWN])
def test_list_by_workflow_outside_the_workspace_is_empty(c, h, workflow_id):
    assert _list(c, h, workflow_id=workflow_id) == ([], _pagination(1, 20, 0))


def test_list_by_workflow_includes_teammates_and_system_workflows(c, h):
    assert _list(c, h, workflow_id=WF_TEAM)[0] == [ex_id(22)]
    assert _list(c, h, workflow_id=WF_SYS)[0] == [ex_id(24)]


def test_list_by_workflow_excludes_soft_deleted_executions(c, h):
    ids, pagination = _list(c, h, workflow_id=WF_A, per_page=100)
    assert ex_id(25) not in ids and pagination["total_count"] == 10


def test_list_other_workspace_key_sees_only_its_rows(c, h):
    ids, _ = _list(c, h, key="other", per_page=100)
    assert ids == [ex_id(26)] + OTHER_IDS[::-1]


def test_list_invalid_workflow_id_is_framework_500(c, h):
    r = c.get(f"{API}/executions?workflow_id=wf_123", headers=h["bulk"])
    assert r.status_code == 500
    assert r.json() == {"statusCode": 500, "code": "22P02", "error": "Internal Server Error",
                        "message": messages.INVALID_UUID.format(value="wf_123")}


# ---------------------------------------------------------------- get

def test_get_returns_the_execution_object(c, h):
    r = c.get(f"{API}/executions/{A_IDS[1]}", headers=h["bulk"])
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == FIELDS
    assert data == {"id": A_IDS[1], "workflow_id": WF_A, "status": "failed", "inputs": {"n": 2}, "outputs": None,
                    "error": "Node llm_1 failed", "started_at": _at(1, 1), "completed_at": _at(1, 2),
                    "created_at": _at(1)}


@pytest.mark.parametrize("eid,key", [
    (UNKNOWN, "bulk"), (ex_id(22), "bulk"), (ex_id(23), "bulk"), (ex_id(25), "bulk"), (OTHER_IDS[0], "bulk"),
    (A_IDS[0], "teammate"), (A_IDS[0], "other"), (ex_id(26), "other")])
def test_get_404_rules(c, h, eid, key):
    r = c.get(f"{API}/executions/{eid}", headers=h[key])
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "resource_not_found",
                                 "message": messages.NOT_FOUND.format(resource="Execution", id=eid),
                                 "details": {"resource": "Execution", "id": eid}}


@pytest.mark.parametrize("eid,key", [(ex_id(26), "bulk"), (ex_id(24), "bulk"), (ex_id(22), "teammate")])
def test_get_follows_workflow_ownership_across_workspaces(c, h, eid, key):
    # the key user's workflow in another workspace, a system workflow, and the teammate's own
    r = c.get(f"{API}/executions/{eid}", headers=h[key])
    assert r.status_code == 200 and r.json()["data"]["id"] == eid


def test_get_non_uuid_is_framework_500(c, h):
    r = c.get(f"{API}/executions/abc", headers=h["bulk"])
    assert r.status_code == 500 and r.json()["code"] == "22P02"


# ---------------------------------------------------------------- cancel

@pytest.mark.parametrize("index", [2, 3])  # A3 pending, A4 running
def test_cancel_pending_or_running(c, h, index):
    eid = A_IDS[index]
    before = c.get(f"{API}/executions/{eid}", headers=h["bulk"]).json()["data"]
    r = c.post(f"{API}/executions/{eid}/cancel", json={"status": "completed", "reason": "x"}, headers=h["bulk"])
    assert r.status_code == 200
    assert r.json()["data"] == {"id": eid, "status": "cancelled", "message": messages.CANCELLED}
    assert list(r.json()["data"]) == ["id", "status", "message"]
    after = c.get(f"{API}/executions/{eid}", headers=h["bulk"]).json()["data"]
    assert after == {**before, "status": "cancelled"}  # completed_at stays null, nothing else changes
    assert after["completed_at"] is None
    assert eid in _list(c, h, status="cancelled", per_page=100)[0]
    assert eid not in _list(c, h, status=before["status"], per_page=100)[0]


@pytest.mark.parametrize("eid,status", [(A_IDS[4], "paused"), (A_IDS[0], "completed"), (A_IDS[1], "failed"),
                                        (A_IDS[5], "cancelled")])
def test_cancel_other_statuses_is_400(c, h, eid, status):
    r = c.post(f"{API}/executions/{eid}/cancel", headers=h["bulk"])
    assert r.status_code == 400
    assert r.json()["error"] == {"code": "validation_error",
                                 "message": f"Execution cannot be cancelled. Current status: {status}"}
    assert c.get(f"{API}/executions/{eid}", headers=h["bulk"]).json()["data"]["status"] == status


def test_cancel_twice_second_is_400_cancelled(c, h):
    eid = A_IDS[8]  # pending
    assert c.post(f"{API}/executions/{eid}/cancel", headers=h["bulk"]).status_code == 200
    r = c.post(f"{API}/executions/{eid}/cancel", headers=h["bulk"])
    assert r.status_code == 400
    assert r.json()["error"]["message"] == messages.CANNOT_CANCEL.format(status="cancelled")


@pytest.mark.parametrize("eid,key", [(UNKNOWN, "bulk"), (ex_id(22), "bulk"), (ex_id(25), "bulk"),
                                     (A_IDS[2], "teammate"), (A_IDS[2], "other")])
def test_cancel_404_before_status_check(c, h, eid, key, app):
    r = c.post(f"{API}/executions/{eid}/cancel", headers=h[key])
    assert r.status_code == 404 and r.json()["error"]["details"] == {"resource": "Execution", "id": eid}
    stored = app.state.fake.store.executions.get(eid)
    assert stored is None or stored.status != "cancelled"


def test_cancel_non_uuid_is_an_internal_error_envelope(c, h):
    r = c.post(f"{API}/executions/exec_1/cancel", headers=h["bulk"])
    assert r.status_code == 500
    assert r.json()["error"] == {"code": "internal_error", "message": messages.INVALID_UUID.format(value="exec_1")}

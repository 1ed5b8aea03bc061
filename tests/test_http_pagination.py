"""Pagination query parsing and arithmetic (CONTRACT.md §1.4, §1.6): every row of the
parsing table on a list endpoint, the clamp on every paginated endpoint, and
total_pages / has_next / has_prev, including a page past the end and total 0."""
from __future__ import annotations

import math

import pytest

from .conftest import make_app
from fakemaestro.scenario.defaults import default_scenario

_SCENARIO = default_scenario()  # built once; every test gets a fresh app from it


@pytest.fixture
def app():
    return make_app(_SCENARIO)


@pytest.fixture
def get(client, keys):
    def get(url: str):
        response = client.get(url, headers={"X-API-Key": keys["bulk"]})
        assert response.status_code == 200, (url, response.text)
        return response.json()
    return get


@pytest.fixture
def everything(get):
    """All workflows of the workspace, newest first."""
    body = get("/api/v1/workflows?per_page=100")
    assert body["pagination"]["total_count"] == len(body["data"]) >= 5
    return body["data"]


# CONTRACT.md §1.6 table, plus values that follow from its formula
# (parseInt(String(v || default), 10) || default, then clamped).
PAGE_CASES = [
    ("", 1), ("page=", 1), ("page=abc", 1), ("page=0", 1), ("page=-5", 1), ("page=2.7", 2), ("page=3abc", 3),
    ("page=1000", 1000), ("page=2&page=3", 2), ("page=3&page=2", 3), ("page=&page=5", 1), ("page=%202", 2),
    ("page=+2", 2), ("page=-0", 1), ("page=0x10", 1), ("page=1e3", 1), ("page=002", 2), ("page=%20", 1),
    ("page=2&per_page=20", 2),
]
PER_PAGE_CASES = [
    ("", 20), ("per_page=", 20), ("per_page=abc", 20), ("per_page=0", 20), ("per_page=-5", 1), ("per_page=-1", 1),
    ("per_page=2.7", 2), ("per_page=3abc", 3), ("per_page=1000", 100), ("per_page=100", 100), ("per_page=101", 100),
    ("per_page=1", 1), ("per_page=2&per_page=3", 2), ("per_page=3&per_page=2", 3), ("per_page=&per_page=5", 20),
    ("per_page=%203", 3), ("per_page=-0", 20), ("per_page=0x10", 20), ("per_page=99999999999999999999", 100),
]


@pytest.mark.parametrize("query, page", PAGE_CASES, ids=[q or "absent" for q, _ in PAGE_CASES])
def test_page_parsing(get, query, page):
    pagination = get(f"/api/v1/workflows?{query}")["pagination"]
    assert pagination["page"] == page
    assert pagination["per_page"] == 20


@pytest.mark.parametrize("query, per_page", PER_PAGE_CASES, ids=[q or "absent" for q, _ in PER_PAGE_CASES])
def test_per_page_parsing(get, everything, query, per_page):
    body = get(f"/api/v1/workflows?{query}")
    assert body["pagination"]["page"] == 1
    assert body["pagination"]["per_page"] == per_page
    assert body["data"] == everything[:per_page]


def test_both_parameters_repeated(get, everything):
    body = get("/api/v1/workflows?page=2&per_page=2&page=9&per_page=50")
    assert (body["pagination"]["page"], body["pagination"]["per_page"]) == (2, 2)
    assert body["data"] == everything[2:4]


def test_invalid_values_are_never_an_error(client, keys):
    for query in ("page=x&per_page=y", "page=-1&per_page=-1", "page[]=1", "per_page[a]=2", "page=%00"):
        response = client.get(f"/api/v1/workflows?{query}", headers={"X-API-Key": keys["bulk"]})
        assert response.status_code == 200, query


@pytest.mark.parametrize("per_page", [1, 2, 3, 4, 5, 6, 7, 20])
def test_pages_partition_the_list(get, everything, per_page):
    total = len(everything)
    pages = math.ceil(total / per_page)
    seen = []
    for page in range(1, pages + 1):
        body = get(f"/api/v1/workflows?page={page}&per_page={per_page}")
        assert body["pagination"] == {"page": page, "per_page": per_page, "total_count": total,
                                      "total_pages": pages, "has_next": page < pages, "has_prev": page > 1}
        seen += body["data"]
    assert seen == everything


def test_first_middle_last_flags(get, everything):
    assert len(everything) >= 3
    first = get("/api/v1/workflows?page=1&per_page=1")["pagination"]
    middle = get("/api/v1/workflows?page=2&per_page=1")["pagination"]
    last = get(f"/api/v1/workflows?page={len(everything)}&per_page=1")["pagination"]
    assert (first["has_prev"], first["has_next"]) == (False, True)
    assert (middle["has_prev"], middle["has_next"]) == (True, True)
    assert (last["has_prev"], last["has_next"]) == (True, False)
    assert first["total_pages"] == len(everything)


def test_single_page(get, everything):
    pagination = get("/api/v1/workflows")["pagination"]
    assert pagination == {"page": 1, "per_page": 20, "total_count": len(everything), "total_pages": 1,
                          "has_next": False, "has_prev": False}


@pytest.mark.parametrize("page", [2, 3, 1000])
def test_page_past_the_end(get, everything, page):
    body = get(f"/api/v1/workflows?page={page}")
    assert body["data"] == []
    assert body["pagination"] == {"page": page, "per_page": 20, "total_count": len(everything), "total_pages": 1,
                                  "has_next": False, "has_prev": True}


def test_page_just_past_the_end(get, everything):
    per_page = 2
    pages = math.ceil(len(everything) / per_page)
    body = get(f"/api/v1/workflows?page={pages + 1}&per_page={per_page}")
    assert body["data"] == []
    assert body["pagination"]["total_pages"] == pages
    assert (body["pagination"]["has_next"], body["pagination"]["has_prev"]) == (False, True)


def _empty_hook(app) -> str:
    store = app.state.fake.store
    workspace = store.key_by_name("bulk").workspace_id
    return next(w.id for w in store.webhooks.values()
                if w.workspace_id == workspace and w.deleted_at is None and not store.deliveries[w.id])


def test_total_zero(get, app):
    body = get(f"/api/v1/webhooks/{_empty_hook(app)}/deliveries")
    assert body["data"] == []
    assert body["pagination"] == {"page": 1, "per_page": 20, "total_count": 0, "total_pages": 0,
                                  "has_next": False, "has_prev": False}


def test_total_zero_past_the_first_page(get, app):
    body = get(f"/api/v1/webhooks/{_empty_hook(app)}/deliveries?page=3&per_page=0")
    assert body["pagination"] == {"page": 3, "per_page": 20, "total_count": 0, "total_pages": 0,
                                  "has_next": False, "has_prev": True}


def _list_urls(app) -> list[str]:
    store = app.state.fake.store
    key = store.key_by_name("bulk")
    agent = next(a.id for a in store.agents.values()
                 if a.workspace_id == key.workspace_id and store.memory_rows(a.id))
    hook = next(w.id for w in store.webhooks.values()
                if w.workspace_id == key.workspace_id and store.deliveries[w.id])
    return ["/api/v1/workflows", "/api/v1/executions", "/api/v1/agents", f"/api/v1/agents/{agent}/memory",
            "/api/v1/triggers", "/api/v1/knowledge-bases", "/api/v1/webhooks", f"/api/v1/webhooks/{hook}/deliveries"]


LISTS = ["workflows", "executions", "agents", "memory", "triggers", "knowledge-bases", "webhooks", "deliveries"]


@pytest.mark.parametrize("which", range(8), ids=LISTS)
def test_every_paginated_endpoint_uses_the_same_parser(get, app, which):
    url = _list_urls(app)[which]
    full = get(url + "?per_page=100")
    assert full["data"], "the default scenario has rows for every list"
    clamped = get(url + "?page=0&per_page=-5")
    assert (clamped["pagination"]["page"], clamped["pagination"]["per_page"]) == (1, 1)
    assert clamped["data"] == full["data"][:1]
    fallback = get(url + "?page=abc&per_page=0")
    assert (fallback["pagination"]["page"], fallback["pagination"]["per_page"]) == (1, 20)
    capped = get(url + "?page=2.9&per_page=1000&page=7")
    assert (capped["pagination"]["page"], capped["pagination"]["per_page"]) == (2, 100)
    assert capped["data"] == []
    assert capped["pagination"]["has_prev"] is True and capped["pagination"]["has_next"] is False


@pytest.mark.parametrize("which", [0, 2, 3, 4, 5, 6, 7], ids=[LISTS[i] for i in (0, 2, 3, 4, 5, 6, 7)])
def test_arithmetic_on_every_endpoint_with_a_true_count(get, app, which):
    # the executions list is excluded: its total_count is capped at page*per_page (§5.2)
    url = _list_urls(app)[which]
    total = get(url + "?per_page=100")["pagination"]["total_count"]
    for per_page in (1, 2):
        pages = math.ceil(total / per_page)
        for page in (1, pages, pages + 1):
            if page < 1:
                continue
            p = get(f"{url}?page={page}&per_page={per_page}")["pagination"]
            assert p == {"page": page, "per_page": per_page, "total_count": total, "total_pages": pages,
                         "has_next": page < pages, "has_prev": page > 1}, (url, page, per_page)


def test_thread_messages_are_not_paginated(get, app):
    store = app.state.fake.store
    thread = next(t for t in store.threads.values() if store.thread_messages(t.id))
    plain = get(f"/api/v1/threads/{thread.id}/messages")
    paged = get(f"/api/v1/threads/{thread.id}/messages?page=2&per_page=1")
    assert list(paged) == ["data", "meta"] and "pagination" not in paged
    assert paged["data"] == plain["data"] and len(plain["data"]["messages"]) > 1

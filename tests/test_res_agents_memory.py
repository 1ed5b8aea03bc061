"""Agents, thread creation and the six agent-memory routes (CONTRACT.md §5.3, §1.9)."""
from __future__ import annotations

import pytest

from fakemaestro import messages
from fakemaestro.clock import Clock, parse_instant
from fakemaestro.scenario import Scenario

from .conftest import assert_error, assert_not_found, make_app

API = "/api/v1"
NOW = "2026-05-05T05:05:05.505Z"
U1, U2, U3 = (f"a0000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
W1, W2 = (f"b0000000-0000-4000-8000-00000000000{i}" for i in (1, 2))
AG_SUPPORT, AG_WRITER, AG_DELETED, AG_TEAM, AG_OTHER = (f"e0000000-0000-4000-8000-00000000000{i}" for i in range(1, 6))
M1, M2, M3, M9 = (f"e1000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3, 9))  # end users memory is about
T1, T2, T3 = (f"f0000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
RUN1, RUN2 = "aa000000-0000-4000-8000-000000000001", "aa000000-0000-4000-8000-000000000002"
UNKNOWN = "99999999-9999-4999-8999-999999999999"
EXACT = "gamma delta epsilon zeta"  # four terms: an identical query scores exactly 1
ITEM_FIELDS = ["id", "name", "description", "model", "provider", "created_at", "updated_at"]
GET_FIELDS = ["id", "name", "description", "model", "provider", "system_prompt", "temperature", "max_tokens",
              "available_tools", "created_at", "updated_at"]
MEMORY_ITEM_FIELDS = ["user_id", "working_memory", "metadata", "created_at", "updated_at"]
MEMORY_FIELDS = ["agent_id"] + MEMORY_ITEM_FIELDS
TOOLS = [
    {"id": "71000000-0000-4000-8000-000000000001", "name": "search_docs", "description": "Searches docs",
     "type": "knowledge_base", "schema": {"type": "object"}, "config": {"knowledgeBaseId": "x"}},
    {"id": "71000000-0000-4000-8000-000000000002", "name": "create_ticket", "description": "Opens a ticket",
     "type": "workflow", "schema": {"type": "object", "properties": {}}, "config": {}, "extra": 1},
]


def _messages(run: str, start: int, stop: int, roles=("user", "assistant")) -> list[dict]:
    return [{"role": roles[n % len(roles)], "content": f"alpha {n}", "execution": run,
             "created_at": f"2026-01-03T10:{n:02d}:00Z"} for n in range(start, stop)]


def scenario() -> Scenario:
    big = {"per_minute": 10**6, "per_day": 10**8}

    def agent(id_, name, created, user=U1, workspace=W1, **extra):
        return {"id": id_, "user": user, "workspace": workspace, "name": name, "created_at": created, **extra}
    return Scenario({"seed": 9, "tenants": {
        "users": [{"id": U1}, {"id": U2}, {"id": U3}],
        "workspaces": [{"id": W1, "owner": U1}, {"id": W2, "owner": U3}],
        "api_keys": [{"name": "bulk", "user": U1, "workspace": W1, **big},
                     {"name": "teammate", "user": U2, "workspace": W1, **big},
                     {"name": "other", "user": U3, "workspace": W2, **big}]},
        "data": {
            "agents": [
                agent(AG_SUPPORT, "Support", "2026-01-01T10:00:00Z", description="Helps", model="gpt-4o",
                      provider="openai", system_prompt="Be kind.", temperature=0.7, max_tokens=4000,
                      available_tools=TOOLS, memory_config={"type": "summary", "max_messages": 5},
                      updated_at="2026-01-02T10:00:00Z"),
                agent(AG_WRITER, "Writer", "2026-01-03T10:00:00Z", model="claude-sonnet-4-5", provider="anthropic",
                      system_prompt="Write.", temperature=0.25, max_tokens=1000),
                agent(AG_DELETED, "Gone", "2026-01-04T10:00:00Z", deleted_at="2026-01-05T00:00:00Z"),
                agent(AG_TEAM, "Teammate's", "2026-01-05T10:00:00Z", user=U2),
                agent(AG_OTHER, "Other", "2026-01-06T10:00:00Z", user=U3, workspace=W2),
            ],
            "threads": [
                {"id": T1, "user": M1, "workspace": W1, "agent": AG_SUPPORT, "created_at": "2026-01-03T10:00:00Z",
                 "runs": [{"id": RUN1}],
                 "messages": _messages(RUN1, 0, 30) + [
                     {"role": "assistant", "content": EXACT, "execution": RUN1, "created_at": "2026-01-03T10:59:00Z"},
                     {"role": "system", "content": "alpha system", "created_at": "2026-01-03T11:00:00Z"},
                     {"role": "tool", "content": "alpha tool", "created_at": "2026-01-03T11:01:00Z"}]},
                {"id": T2, "user": M2, "workspace": W1, "agent": AG_SUPPORT, "created_at": "2026-01-03T10:00:00Z",
                 "runs": [{"id": RUN2}], "messages": _messages(RUN2, 30, 60, roles=("user",))},
                {"id": T3, "user": U1, "workspace": W1, "agent": AG_WRITER, "created_at": "2026-01-03T10:00:00Z",
                 "messages": [{"role": "user", "content": "alpha beta", "created_at": "2026-01-03T10:00:00Z"}]},
            ],
            "working_memory": [
                {"agent": AG_SUPPORT, "user": M1, "working_memory": "Prefers short answers.",
                 "metadata": {"source": "seed"}, "created_at": "2026-01-10T10:00:00Z"},
                {"agent": AG_SUPPORT, "user": M2, "working_memory": "Timezone UTC.",
                 "created_at": "2026-01-10T11:00:00Z", "updated_at": "2026-01-11T11:00:00Z"},
                {"agent": AG_SUPPORT, "user": M1, "thread": T1, "working_memory": "Thread-scoped note.",
                 "metadata": {"thread": True}, "created_at": "2026-01-10T12:00:00Z"},
                {"agent": AG_SUPPORT, "user": M3, "thread": T1, "working_memory": "Only thread-scoped.",
                 "created_at": "2026-01-09T12:00:00Z"},
            ],
        }})


@pytest.fixture
def app():
    return make_app(scenario(), clock=Clock(frozen_at_ms=parse_instant(NOW)))


def _agent_404(response, id_):
    assert_not_found(response, "Agent", id_)


def _memory_404(response, agent_id, user_id):
    assert_not_found(response, "Working memory", f"{agent_id}/{user_id}")


# ---------------------------------------------------------------- agents

def test_list_agents_workspace_scoped_newest_first(c, h):
    r = c.get(f"{API}/agents", headers=h["bulk"])
    assert r.status_code == 200
    body = r.json()
    assert [a["id"] for a in body["data"]] == [AG_TEAM, AG_WRITER, AG_SUPPORT]  # teammate's agent included
    assert body["pagination"] == {"page": 1, "per_page": 20, "total_count": 3, "total_pages": 1,
                                  "has_next": False, "has_prev": False}
    for item in body["data"]:
        assert list(item) == ITEM_FIELDS
    assert body["data"][2] == {"id": AG_SUPPORT, "name": "Support", "description": "Helps", "model": "gpt-4o",
                               "provider": "openai", "created_at": "2026-01-01T10:00:00.000Z",
                               "updated_at": "2026-01-02T10:00:00.000Z"}
    assert body["data"][1]["description"] is None


def test_list_agents_paginates(c, h):
    body = c.get(f"{API}/agents?per_page=2&page=2", headers=h["bulk"]).json()
    assert [a["id"] for a in body["data"]] == [AG_SUPPORT]
    assert body["pagination"] == {"page": 2, "per_page": 2, "total_count": 3, "total_pages": 2,
                                  "has_next": False, "has_prev": True}


def test_list_agents_other_workspace(c, h):
    assert [a["id"] for a in c.get(f"{API}/agents", headers=h["other"]).json()["data"]] == [AG_OTHER]


def test_get_agent_fields_and_reduced_tools(c, h):
    r = c.get(f"{API}/agents/{AG_SUPPORT}", headers=h["bulk"])
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == GET_FIELDS
    assert data["system_prompt"] == "Be kind." and data["temperature"] == 0.7 and data["max_tokens"] == 4000
    assert data["available_tools"] == [{k: t[k] for k in ("id", "name", "description", "type")} for t in TOOLS]
    for tool in data["available_tools"]:
        assert list(tool) == ["id", "name", "description", "type"]


def test_get_agent_without_tools_and_fractional_temperature(c, h):
    data = c.get(f"{API}/agents/{AG_WRITER}", headers=h["bulk"]).json()["data"]
    assert data["available_tools"] == [] and data["temperature"] == 0.25 and data["max_tokens"] == 1000
    assert data["provider"] == "anthropic" and data["description"] is None


def test_get_teammates_agent_is_visible_workspace_wide(c, h):
    assert c.get(f"{API}/agents/{AG_TEAM}", headers=h["bulk"]).status_code == 200


@pytest.mark.parametrize("agent_id", [UNKNOWN, AG_DELETED, AG_OTHER])
def test_get_agent_404(c, h, agent_id):
    _agent_404(c.get(f"{API}/agents/{agent_id}", headers=h["bulk"]), agent_id)


def test_get_agent_non_uuid_is_framework_500(c, h):
    r = c.get(f"{API}/agents/agent_1", headers=h["bulk"])
    assert r.status_code == 500 and r.json()["code"] == "22P02"


# ---------------------------------------------------------------- create thread

def test_create_thread_201_ignores_the_body(c, h, app):
    r = c.post(f"{API}/agents/{AG_WRITER}/threads", json={"metadata": {"a": 1}, "title": "T", "status": "archived"},
               headers=h["bulk"])
    assert r.status_code == 201
    data = r.json()["data"]
    assert list(data) == ["id", "agent_id", "status", "created_at"]
    assert data["agent_id"] == AG_WRITER and data["status"] == "active" and data["created_at"] == NOW
    thread = c.get(f"{API}/threads/{data['id']}", headers=h["bulk"]).json()["data"]
    assert thread == {"id": data["id"], "agent_id": AG_WRITER, "title": None, "status": "active",
                      "created_at": NOW, "updated_at": NOW, "last_message_at": None}
    stored = app.state.fake.store.threads[data["id"]]
    assert (stored.user_id, stored.workspace_id, stored.metadata) == (U1, W1, {})
    assert c.get(f"{API}/threads/{data['id']}/messages", headers=h["bulk"]).json()["data"] == {"messages": []}


def test_create_thread_twice_gives_two_threads(c, h):
    a = c.post(f"{API}/agents/{AG_SUPPORT}/threads", headers=h["bulk"]).json()["data"]["id"]
    b = c.post(f"{API}/agents/{AG_SUPPORT}/threads", headers=h["bulk"]).json()["data"]["id"]
    assert a != b


def test_create_thread_for_teammates_agent_belongs_to_key_user(c, h, app):
    r = c.post(f"{API}/agents/{AG_TEAM}/threads", headers=h["bulk"])
    assert r.status_code == 201
    assert app.state.fake.store.threads[r.json()["data"]["id"]].user_id == U1


@pytest.mark.parametrize("agent_id", [UNKNOWN, AG_DELETED, AG_OTHER])
def test_create_thread_404_creates_nothing(c, h, app, agent_id):
    before = len(app.state.fake.store.threads)
    _agent_404(c.post(f"{API}/agents/{agent_id}/threads", json={}, headers=h["bulk"]), agent_id)
    assert len(app.state.fake.store.threads) == before


# ---------------------------------------------------------------- memory list / get

def test_memory_list_all_rows_updated_desc_with_total(c, h):
    r = c.get(f"{API}/agents/{AG_SUPPORT}/memory", headers=h["bulk"])
    assert r.status_code == 200
    body = r.json()
    rows = body["data"]
    # global and thread-scoped rows alike, so M1 appears twice
    assert [(m["user_id"], m["working_memory"]) for m in rows] == [
        (M2, "Timezone UTC."), (M1, "Thread-scoped note."), (M1, "Prefers short answers."),
        (M3, "Only thread-scoped.")]
    for row in rows:
        assert list(row) == MEMORY_ITEM_FIELDS
    assert rows[0] == {"user_id": M2, "working_memory": "Timezone UTC.", "metadata": {},
                       "created_at": "2026-01-10T11:00:00.000Z", "updated_at": "2026-01-11T11:00:00.000Z"}
    assert body["pagination"]["total_count"] == 4


def test_memory_list_paginates_in_memory(c, h):
    body = c.get(f"{API}/agents/{AG_SUPPORT}/memory?per_page=3&page=2", headers=h["bulk"]).json()
    assert [m["working_memory"] for m in body["data"]] == ["Only thread-scoped."]
    assert body["pagination"] == {"page": 2, "per_page": 3, "total_count": 4, "total_pages": 2,
                                  "has_next": False, "has_prev": True}


def test_memory_list_empty_agent(c, h):
    body = c.get(f"{API}/agents/{AG_WRITER}/memory", headers=h["bulk"]).json()
    assert body["data"] == [] and body["pagination"]["total_count"] == 0 and body["pagination"]["total_pages"] == 0


@pytest.mark.parametrize("route", ["memory", "memory/stats", f"memory/{M1}"])
@pytest.mark.parametrize("agent_id", [UNKNOWN, AG_OTHER, AG_DELETED])
def test_memory_reads_404_agent(c, h, route, agent_id):
    _agent_404(c.get(f"{API}/agents/{agent_id}/{route}", headers=h["bulk"]), agent_id)


def test_memory_get_returns_the_global_row(c, h):
    r = c.get(f"{API}/agents/{AG_SUPPORT}/memory/{M1}", headers=h["bulk"])
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == MEMORY_FIELDS
    assert data == {"agent_id": AG_SUPPORT, "user_id": M1, "working_memory": "Prefers short answers.",
                    "metadata": {"source": "seed"}, "created_at": "2026-01-10T10:00:00.000Z",
                    "updated_at": "2026-01-10T10:00:00.000Z"}


@pytest.mark.parametrize("user_id", [M3, M9])  # M3 has only a thread-scoped row
def test_memory_get_404_working_memory(c, h, user_id):
    _memory_404(c.get(f"{API}/agents/{AG_SUPPORT}/memory/{user_id}", headers=h["bulk"]), AG_SUPPORT, user_id)


def test_memory_get_non_uuid_user_is_framework_500(c, h):
    r = c.get(f"{API}/agents/{AG_SUPPORT}/memory/end-user-42", headers=h["bulk"])
    assert r.status_code == 500
    assert r.json() == {"statusCode": 500, "code": "22P02", "error": "Internal Server Error",
                        "message": messages.INVALID_UUID.format(value="end-user-42")}


def test_memory_stats(c, h):
    r = c.get(f"{API}/agents/{AG_SUPPORT}/memory/stats", headers=h["bulk"])
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == ["agent_id", "working_memory_count", "embedding_count", "memory_config"]
    # 31 + 30 user/assistant messages of the agent's threads; system and tool messages are not embedded
    assert data == {"agent_id": AG_SUPPORT, "working_memory_count": 4, "embedding_count": 61,
                    "memory_config": {"type": "summary", "max_messages": 5}}
    writer = c.get(f"{API}/agents/{AG_WRITER}/memory/stats", headers=h["bulk"]).json()["data"]
    assert writer == {"agent_id": AG_WRITER, "working_memory_count": 0, "embedding_count": 1,
                      "memory_config": {"type": "buffer", "max_messages": 20}}


# ---------------------------------------------------------------- memory put / delete

@pytest.mark.parametrize("body", [None, {}, {"working_memory": ""}, {"working_memory": " \n\t "},
                                  {"working_memory": 5}, {"working_memory": ["x"]}, {"metadata": {"a": 1}}],
                         ids=repr)
@pytest.mark.parametrize("agent_id", [AG_SUPPORT, UNKNOWN])
def test_memory_put_validates_before_the_agent_lookup(c, h, app, body, agent_id):
    kwargs = {} if body is None else {"json": body}
    r = c.put(f"{API}/agents/{agent_id}/memory/{M1}", headers=h["bulk"], **kwargs)
    assert_error(r, 400, "validation_error", messages.WORKING_MEMORY_REQUIRED)
    assert app.state.fake.store.global_memory(AG_SUPPORT, M1).working_memory == "Prefers short answers."


def test_memory_put_validation_comes_before_the_user_uuid_error(c, h):
    r = c.put(f"{API}/agents/{AG_SUPPORT}/memory/end-user-42", json={}, headers=h["bulk"])
    assert_error(r, 400, "validation_error", messages.WORKING_MEMORY_REQUIRED)
    r = c.put(f"{API}/agents/{AG_SUPPORT}/memory/end-user-42", json={"working_memory": "x"}, headers=h["bulk"])
    assert r.status_code == 500 and r.json()["code"] == "22P02"


@pytest.mark.parametrize("agent_id", [UNKNOWN, AG_OTHER])
def test_memory_put_404_agent_after_validation(c, h, agent_id):
    _agent_404(c.put(f"{API}/agents/{agent_id}/memory/{M1}", json={"working_memory": "x"}, headers=h["bulk"]),
               agent_id)


def test_memory_put_new_row_is_200_trimmed_with_empty_metadata(c, h):
    r = c.put(f"{API}/agents/{AG_WRITER}/memory/{M9}", json={"working_memory": "  \n Likes tea.\t "},
              headers=h["bulk"])
    assert r.status_code == 200  # not 201, even when created
    data = r.json()["data"]
    assert list(data) == MEMORY_FIELDS
    assert data == {"agent_id": AG_WRITER, "user_id": M9, "working_memory": "Likes tea.", "metadata": {},
                    "created_at": NOW, "updated_at": NOW}
    assert c.get(f"{API}/agents/{AG_WRITER}/memory/{M9}", headers=h["bulk"]).json()["data"] == data


def test_memory_put_existing_replaces_metadata_and_keeps_created_at(c, h):
    url = f"{API}/agents/{AG_SUPPORT}/memory/{M1}"
    r = c.put(url, json={"working_memory": "New text", "metadata": {"b": 2}}, headers=h["bulk"])
    assert r.status_code == 200
    assert r.json()["data"] == {"agent_id": AG_SUPPORT, "user_id": M1, "working_memory": "New text",
                                "metadata": {"b": 2}, "created_at": "2026-01-10T10:00:00.000Z", "updated_at": NOW}
    # omitting metadata erases it: replaced by {}, never merged
    erased = c.put(url, json={"working_memory": "Newer"}, headers=h["bulk"]).json()["data"]
    assert erased["metadata"] == {} and erased["working_memory"] == "Newer"
    listed = c.get(f"{API}/agents/{AG_SUPPORT}/memory", headers=h["bulk"]).json()
    assert listed["pagination"]["total_count"] == 4  # upserted, not duplicated
    assert listed["data"][0]["working_memory"] == "Newer"  # most recently updated first
    # the thread-scoped row of the same user is untouched
    assert "Thread-scoped note." in [m["working_memory"] for m in listed["data"]]


def test_memory_put_for_user_with_only_thread_row_creates_a_global_row(c, h):
    r = c.put(f"{API}/agents/{AG_SUPPORT}/memory/{M3}", json={"working_memory": "global now"}, headers=h["bulk"])
    assert r.status_code == 200 and r.json()["data"]["created_at"] == NOW
    assert c.get(f"{API}/agents/{AG_SUPPORT}/memory", headers=h["bulk"]).json()["pagination"]["total_count"] == 5


def test_memory_delete_then_again_404(c, h):
    url = f"{API}/agents/{AG_SUPPORT}/memory/{M2}"
    r = c.delete(url, headers=h["bulk"])
    assert r.status_code == 200
    assert r.json()["data"] == {"agent_id": AG_SUPPORT, "user_id": M2, "deleted": True}
    assert list(r.json()["data"]) == ["agent_id", "user_id", "deleted"]
    _memory_404(c.get(url, headers=h["bulk"]), AG_SUPPORT, M2)
    _memory_404(c.delete(url, headers=h["bulk"]), AG_SUPPORT, M2)


def test_memory_delete_only_the_global_row(c, h):
    assert c.delete(f"{API}/agents/{AG_SUPPORT}/memory/{M1}", headers=h["bulk"]).status_code == 200
    rows = c.get(f"{API}/agents/{AG_SUPPORT}/memory", headers=h["bulk"]).json()["data"]
    assert [(m["user_id"], m["working_memory"]) for m in rows if m["user_id"] == M1] == [(M1, "Thread-scoped note.")]
    _memory_404(c.delete(f"{API}/agents/{AG_SUPPORT}/memory/{M3}", headers=h["bulk"]), AG_SUPPORT, M3)


@pytest.mark.parametrize("agent_id", [UNKNOWN, AG_OTHER])
def test_memory_delete_404_agent(c, h, agent_id):
    _agent_404(c.delete(f"{API}/agents/{agent_id}/memory/{M1}", headers=h["bulk"]), agent_id)


# ---------------------------------------------------------------- memory search

def _search(c, h, agent_id=AG_SUPPORT, **body):
    return c.post(f"{API}/agents/{agent_id}/memory/search", json=body, headers=h["bulk"])


@pytest.mark.parametrize("body", [{}, {"query": ""}, {"query": "   "}, {"query": 3}, {"query": None},
                                  {"query": ["alpha"]}, {"top_k": 5}], ids=repr)
@pytest.mark.parametrize("agent_id", [AG_SUPPORT, UNKNOWN])
def test_memory_search_validates_query_before_agent_lookup(c, h, body, agent_id):
    assert_error(_search(c, h, agent_id, **body), 400, "validation_error", messages.MEMORY_QUERY_REQUIRED)


@pytest.mark.parametrize("agent_id", [UNKNOWN, AG_OTHER])
def test_memory_search_404_agent(c, h, agent_id):
    _agent_404(_search(c, h, agent_id, query="alpha"), agent_id)


def test_memory_search_shape_trimmed_query_and_default_threshold(c, h):
    r = _search(c, h, query="  alpha 1 \n")
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == ["agent_id", "query", "results", "result_count"]
    assert data["agent_id"] == AG_SUPPORT and data["query"] == "alpha 1"
    # default threshold 0.7: only the identical message qualifies ("alpha N" scores 0.5)
    assert data["result_count"] == 1 == len(data["results"])
    result = data["results"][0]
    assert list(result) == ["content", "role", "similarity", "execution_id", "context_before", "context_after"]
    assert result["content"] == "alpha 1" and result["role"] == "assistant" and result["execution_id"] == RUN1
    assert result["similarity"] == pytest.approx(1)


@pytest.mark.parametrize("threshold,count", [(0, 1), (None, 1), (0.6, 1), (0.4, 10), (-1, 10)])
def test_memory_search_threshold_defaults_and_clamps(c, h, threshold, count):
    # 0 and null mean 0.7; below 0 clamps to 0 (everything, then top_k 10); "alpha N" scores 0.5
    data = _search(c, h, query="alpha 1", similarity_threshold=threshold).json()["data"]
    assert data["result_count"] == count
    assert data["results"][0]["content"] == "alpha 1"
    sims = [x["similarity"] for x in data["results"]]
    assert sims == sorted(sims, reverse=True) and all(0 <= s <= 1 for s in sims)


@pytest.mark.parametrize("threshold", [1, 2, 100])
def test_memory_search_threshold_above_one_clamps_to_one(c, h, threshold):
    data = _search(c, h, query=EXACT, similarity_threshold=threshold).json()["data"]
    assert [x["content"] for x in data["results"]] == [EXACT]
    assert data["results"][0]["similarity"] == 1


@pytest.mark.parametrize("top_k,count", [(None, 10), (0, 10), (7, 7), (-3, 1), (100, 50), (50, 50), (1, 1)])
def test_memory_search_top_k_defaults_and_clamps(c, h, top_k, count):
    body = {"query": "alpha", "similarity_threshold": -1}
    if top_k is not None:
        body["top_k"] = top_k
    data = _search(c, h, **body).json()["data"]
    assert data["result_count"] == count == len(data["results"])


def test_memory_search_excludes_system_and_tool_messages_and_other_agents(c, h):
    data = _search(c, h, query="alpha system tool beta", similarity_threshold=-1, top_k=50).json()["data"]
    contents = {x["content"] for x in data["results"]}
    assert data["result_count"] == 50
    assert not contents & {"alpha system", "alpha tool", "alpha beta"}


def test_memory_search_filters_by_user_id(c, h):
    data = _search(c, h, query="alpha", similarity_threshold=-1, top_k=50, user_id=M2).json()["data"]
    assert {x["content"] for x in data["results"]} == {f"alpha {n}" for n in range(30, 60)}
    assert {x["execution_id"] for x in data["results"]} == {RUN2}


def test_memory_search_bad_user_id_is_internal_error_after_agent_lookup(c, h):
    r = _search(c, h, query="alpha", user_id="end-user")
    assert_error(r, 500, "internal_error", messages.INVALID_UUID.format(value="end-user"))
    _agent_404(_search(c, h, UNKNOWN, query="alpha", user_id="end-user"), UNKNOWN)


def test_memory_routes_are_workspace_scoped_for_other_key(c, h):
    r = c.get(f"{API}/agents/{AG_SUPPORT}/memory", headers=h["other"])
    _agent_404(r, AG_SUPPORT)
    assert c.get(f"{API}/agents/{AG_SUPPORT}/memory", headers=h["teammate"]).status_code == 200

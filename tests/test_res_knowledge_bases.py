"""Knowledge bases (CONTRACT.md §5.6, §1.9): filtered by the key's user, chunk_count
inflated by the documents join, and query's validation order and top_k edge cases."""
from __future__ import annotations

import pytest

from fakemaestro import messages
from fakemaestro.clock import Clock, parse_instant
from fakemaestro.scenario import Scenario

from .conftest import assert_error, assert_not_found, make_app

API = "/api/v1"
U1, U2, U3 = (f"a0000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))
W1, W2 = (f"b0000000-0000-4000-8000-00000000000{i}" for i in (1, 2))
KB = {n: f"20000000-0000-4000-8000-00000000000{i}" for i, n in
      enumerate(["main", "empty", "one_doc", "mine_w2", "team", "other"], 1)}
DOCS = [f"21000000-0000-4000-8000-00000000000{i}" for i in (1, 2, 3, 4)]
UNKNOWN = "99999999-9999-4999-8999-999999999999"
EXACT = "quantum entanglement photon laser"  # four terms: the identical query scores exactly 1
ITEM_FIELDS = ["id", "name", "description", "document_count", "chunk_count", "created_at", "updated_at"]
GET_FIELDS = ["id", "name", "description", "embedding_model", "chunk_size", "chunk_overlap", "document_count",
              "chunk_count", "created_at", "updated_at"]
RESULT_FIELDS = ["id", "content", "document_id", "document_name", "score", "metadata"]


def _chunks(doc: int, count: int) -> list[dict]:
    return [{"id": f"22000000-0000-4000-8000-0000000{doc:02d}{i:03d}", "content": f"alpha notes {doc} part {i}",
             "metadata": {"page": i} if i % 2 else None} for i in range(count)]


def scenario() -> Scenario:
    big = {"per_minute": 10**6, "per_day": 10**8}

    def kb(name, created, user=U1, workspace=W1, **extra):
        return {"id": KB[name], "user": user, "workspace": workspace, "name": f"KB {name}",
                "created_at": created, **extra}
    main_docs = [  # 3 documents, 10 + 10 + 5 chunks
        {"id": DOCS[0], "name": "guide.md", "chunks": _chunks(1, 9) + [{"id": "22000000-0000-4000-8000-000000000999",
                                                                         "content": EXACT, "metadata": {"s": 1}}]},
        {"id": DOCS[1], "name": "faq.md", "chunks": _chunks(2, 9) + [
            {"id": "22000000-0000-4000-8000-000000000998", "content": "quantum entanglement basics"}]},
        {"id": DOCS[2], "name": "notes.txt", "chunks": _chunks(3, 4) + [
            {"id": "22000000-0000-4000-8000-000000000997", "content": "quantum of solace"}]},
    ]
    return Scenario({"seed": 12, "tenants": {
        "users": [{"id": U1}, {"id": U2}, {"id": U3}],
        "workspaces": [{"id": W1, "owner": U1}, {"id": W2, "owner": U3}],
        "api_keys": [{"name": "bulk", "user": U1, "workspace": W1, **big},
                     {"name": "teammate", "user": U2, "workspace": W1, **big},
                     {"name": "other", "user": U3, "workspace": W2, **big}]},
        "data": {"knowledge_bases": [
            kb("main", "2026-01-01T00:00:00Z", description="Product docs", documents=main_docs,
               updated_at="2026-01-02T00:00:00Z"),
            kb("empty", "2026-01-02T00:00:00Z"),
            kb("one_doc", "2026-01-03T00:00:00Z", documents=[{"id": DOCS[3], "name": "one.md",
                                                              "chunks": _chunks(4, 3)}],
               config={"embeddingModel": "text-embedding-3-large", "chunkSize": 500, "chunkOverlap": 50}),
            kb("mine_w2", "2026-01-04T00:00:00Z", workspace=W2),
            kb("team", "2026-01-05T00:00:00Z", user=U2),
            kb("other", "2026-01-06T00:00:00Z", user=U3, workspace=W2),
        ]}})


@pytest.fixture
def app():
    return make_app(scenario(), clock=Clock(frozen_at_ms=parse_instant("2026-08-01T00:00:00Z")))


def _kb_404(response, id_):
    assert_not_found(response, "Knowledge Base", id_)


def _query(c, h, name="main", body=None, key="bulk"):
    kwargs = {} if body is None else {"json": body}
    return c.post(f"{API}/knowledge-bases/{KB.get(name, name)}/query", headers=h[key], **kwargs)


# ---------------------------------------------------------------- list / get

def test_list_is_filtered_by_the_keys_user_across_workspaces(c, h):
    r = c.get(f"{API}/knowledge-bases", headers=h["bulk"])
    assert r.status_code == 200
    body = r.json()
    # U1's KB in workspace 2 is listed; the teammate's KB in the key's own workspace is not
    assert [k["id"] for k in body["data"]] == [KB["mine_w2"], KB["one_doc"], KB["empty"], KB["main"]]
    assert body["pagination"] == {"page": 1, "per_page": 20, "total_count": 4, "total_pages": 1,
                                  "has_next": False, "has_prev": False}
    for item in body["data"]:
        assert list(item) == ITEM_FIELDS


def test_list_for_teammate_and_other_users(c, h):
    assert [k["id"] for k in c.get(f"{API}/knowledge-bases", headers=h["teammate"]).json()["data"]] == [KB["team"]]
    assert [k["id"] for k in c.get(f"{API}/knowledge-bases", headers=h["other"]).json()["data"]] == [KB["other"]]


def test_list_paginates(c, h):
    body = c.get(f"{API}/knowledge-bases?per_page=3&page=2", headers=h["bulk"]).json()
    assert [k["id"] for k in body["data"]] == [KB["main"]]
    assert body["pagination"]["total_pages"] == 2 and body["pagination"]["has_prev"] is True


def test_chunk_count_is_inflated_by_the_document_join(c, h):
    items = {k["id"]: k for k in c.get(f"{API}/knowledge-bases", headers=h["bulk"]).json()["data"]}
    # 3 documents with 25 chunks in all: COUNT(kc.id) over documents x chunks = 75
    assert items[KB["main"]] == {"id": KB["main"], "name": "KB main", "description": "Product docs",
                                 "document_count": 3, "chunk_count": 75, "created_at": "2026-01-01T00:00:00.000Z",
                                 "updated_at": "2026-01-02T00:00:00.000Z"}
    assert (items[KB["one_doc"]]["document_count"], items[KB["one_doc"]]["chunk_count"]) == (1, 3)
    assert (items[KB["empty"]]["document_count"], items[KB["empty"]]["chunk_count"]) == (0, 0)
    assert items[KB["empty"]]["description"] is None


def test_get_fields_with_default_config(c, h):
    r = c.get(f"{API}/knowledge-bases/{KB['main']}", headers=h["bulk"])
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == GET_FIELDS
    assert data == {"id": KB["main"], "name": "KB main", "description": "Product docs",
                    "embedding_model": "text-embedding-3-small", "chunk_size": 1000, "chunk_overlap": 200,
                    "document_count": 3, "chunk_count": 75, "created_at": "2026-01-01T00:00:00.000Z",
                    "updated_at": "2026-01-02T00:00:00.000Z"}


def test_get_custom_config(c, h):
    data = c.get(f"{API}/knowledge-bases/{KB['one_doc']}", headers=h["bulk"]).json()["data"]
    assert (data["embedding_model"], data["chunk_size"], data["chunk_overlap"]) == ("text-embedding-3-large", 500, 50)


def test_get_own_kb_in_another_workspace(c, h):
    assert c.get(f"{API}/knowledge-bases/{KB['mine_w2']}", headers=h["bulk"]).status_code == 200


@pytest.mark.parametrize("kb_id", [UNKNOWN, KB["team"], KB["other"]])
def test_get_404(c, h, kb_id):
    _kb_404(c.get(f"{API}/knowledge-bases/{kb_id}", headers=h["bulk"]), kb_id)


def test_get_non_uuid_is_framework_500(c, h):
    r = c.get(f"{API}/knowledge-bases/kb_1", headers=h["bulk"])
    assert r.status_code == 500 and r.json()["code"] == "22P02"


# ---------------------------------------------------------------- query validation

@pytest.mark.parametrize("body", [None, {}, {"query": ""}, {"query": None}, {"query": 5}, {"query": ["a"]},
                                  {"query": {"q": 1}}, {"top_k": 3}], ids=repr)
@pytest.mark.parametrize("name", ["main", UNKNOWN, "kb_1", "team"])
def test_query_required_before_lookup(c, h, body, name):
    assert_error(_query(c, h, name, body), 400, "validation_error", messages.QUERY_REQUIRED)


@pytest.mark.parametrize("name", [UNKNOWN, "team", "other"])
def test_query_404_after_validation(c, h, name):
    _kb_404(_query(c, h, name, {"query": "alpha"}), KB.get(name, name))


def test_query_non_uuid_with_query_is_framework_500(c, h):
    r = _query(c, h, "kb_1", {"query": "alpha"})
    assert r.status_code == 500 and r.json()["code"] == "22P02"


# ---------------------------------------------------------------- query results

def test_query_shape_best_first_and_query_not_trimmed(c, h):
    r = _query(c, h, body={"query": f"  {EXACT}  ", "top_k": 20})
    assert r.status_code == 200
    data = r.json()["data"]
    assert list(data) == ["results", "query", "top_k"]
    assert data["query"] == f"  {EXACT}  " and data["top_k"] == 20
    results = data["results"]
    for result in results:
        assert list(result) == RESULT_FIELDS
        assert 0 <= result["score"] <= 1
    assert results[0] == {"id": "22000000-0000-4000-8000-000000000999", "content": EXACT, "document_id": DOCS[0],
                          "document_name": "guide.md", "score": 1, "metadata": {"s": 1}}
    # partial matches follow, in descending score
    assert [r_["content"] for r_ in results[1:3]] == ["quantum entanglement basics", "quantum of solace"]
    scores = [r_["score"] for r_ in results]
    assert scores == sorted(scores, reverse=True) and 0 < scores[1] < 1


def test_query_metadata_is_object_or_null(c, h):
    results = _query(c, h, body={"query": "alpha notes", "top_k": 20}).json()["data"]["results"]
    assert {type(r_["metadata"]) for r_ in results} == {dict, type(None)}
    assert {r_["document_name"] for r_ in results} <= {"guide.md", "faq.md", "notes.txt"}


@pytest.mark.parametrize("top_k,effective", [
    ("absent", 5), (None, 0), ("10", 10), (True, 1), (25, 20), (20, 20), (3, 3), (0, 0), ("0", 0)], ids=repr)
def test_query_top_k_edge_cases(c, h, top_k, effective):
    body = {"query": "alpha notes"}
    if top_k != "absent":
        body["top_k"] = top_k
    r = _query(c, h, body=body)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["top_k"] == effective and len(data["results"]) == effective


@pytest.mark.parametrize("top_k,message", [({}, None), (-1, "LIMIT must not be negative"), (2.5, None),
                                           ("abc", None), ([1, 2], None)], ids=repr)
def test_query_top_k_that_breaks_the_sql_is_internal_error(c, h, top_k, message):
    err = assert_error(_query(c, h, body={"query": "alpha", "top_k": top_k}), 500, "internal_error", message)
    assert err["message"] and "details" not in err


def test_query_empty_kb(c, h):
    data = _query(c, h, "empty", {"query": "alpha"}).json()["data"]
    assert data == {"results": [], "query": "alpha", "top_k": 5}


def test_query_own_kb_in_another_workspace(c, h):
    assert _query(c, h, "mine_w2", {"query": "alpha"}).status_code == 200

"""Ranking (sim/relevance.py) and knowledge-base query (CONTRACT.md §5.6): BM25 scores
in [0, 1], best first with a fixed order for ties; documents from `data` and from
`behaviours.knowledge_bases`; the quirks kb_chunk_count_inflated and kb_top_k_coercion
in both states; memory search's pairwise similarity (§5.3)."""
from __future__ import annotations

import subprocess
import sys

import pytest
from flowmaestro import FlowMaestroClient
from flowmaestro.errors import ServerError
from starlette.testclient import TestClient

from fakemaestro import messages
from fakemaestro.clock import Clock, parse_instant
from fakemaestro.messages import TOP_K_INVALID
from fakemaestro.scenario import Scenario
from fakemaestro.sim.relevance import rank, similarity
from fakemaestro.testing import serve_in_thread

from .conftest import keys_of, make_app

API = "/api/v1"
U1, W1 = "a0000000-0000-4000-8000-000000000001", "b0000000-0000-4000-8000-000000000001"
KB, UNKNOWN_KB = "20000000-0000-4000-8000-000000000001", "99999999-9999-4999-8999-999999999999"
AGENT, THREAD = "e0000000-0000-4000-8000-000000000001", "f0000000-0000-4000-8000-000000000001"
BILLING = ["How to request a refund for an order", "Refund policy for annual plans",
           "Refund timing for card payments", "Disputing a chargeback with your bank",
           "Shipping times for international orders"]
FAQ = ["Identical chunk text", "Identical chunk text", "Opening hours are nine to five"]
CHUNKS = BILLING + FAQ


def chunk_id(n: int) -> str:
    return f"22000000-0000-4000-8000-{n:012d}"


def scenario(**extra) -> Scenario:
    def chunks(texts, first):
        return [{"id": chunk_id(first + i), "content": t, "metadata": {"n": first + i}} for i, t in enumerate(texts)]
    return Scenario({"seed": 5, "tenants": {
        "users": [{"id": U1}], "workspaces": [{"id": W1, "owner": U1}],
        "api_keys": [{"name": "ci", "user": U1, "workspace": W1, "per_minute": 10**6, "per_day": 10**8}]},
        "data": {
            "knowledge_bases": [{"id": KB, "user": U1, "workspace": W1, "name": "Support handbook",
                                 "documents": [{"id": "21000000-0000-4000-8000-000000000001", "name": "billing.md",
                                                "chunks": chunks(BILLING, 1)}]}],
            "agents": [{"id": AGENT, "user": U1, "workspace": W1, "name": "Support"}],
            "threads": [{"id": THREAD, "user": U1, "workspace": W1, "agent": AGENT,
                         "messages": [{"role": "user", "content": "alpha beta gamma"}]}]},
        "behaviours": {"knowledge_bases": {KB: {"documents": [
            {"id": "21000000-0000-4000-8000-000000000002", "name": "faq.md",
             "chunks": chunks(FAQ, len(BILLING) + 1)}]}}},
        **extra})


def new_app(**kwargs):
    return make_app(scenario(), clock=Clock(frozen_at_ms=parse_instant("2026-04-01T00:00:00Z")), **kwargs)


def client_for(app) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    client.headers["X-API-Key"] = keys_of(app)["ci"]
    return client


@pytest.fixture
def c():
    with client_for(new_app()) as client:
        yield client


@pytest.fixture
def intended():
    with client_for(new_app(profile="intended")) as client:
        yield client


def query(c, body, kb=KB):
    return c.post(f"{API}/knowledge-bases/{kb}/query", json=body)


# ---------------------------------------------------------------- the relevance model

def test_identical_scores_one_disjoint_zero_and_all_within_bounds():
    scores = rank("refund for an order", CHUNKS + ["refund for an order"])
    assert scores[-1] == 1.0
    assert scores[CHUNKS.index("Opening hours are nine to five")] == 0.0
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_rare_words_weigh_more_than_common_ones():
    # "chargeback" is in one chunk, "refund" in three: BM25 puts the chargeback chunk
    # first, where a plain term-count cosine would prefer the short refund chunk
    scores = rank("refund chargeback", BILLING)
    assert max(range(len(BILLING)), key=scores.__getitem__) == BILLING.index("Disputing a chargeback with your bank")
    assert similarity("refund chargeback", BILLING[1]) > similarity("refund chargeback", BILLING[3])


def test_scores_above_the_querys_own_are_clipped_to_one():
    assert rank("refund", ["refund refund refund refund", "refund policy"])[0] == 1.0


def test_nothing_to_rank_or_no_words_in_the_query():
    assert rank("refund", []) == []
    assert rank("?!", ["a", "b"]) == [0.0, 0.0]


def test_ranking_is_a_pure_function():
    assert rank("card payments refund", CHUNKS) == rank("card payments refund", list(CHUNKS))


def test_memory_similarity_belongs_to_the_pair():
    # a threshold keeps its meaning: what else is stored does not move a message's score
    alone = similarity("alpha beta", "alpha beta gamma")
    assert alone == pytest.approx(2 / (2 ** 0.5 * 3 ** 0.5))
    assert similarity("Alpha, BETA!", "alpha beta") == 1.0 and similarity("alpha", "delta") == 0.0


def test_the_library_is_imported_only_when_ranking():
    code = ("import sys; from fakemaestro.app import create_app; create_app(); "
            "assert 'bm25s' not in sys.modules, 'imported at startup'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---------------------------------------------------------------- query

def test_query_through_the_sdk_ranks_best_first():
    app = new_app()
    with serve_in_thread(app) as server, FlowMaestroClient(api_key=server.key("ci"), base_url=server.base_url,
                                                           max_retries=0, timeout=10) as client:
        data = client.knowledge_bases.query(KB, "refund chargeback", top_k=3)["data"]
        ties = client.knowledge_bases.query(KB, "identical chunk text", top_k=2)["data"]["results"]
    assert (data["query"], data["top_k"], len(data["results"])) == ("refund chargeback", 3, 3)
    first = data["results"][0]
    assert first == {"id": chunk_id(4), "content": BILLING[3], "document_id": "21000000-0000-4000-8000-000000000001",
                     "document_name": "billing.md", "score": first["score"], "metadata": {"n": 4}}
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    assert {r["content"] for r in data["results"][1:]} <= set(BILLING[:3])
    # chunks from behaviours.knowledge_bases documents; equal scores keep the chunk order
    assert [(r["id"], r["score"], r["document_name"]) for r in ties] == [(chunk_id(6), 1, "faq.md"),
                                                                          (chunk_id(7), 1, "faq.md")]


def test_chunks_matching_nothing_still_fill_top_k_in_chunk_order(c):
    results = query(c, {"query": "zebra", "top_k": 20}).json()["data"]["results"]
    assert [r["id"] for r in results] == [chunk_id(n) for n in range(1, len(CHUNKS) + 1)]
    assert {r["score"] for r in results} == {0}


# ---------------------------------------------------------------- kb_chunk_count_inflated

@pytest.mark.parametrize("profile,chunk_count", [("production", len(CHUNKS) * 2), ("intended", len(CHUNKS))])
def test_chunk_count_with_and_without_the_join_inflation(profile, chunk_count):
    with client_for(new_app(profile=profile)) as c:
        listed = c.get(f"{API}/knowledge-bases").json()["data"][0]
        got = c.get(f"{API}/knowledge-bases/{KB}").json()["data"]
    assert (listed["document_count"], listed["chunk_count"]) == (2, chunk_count)
    assert (got["document_count"], got["chunk_count"]) == (2, chunk_count)


# ---------------------------------------------------------------- kb_top_k_coercion

def test_top_k_coercion_on_sdk_default_gives_nothing(c):
    data = query(c, {"query": "refund", "top_k": None}).json()["data"]  # the SDK sends null when unset
    assert (data["results"], data["top_k"]) == ([], 0)


@pytest.mark.parametrize("top_k,message", [({}, 'invalid input syntax for type bigint: "NaN"'),
                                           (-1, "LIMIT must not be negative"),
                                           (2.5, 'invalid input syntax for type bigint: "2.5"')], ids=repr)
def test_top_k_coercion_on_breaks_the_sql(c, top_k, message):
    r = query(c, {"query": "refund", "top_k": top_k})
    assert r.status_code == 500 and r.json()["error"] == {"code": "internal_error", "message": message}


def test_top_k_coercion_off_sdk_default_is_five():
    app = new_app(quirks={"kb_top_k_coercion": False})
    with serve_in_thread(app) as server, FlowMaestroClient(api_key=server.key("ci"), base_url=server.base_url,
                                                           max_retries=0, timeout=10) as client:
        data = client.knowledge_bases.query(KB, "refund")["data"]
    assert data["top_k"] == 5 and len(data["results"]) == 5
    assert {r["content"] for r in data["results"][:3]} == set(BILLING[:3])


@pytest.mark.parametrize("top_k,effective", [("absent", 5), (None, 5), (1, 1), (2.0, 2), (20, 20), (50, 20),
                                             (1e300, 20)], ids=repr)
def test_top_k_coercion_off_accepts_positive_integers(intended, top_k, effective):
    body = {"query": "refund"} if top_k == "absent" else {"query": "refund", "top_k": top_k}
    data = query(intended, body).json()["data"]
    assert data["top_k"] == effective and len(data["results"]) == min(effective, len(CHUNKS))


@pytest.mark.parametrize("top_k", ["10", True, False, 0, -1, 2.5, {}, [], [3], "abc", 1e-300], ids=repr)
@pytest.mark.parametrize("kb", [KB, UNKNOWN_KB])
def test_top_k_coercion_off_refuses_the_rest_before_the_lookup(intended, top_k, kb):
    r = query(intended, {"query": "refund", "top_k": top_k}, kb)
    assert r.status_code == 400
    assert r.json()["error"] == {"code": "validation_error", "message": TOP_K_INVALID}


def test_top_k_coercion_off_query_is_still_checked_first(intended):
    r = query(intended, {"top_k": "bad"})
    assert r.json()["error"] == {"code": "validation_error", "message": messages.QUERY_REQUIRED}


def test_top_k_coercion_on_sdk_negative_top_k_is_a_server_error():
    app = new_app()
    with serve_in_thread(app) as server, FlowMaestroClient(api_key=server.key("ci"), base_url=server.base_url,
                                                           max_retries=0, timeout=10) as client:
        with pytest.raises(ServerError) as info:
            client.knowledge_bases.query(KB, "refund", top_k=-1)
    assert info.value.message == "LIMIT must not be negative"

"""Knowledge bases, filtered by the key's user (CONTRACT.md §5.6).

Quirks: `kb_chunk_count_inflated` (chunk_count multiplied by the documents join) and
`kb_top_k_coercion` (query's `top_k` read with JavaScript arithmetic and no checks);
see profile.py.
"""
from __future__ import annotations

import math

from .. import messages
from ..clock import iso
from ..http import errors
from ..http.errors import JsThrown, caught
from ..http.js import UNDEFINED, prop, to_number, truthy
from ..http.jsjson import js_value
from ..http.routing import Operation
from ..sim.relevance import rank
from ..store.models import KnowledgeBase
from .common import API, Call, Reply, found, listing, ok

MAX_TOP_K = 20
DEFAULT_TOP_K = 5


def _stats(call: Call, kb: KnowledgeBase) -> tuple[int, int]:
    return call.store.kb_stats(kb.id, join_inflation=call.state.fidelity.on("kb_chunk_count_inflated"))


def render_item(call: Call, kb: KnowledgeBase) -> dict:
    docs, chunks = _stats(call, kb)
    return {"id": kb.id, "name": kb.name, "description": kb.description, "document_count": docs,
            "chunk_count": chunks, "created_at": iso(kb.created_at), "updated_at": iso(kb.updated_at)}


def render(call: Call, kb: KnowledgeBase) -> dict:
    docs, chunks = _stats(call, kb)
    return {"id": kb.id, "name": kb.name, "description": kb.description,
            "embedding_model": kb.config.get("embeddingModel"), "chunk_size": kb.config.get("chunkSize"),
            "chunk_overlap": kb.config.get("chunkOverlap"), "document_count": docs, "chunk_count": chunks,
            "created_at": iso(kb.created_at), "updated_at": iso(kb.updated_at)}


def kb_or_404(call: Call) -> KnowledgeBase:
    return found(call, call.store.knowledge_base_of_user(call.uuid(), call.key.user_id), "Knowledge Base")


async def list_kbs(call: Call) -> Reply:
    return listing(call, lambda o, n: call.store.list_knowledge_bases(call.key.user_id, o, n),
                   lambda kb: render_item(call, kb))


async def get_kb(call: Call) -> Reply:
    return ok(call, render(call, kb_or_404(call)))


def effective_top_k(raw) -> float:
    """`Math.min(top_k, 20)` with the destructuring default 5 for a missing key (§5.6):
    null -> 0, "10" -> 10, true -> 1, {} -> NaN."""
    value = DEFAULT_TOP_K if raw is UNDEFINED else to_number(raw)
    return math.nan if math.isnan(value) else min(value, MAX_TOP_K)


def checked_top_k(raw) -> int:
    """What production means: absent or null is 5, a positive integer is capped at
    20, anything else is the client's mistake (400)."""
    if raw is UNDEFINED or raw is None:
        return DEFAULT_TOP_K
    whole = (isinstance(raw, int) and not isinstance(raw, bool)) or (isinstance(raw, float) and raw.is_integer())
    if not whole or raw < 1:
        raise errors.validation(messages.TOP_K_INVALID)
    return int(min(raw, MAX_TOP_K))


async def query_kb(call: Call) -> Reply:
    query = prop(call.body, "query")
    if not truthy(query) or not isinstance(query, str):
        raise errors.validation(messages.QUERY_REQUIRED)
    raw_top_k = prop(call.body, "top_k")
    coerced = call.state.fidelity.on("kb_top_k_coercion")
    top_k = effective_top_k(raw_top_k) if coerced else checked_top_k(raw_top_k)  # checked before the lookup
    kb = kb_or_404(call)
    with caught("internal_error", messages.KB_QUERY_FAILED):
        results = _search(call, kb, query, top_k)
    return ok(call, {"results": results, "query": query, "top_k": None if math.isnan(top_k) else js_value(top_k)})


def _search(call: Call, kb: KnowledgeBase, query: str, top_k: float) -> list[dict]:
    if math.isnan(top_k):
        raise JsThrown('invalid input syntax for type bigint: "NaN"')
    if top_k < 0:
        raise JsThrown("LIMIT must not be negative")
    if not float(top_k).is_integer():
        raise JsThrown(f'invalid input syntax for type bigint: "{js_value(top_k)}"')
    chunks = call.store.chunks.get(kb.id, []) if top_k else []
    scores = rank(query, [c.content for c in chunks])
    # best first; equal scores keep the knowledge base's chunk order
    best = sorted(range(len(chunks)), key=lambda i: (-scores[i], i))[: int(top_k)]
    results = []
    for score, chunk in ((scores[i], chunks[i]) for i in best):
        document = call.store.document(kb.id, chunk.document_id)
        results.append({"id": chunk.id, "content": chunk.content, "document_id": chunk.document_id,
                        "document_name": document.name if document else None, "score": js_value(score),
                        "metadata": chunk.metadata})
    return results


OPERATIONS = [
    Operation("GET", f"{API}/knowledge-bases", "listKnowledgeBases", ("knowledge-bases:read",), list_kbs,
              trailing_slash=True),
    Operation("GET", f"{API}/knowledge-bases/{{id}}", "getKnowledgeBase", ("knowledge-bases:read",), get_kb),
    Operation("POST", f"{API}/knowledge-bases/{{id}}/query", "queryKnowledgeBase",
              ("knowledge-bases:read", "knowledge-bases:query"), query_kb),
]

"""Agent memory: the six undocumented routes, all under agents:read (CONTRACT.md §5.3).

Quirk `memory_search_get_shadowed` (§1.1): GET .../memory/search is memory-get with
userId "search"; with the quirk off the pipeline treats it as no route (profile.py).
"""
from __future__ import annotations

import math

from .. import messages
from ..clock import iso
from ..http import errors
from ..http.errors import JsThrown, caught
from ..http.js import or_default, prop, to_number, truthy
from ..http.jsjson import js_value
from ..http.routing import Operation
from ..sim.relevance import similarity
from ..store.models import WorkingMemory
from ..store.pguuid import pg_uuid
from .agents import agent_or_404
from .common import API, Call, Reply, ok, page

SCOPES = ("agents:read",)


def render_row(row: WorkingMemory) -> dict:
    return {"user_id": row.user_id, "working_memory": row.working_memory, "metadata": row.metadata,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def render(row: WorkingMemory) -> dict:
    return {"agent_id": row.agent_id, **render_row(row)}


def _memory_id(call: Call) -> str:
    return f"{call.params['agentId']}/{call.params['userId']}"


async def list_memory(call: Call) -> Reply:
    agent = agent_or_404(call, "agentId")
    page_, per_page, offset = call.pagination()
    rows = call.store.memory_rows(agent.id)  # all rows, paginated in memory
    return page(call, [render_row(r) for r in rows[offset:offset + per_page]], page_, per_page, len(rows))


async def get_memory(call: Call) -> Reply:
    agent = agent_or_404(call, "agentId")
    row = call.store.global_memory(agent.id, call.uuid("userId"))
    if row is None:
        raise errors.not_found("Working memory", _memory_id(call))
    return ok(call, render(row))


async def put_memory(call: Call) -> Reply:
    text = prop(call.body, "working_memory")
    if not isinstance(text, str) or not text.strip():  # validated before the agent lookup
        raise errors.validation(messages.WORKING_MEMORY_REQUIRED)
    agent = agent_or_404(call, "agentId")
    metadata = js_value(or_default(prop(call.body, "metadata"), {}))  # replaced, never merged
    row = call.store.upsert_memory(agent.id, call.uuid("userId"), _js_trim(text), metadata, call.now())
    return ok(call, render(row))


async def delete_memory(call: Call) -> Reply:
    agent = agent_or_404(call, "agentId")
    user_id = call.uuid("userId")
    if not call.store.delete_memory(agent.id, user_id):
        raise errors.not_found("Working memory", _memory_id(call))
    return ok(call, {"agent_id": agent.id, "user_id": user_id, "deleted": True})


def _js_trim(text: str) -> str:
    return text.strip(" \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                      "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")


def _clamped(value, default: float, low: float, high: float) -> float:
    number = to_number(or_default(value, default))
    return math.nan if math.isnan(number) else min(high, max(low, number))


async def search_memory(call: Call) -> Reply:
    query = prop(call.body, "query")
    if not isinstance(query, str) or not _js_trim(query):
        raise errors.validation(messages.MEMORY_QUERY_REQUIRED)
    top_k = _clamped(prop(call.body, "top_k"), 10, 1, 50)
    threshold = _clamped(prop(call.body, "similarity_threshold"), 0.7, 0, 1)
    agent = agent_or_404(call, "agentId")
    query = _js_trim(query)
    with caught("internal_error", messages.MEMORY_SEARCH_FAILED):
        user_id = prop(call.body, "user_id")
        user_id = pg_uuid(user_id) if truthy(user_id) else None
        if math.isnan(top_k) or not float(top_k).is_integer():
            raise JsThrown(f'invalid input syntax for type bigint: "{_js_text(top_k)}"')
        results = _search(call, agent.id, query, user_id, threshold)[: int(top_k)]
    return ok(call, {"agent_id": agent.id, "query": query, "results": results, "result_count": len(results)})


def _js_text(number) -> str:
    return "NaN" if math.isnan(number) else str(js_value(number))


def _search(call: Call, agent_id: str, query: str, user_id, threshold) -> list[dict]:
    scored = []
    for message in call.store.conversation_messages(agent_id, user_id):
        score = similarity(query, message.content)
        if not math.isnan(threshold) and score >= threshold:
            scored.append((score, message))
    scored.sort(key=lambda pair: -pair[0])
    # Production's context window query comes back empty for these rows.
    return [{"content": m.content, "role": m.role, "similarity": js_value(s), "execution_id": m.execution_id,
             "context_before": [], "context_after": []} for s, m in scored]


async def memory_stats(call: Call) -> Reply:
    agent = agent_or_404(call, "agentId")
    return ok(call, {"agent_id": agent.id, "working_memory_count": len(call.store.memory_rows(agent.id)),
                     "embedding_count": len(call.store.conversation_messages(agent.id)),
                     "memory_config": agent.memory_config})


BASE = f"{API}/agents/{{agentId}}/memory"
OPERATIONS = [
    Operation("GET", BASE, "listAgentMemory", SCOPES, list_memory),
    Operation("GET", f"{BASE}/stats", "getAgentMemoryStats", SCOPES, memory_stats),
    Operation("POST", f"{BASE}/search", "searchAgentMemory", SCOPES, search_memory),
    Operation("GET", f"{BASE}/{{userId}}", "getAgentMemory", SCOPES, get_memory),
    Operation("PUT", f"{BASE}/{{userId}}", "putAgentMemory", SCOPES, put_memory),
    Operation("DELETE", f"{BASE}/{{userId}}", "deleteAgentMemory", SCOPES, delete_memory),
]

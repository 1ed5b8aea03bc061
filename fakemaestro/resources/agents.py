"""Agents and thread creation (CONTRACT.md §5.3)."""
from __future__ import annotations

from ..clock import iso
from ..http.routing import Operation
from ..store.models import Agent, Thread
from .common import API, Call, Reply, found, listing, ok

TOOL_FIELDS = ("id", "name", "description", "type")


def render_item(agent: Agent) -> dict:
    return {"id": agent.id, "name": agent.name, "description": agent.description,
            "model": agent.model, "provider": agent.provider,
            "created_at": iso(agent.created_at), "updated_at": iso(agent.updated_at)}


def render(agent: Agent) -> dict:
    return {"id": agent.id, "name": agent.name, "description": agent.description,
            "model": agent.model, "provider": agent.provider, "system_prompt": agent.system_prompt,
            "temperature": agent.temperature, "max_tokens": agent.max_tokens,
            "available_tools": [{f: tool.get(f) for f in TOOL_FIELDS} for tool in agent.available_tools],
            "created_at": iso(agent.created_at), "updated_at": iso(agent.updated_at)}


def agent_or_404(call: Call, param: str = "id") -> Agent:
    return found(call, call.store.agent_in_workspace(call.uuid(param), call.key.workspace_id), "Agent", param)


async def list_agents(call: Call) -> Reply:
    return listing(call, lambda o, n: call.store.list_agents(call.key.workspace_id, o, n), render_item)


async def get_agent(call: Call) -> Reply:
    return ok(call, render(agent_or_404(call)))


async def create_thread(call: Call) -> Reply:
    # The body (including `metadata`) is ignored by production.
    agent = agent_or_404(call)
    now = call.now()
    thread = Thread(id=call.store.ids.uuid(), user_id=call.key.user_id, workspace_id=call.key.workspace_id,
                    agent_id=agent.id, title=None, status="active", created_at=now, updated_at=now,
                    last_message_at=None)
    call.store.add_thread(thread)
    return ok(call, {"id": thread.id, "agent_id": agent.id, "status": "active",
                     "created_at": iso(thread.created_at)}, 201)


OPERATIONS = [
    Operation("GET", f"{API}/agents", "listAgents", ("agents:read",), list_agents, trailing_slash=True),
    Operation("GET", f"{API}/agents/{{id}}", "getAgent", ("agents:read",), get_agent),
    Operation("POST", f"{API}/agents/{{id}}/threads", "createThread", ("agents:read", "threads:write"), create_thread),
]

"""Threads and messages (CONTRACT.md §5.4)."""
from __future__ import annotations

import math

from .. import messages
from ..clock import iso
from ..http import errors
from ..http.errors import ApiError
from ..http.js import UNDEFINED, prop, to_number, truthy
from ..http.jsjson import js_value
from ..http.routing import Operation
from ..sim import agents as simulated
from ..store.models import AgentExecution, Message, Thread
from .common import API, Call, Reply, found, ok

MAX_WAIT_MS = 120_000


def render(thread: Thread) -> dict:
    return {"id": thread.id, "agent_id": thread.agent_id, "title": thread.title, "status": thread.status,
            "created_at": iso(thread.created_at), "updated_at": iso(thread.updated_at),
            "last_message_at": iso(thread.last_message_at)}


def render_message(m: Message) -> dict:
    return {"id": m.id, "role": m.role, "content": m.content, "tool_calls": m.tool_calls,
            "created_at": iso(m.created_at)}


def thread_or_404(call: Call) -> Thread:
    return found(call, call.store.thread_in_workspace(call.uuid(), call.key.workspace_id), "Thread")


async def get_thread(call: Call) -> Reply:
    return ok(call, render(thread_or_404(call)))


async def list_messages(call: Call) -> Reply:
    thread = thread_or_404(call)  # not paginated: page/per_page are ignored
    return ok(call, {"messages": [render_message(m) for m in call.store.thread_messages(thread.id)]})


async def delete_thread(call: Call) -> Reply:
    thread = thread_or_404(call)
    now = call.now()
    thread.deleted_at, thread.status, thread.updated_at = now, "deleted", now
    return ok(call, {"id": thread.id, "deleted": True})


def _effective_timeout(raw) -> float:
    timeout = 120_000 if raw is UNDEFINED else to_number(raw)
    return math.nan if math.isnan(timeout) else min(timeout, MAX_WAIT_MS)


def _timeout_error(timeout: float, thread_id: str) -> ApiError:
    text = "NaN" if math.isnan(timeout) else str(js_value(timeout))
    return ApiError(408, "timeout", messages.AGENT_TIMEOUT.format(timeout=text, thread_id=thread_id))


async def send_message(call: Call) -> Reply:
    content = prop(call.body, "content")
    if not truthy(content) or not isinstance(content, str):
        raise errors.validation(messages.CONTENT_REQUIRED)
    thread = thread_or_404(call)
    agent = call.store.agents.get(thread.agent_id)  # loaded by id, unscoped
    if agent is None:
        raise errors.internal(messages.AGENT_NOT_FOUND_FOR_THREAD)
    if truthy(prop(call.body, "stream")):
        raise ApiError(501, "not_implemented", messages.STREAMING_NOT_IMPLEMENTED)
    timeout = _effective_timeout(prop(call.body, "timeout"))
    run = simulated.start(call.state, thread, agent, content, call.key.user_id)
    if not await simulated.await_run(call.state, run, timeout):
        raise _timeout_error(timeout, thread.id)  # the run goes on (sim/agents.py)
    if run.status == "failed":
        raise ApiError(500, "execution_failed", run.error or messages.AGENT_EXECUTION_FAILED)
    thread.last_message_at = call.now()
    reply = _last_reply(call, run)
    return ok(call, {"execution_id": run.id, "thread_id": thread.id, "status": "completed",
                     "message": {"role": reply.role, "content": reply.content, "tool_calls": reply.tool_calls,
                                 "created_at": iso(reply.created_at)},
                     "iterations": run.iterations, "tool_calls_count": run.tool_calls_count})


def _last_reply(call: Call, run: AgentExecution) -> Message:
    """The run's last assistant message (production's answer has no message id)."""
    return next(m for m in reversed(call.store.messages[run.thread_id])
                if m.execution_id == run.id and m.role == "assistant")


OPERATIONS = [
    Operation("GET", f"{API}/threads/{{id}}", "getThread", ("threads:read",), get_thread),
    Operation("DELETE", f"{API}/threads/{{id}}", "deleteThread", ("threads:write",), delete_thread),
    Operation("GET", f"{API}/threads/{{id}}/messages", "listThreadMessages", ("threads:read",), list_messages),
    Operation("POST", f"{API}/threads/{{id}}/messages", "sendThreadMessage",
              ("agents:execute", "threads:write"), send_message),
]

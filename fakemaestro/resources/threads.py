"""Threads and messages (CONTRACT.md §5.4)."""
from __future__ import annotations

import asyncio
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
POLL_MS = 500  # production polls the agent run every 500 ms


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
    run = _start_run(call, thread, content)
    outcome = simulated.run(agent, content)
    if math.isnan(timeout) or timeout <= 0 or outcome.latency_ms > timeout:
        await asyncio.sleep(0 if math.isnan(timeout) else max(0.0, timeout) / 1000)
        raise _timeout_error(timeout, thread.id)
    await asyncio.sleep(_polled(outcome.latency_ms) / 1000)
    if outcome.reply is None:
        run.status, run.error = "failed", outcome.error
        raise ApiError(500, "execution_failed", outcome.error or messages.AGENT_EXECUTION_FAILED)
    reply = _finish_run(call, thread, run, outcome)
    return ok(call, {"execution_id": run.id, "thread_id": thread.id, "status": "completed",
                     "message": {"role": reply.role, "content": reply.content, "tool_calls": reply.tool_calls,
                                 "created_at": iso(reply.created_at)},
                     "iterations": run.iterations, "tool_calls_count": run.tool_calls_count})


def _polled(latency_ms: int) -> int:
    """A reply is noticed at the next 500 ms poll after it is ready (none if instant)."""
    return 0 if latency_ms <= 0 else math.ceil(latency_ms / POLL_MS) * POLL_MS


def _start_run(call: Call, thread: Thread, content: str) -> AgentExecution:
    # A conversation's messages never share or go back in time, even on a frozen clock.
    history = call.store.thread_messages(thread.id)
    now = max(call.now(), history[-1].created_at + 1) if history else call.now()
    run = AgentExecution(id=call.store.ids.uuid(), agent_id=thread.agent_id, user_id=call.key.user_id,
                         thread_id=thread.id, status="running", iterations=0, tool_calls_count=0,
                         started_at=now, completed_at=None)
    call.store.add_agent_execution(run)
    call.store.add_message(Message(id=call.store.ids.uuid(), thread_id=thread.id, execution_id=run.id,
                                   role="user", content=content, tool_calls=None, created_at=now))
    return run


def _finish_run(call: Call, thread: Thread, run: AgentExecution, outcome) -> Message:
    # The reply is written when the run ends: never before the question, even on a frozen clock.
    now = max(call.now(), run.started_at + max(1, outcome.latency_ms))
    reply = Message(id=call.store.ids.uuid(), thread_id=thread.id, execution_id=run.id, role="assistant",
                    content=outcome.reply, tool_calls=None, created_at=now)
    call.store.add_message(reply)
    run.status, run.completed_at = "completed", now
    run.iterations, run.tool_calls_count = outcome.iterations, outcome.tool_calls
    thread.last_message_at = call.now()
    return reply


OPERATIONS = [
    Operation("GET", f"{API}/threads/{{id}}", "getThread", ("threads:read",), get_thread),
    Operation("DELETE", f"{API}/threads/{{id}}", "deleteThread", ("threads:write",), delete_thread),
    Operation("GET", f"{API}/threads/{{id}}/messages", "listThreadMessages", ("threads:read",), list_messages),
    Operation("POST", f"{API}/threads/{{id}}/messages", "sendThreadMessage",
              ("agents:execute", "threads:write"), send_message),
]

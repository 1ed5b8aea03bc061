"""The simulated agent behind send-message (CONTRACT.md §5.4).

Production starts an agent orchestration and polls its row every 500 ms until the
request's timeout. The fake decides the whole run when it starts (a `Plan`: the
reply or the failure, the tool calls, the ids of everything it will write, its
latency) and lets time bring it to its end:

* the send-message handler polls as production does (`await_run`) and ends the run
  itself once, by its reckoning, the latency has passed;
* a run the handler gave up on (408) goes on, as production's does: it ends when the
  World settles past its due time, and its reply then appears in
  GET /threads/:id/messages.

Ending a run writes its messages timed from its start (the tool-call message and the
tool results 1 ms apart, the reply when the run ends) and publishes the §8.2 events.
Everything is drawn when the run starts, so the same scenario, seed and clock moves
give the same ids, replies and timestamps however the waiting goes.

Scenario `behaviours.agents[<agent id>]` (see scenario/loader.py) sets per agent:
`replies` [{pattern, reply, tool_calls}] (the first whose pattern, a case-insensitive
regular expression, is found in the message; no pattern matches anything), `latency_ms`
and `fail_with`. A tool call is {name, arguments?, id?, result?}: without `id` it gets
a seeded `call_...` id, without `result` its tool answers `{"ok":true}`.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass

from ..clock import iso
from ..ids import IdFactory, base62
from ..store import Store
from ..store.models import Agent, AgentExecution, Message, Thread
from .world import POLL_S, DomainEvent, World

POLL_MS = 500  # production's handler polls the run every 500 ms
DEFAULT_TOOL_RESULT = '{"ok":true}'


@dataclass(frozen=True)
class ToolStep:
    call: dict        # {id, name, arguments}, as the assistant message stores it
    result: str       # the tool message's content
    message_id: str   # the tool message's id


@dataclass(frozen=True)
class Plan:
    """What a run will do, decided when it starts."""

    latency_ms: int
    question_id: str              # the user message the run answers
    reply: str | None             # None: the run fails with `error`
    error: str | None = None
    steps: tuple[ToolStep, ...] = ()
    calls_message_id: str | None = None  # the assistant message carrying the tool calls
    reply_id: str | None = None

    @property
    def iterations(self) -> int:
        return 2 if self.steps else 1  # one model turn to call the tools, one to answer


# ------------------------------------------------------------------ deciding

def plan_run(agent: Agent, content: str, ids: IdFactory, question_id: str) -> Plan:
    if agent.fail_with is not None:
        return Plan(agent.reply_latency_ms, question_id, None, agent.fail_with)
    rule = matching_rule(agent, content)
    if rule is None:
        return Plan(agent.reply_latency_ms, question_id, default_reply(agent, content), reply_id=ids.uuid())
    calls = [_tool_call(spec, ids) for spec in rule.get("tool_calls") or ()]
    calls_message_id = ids.uuid() if calls else None
    steps = tuple(ToolStep(call, result, ids.uuid()) for call, result in calls)
    return Plan(agent.reply_latency_ms, question_id, rule["reply"], steps=steps,
                calls_message_id=calls_message_id, reply_id=ids.uuid())


def matching_rule(agent: Agent, content: str) -> dict | None:
    """The first scenario reply whose pattern the message matches."""
    return next((rule for rule in agent.replies if _found(rule.get("pattern", ""), content)), None)


def _found(pattern: str, content: str) -> bool:
    try:
        return re.search(pattern, content, re.IGNORECASE) is not None
    except re.error:  # not a regular expression: look for the text itself
        return pattern.casefold() in content.casefold()


def default_reply(agent: Agent, content: str) -> str:
    excerpt = " ".join(content.split())[:200]
    return f"{agent.name} received your message: {excerpt}"


def _tool_call(spec, ids: IdFactory) -> tuple[dict, str]:
    spec = spec if isinstance(spec, dict) else {"name": str(spec)}
    arguments = spec.get("arguments")
    call = {"id": str(spec["id"]) if spec.get("id") else _call_id(ids), "name": str(spec.get("name", "tool")),
            "arguments": arguments if isinstance(arguments, dict) else {}}
    result = spec.get("result", DEFAULT_TOOL_RESULT)
    return call, result if isinstance(result, str) else json.dumps(result, separators=(",", ":"))


def _call_id(ids: IdFactory) -> str:
    # OpenAI's form: "call_" and 24 letters and digits
    return "call_" + base62(ids.randbits(143)).rjust(24, "0")[-24:]


# ------------------------------------------------------------------ starting and ending

def start(state, thread: Thread, agent: Agent, content: str, user_id: str) -> AgentExecution:
    """Store the running execution (of `user_id`, the key's user) and the message; plan the rest."""
    store: Store = state.store
    history = store.messages.get(thread.id)
    # A conversation's messages never share or go back in time, even on a frozen clock.
    now = state.clock.now_ms()
    started = max(now, history[-1].created_at + 1) if history else now
    run = AgentExecution(id=store.ids.uuid(), agent_id=agent.id, user_id=user_id, thread_id=thread.id,
                         status="running", iterations=0, tool_calls_count=0, started_at=started, completed_at=None)
    question = Message(id=store.ids.uuid(), thread_id=thread.id, execution_id=run.id, role="user",
                       content=content, tool_calls=None, created_at=started)
    plan = plan_run(agent, content, store.ids, question.id)
    store.add_agent_execution(run)
    store.add_message(question)
    store.pending_agent_runs[run.id] = plan
    events = _Events(state.world, thread, agent, run)
    events.about_message("thread.message.created", question, started)
    events.about_run("agent.execution.started", started)
    return run


def finish(store: Store, world: World, run: AgentExecution) -> None:
    """End a run as planned (once: a second call does nothing)."""
    plan = store.pending_agent_runs.pop(run.id, None)
    if plan is None:
        return
    thread, agent = store.threads[run.thread_id], store.agents[run.agent_id]
    events = _Events(world, thread, agent, run)
    ends = _end_time(run, plan)
    run.iterations, run.completed_at = plan.iterations, ends
    if plan.reply is None:
        run.status, run.error = "failed", plan.error
        question = next(m for m in store.messages[thread.id] if m.id == plan.question_id)
        events.about_message("thread.message.failed", question, ends, status="failed", error=plan.error)
        events.about_run("agent.execution.failed", ends, completed_at=iso(ends), error=plan.error)
        return
    _write_tool_steps(store, run, plan)
    reply = Message(id=plan.reply_id, thread_id=thread.id, execution_id=run.id, role="assistant",
                    content=plan.reply, tool_calls=None, created_at=ends)
    store.add_message(reply)
    run.status, run.tool_calls_count = "completed", len(plan.steps)
    events.about_message("thread.message.created", reply, ends)
    events.about_message("thread.message.completed", reply, ends, status="completed")
    events.about_run("agent.execution.completed", ends, completed_at=iso(ends))


def _end_time(run: AgentExecution, plan: Plan) -> int:
    # The reply is written when the run ends: after the question and the tool messages.
    written_before = 1 + len(plan.steps) if plan.steps else 0
    return max(run.started_at + plan.latency_ms, run.started_at + written_before + 1)


def _write_tool_steps(store: Store, run: AgentExecution, plan: Plan) -> None:
    if not plan.steps:
        return
    at = run.started_at + 1
    store.add_message(Message(id=plan.calls_message_id, thread_id=run.thread_id, execution_id=run.id,
                              role="assistant", content="", tool_calls=[s.call for s in plan.steps], created_at=at))
    for n, step in enumerate(plan.steps, 1):
        store.add_message(Message(id=step.message_id, thread_id=run.thread_id, execution_id=run.id, role="tool",
                                  content=step.result, tool_calls=None, created_at=at + n,
                                  tool_name=step.call["name"], tool_call_id=step.call["id"]))


@dataclass
class _Events:
    """The §8.2 thread-message and agent-execution events of one run, for the thread's user."""

    world: World
    thread: Thread
    agent: Agent
    run: AgentExecution

    def about_message(self, kind: str, message: Message, at_ms: int, **extra) -> None:
        self._publish(kind, {"thread_id": self.thread.id, "message_id": message.id, "agent_id": self.agent.id,
                             "agent_name": self.agent.name, "role": message.role, "content": message.content,
                             **extra}, at_ms)

    def about_run(self, kind: str, at_ms: int, **extra) -> None:
        self._publish(kind, {"thread_id": self.thread.id, "agent_id": self.agent.id, "agent_name": self.agent.name,
                             "status": self.run.status, "started_at": iso(self.run.started_at), **extra}, at_ms)

    def _publish(self, kind: str, data: dict, at_ms: int) -> None:
        self.world.publish(DomainEvent(kind, self.thread.user_id, self.thread.workspace_id, data, at_ms))


# ------------------------------------------------------------------ time

def settle(store: Store, world: World, now_ms: int) -> None:
    """End every run whose latency has passed by `now_ms`, the earliest first."""
    if not store.pending_agent_runs:  # the usual case, on every request
        return
    due = []
    for n, (run_id, plan) in enumerate(list(store.pending_agent_runs.items())):
        run = store.agent_executions[run_id]
        if run.started_at + plan.latency_ms <= now_ms:
            due.append((run.started_at + plan.latency_ms, n, run))
    for _, _, run in sorted(due, key=lambda d: d[:2]):  # by due time, then by start
        finish(store, world, run)


async def await_run(state, run: AgentExecution, timeout: float) -> bool:
    """Production's wait: look at the run at 0, 500, 1000 ... ms while less than
    `timeout` ms have passed (none for a NaN or non-positive timeout). True when the
    run has ended; False after the wait that outlasts the timeout (the 408)."""
    store, world = state.store, state.world
    waited = _Waited(state.clock)
    poll = 0
    while poll < timeout:  # False for NaN, as in JavaScript
        await waited.until(poll)
        plan = store.pending_agent_runs.get(run.id)
        if plan is not None and plan.latency_ms <= poll:
            finish(store, world, run)
        if run.status != "running":
            return True
        poll += POLL_MS
    if timeout > 0:
        await waited.until(poll)
    return False


class _Waited:
    """Time passed since the handler started waiting: on the fake clock, or in real
    time when that is more, so a frozen clock never holds a request for ever (a clock
    move still ends the wait at once)."""

    def __init__(self, clock) -> None:
        self.clock, self.clock_start, self.real_start = clock, clock.now_ms(), time.monotonic()

    def ms(self) -> float:
        return max(self.clock.now_ms() - self.clock_start, (time.monotonic() - self.real_start) * 1000)

    async def until(self, ms: float) -> None:
        while (passed := self.ms()) < ms:
            await asyncio.sleep(min((ms - passed) / 1000, POLL_S))


def install(state, world: World) -> None:
    store = state.store
    world.settlers.append(lambda now_ms: settle(store, world, now_ms))

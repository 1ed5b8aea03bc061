"""The simulated agent behind send-message: a deterministic reply, a latency, or a failure.

Production runs an LLM orchestration and polls its row every 500 ms; the fake
decides the outcome up front from the agent's simulation settings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..store.models import Agent


@dataclass(frozen=True)
class Outcome:
    latency_ms: int
    reply: str | None      # None when the run fails
    error: str | None = None
    iterations: int = 1
    tool_calls: int = 0


def run(agent: Agent, content: str) -> Outcome:
    if agent.fail_with is not None:
        return Outcome(agent.reply_latency_ms, None, agent.fail_with)
    return Outcome(agent.reply_latency_ms, scripted_reply(agent, content) or default_reply(agent, content))


def scripted_reply(agent: Agent, content: str) -> str | None:
    """The first scenario reply whose pattern (a case-insensitive regex) the message matches."""
    for rule in agent.replies:
        if re.search(rule.get("pattern", ""), content, re.IGNORECASE):
            return rule["reply"]
    return None


def default_reply(agent: Agent, content: str) -> str:
    excerpt = " ".join(content.split())[:200]
    return f"{agent.name} received your message: {excerpt}"

"""One module per resource: each translates HTTP <-> store and lists its operations."""
from __future__ import annotations

from ..http.routing import Operation
from . import agents, executions, knowledge_bases, memory, threads, triggers, webhooks, workflows

MODULES = (workflows, executions, agents, memory, threads, triggers, knowledge_bases, webhooks)


def operations() -> list[Operation]:
    return [op for module in MODULES for op in module.OPERATIONS]

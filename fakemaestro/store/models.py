"""Records as production's tables hold them. Times are epoch milliseconds."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class User:
    id: str
    email: str
    name: str


@dataclass(slots=True)
class Workspace:
    id: str
    name: str
    owner_id: str


@dataclass(slots=True)
class ApiKey:
    id: str
    name: str
    raw: str
    key_hash: str
    user_id: str
    workspace_id: str
    scopes: list[str]
    per_minute: int = 60
    per_day: int = 10000
    expires_at: int | None = None
    is_active: bool = True
    revoked_at: int | None = None
    created_at: int = 0
    last_used_at: int | None = None


@dataclass(slots=True)
class Workflow:
    id: str
    user_id: str
    workspace_id: str
    name: str
    description: str | None
    definition: Any
    version: int
    created_at: int
    updated_at: int
    deleted_at: int | None = None
    workflow_type: str | None = "user"


@dataclass(slots=True)
class Execution:
    id: str
    workflow_id: str
    status: str
    inputs: Any
    outputs: Any
    error: str | None
    started_at: int | None
    completed_at: int | None
    created_at: int
    deleted_at: int | None = None
    seq: int = 0


@dataclass(slots=True)
class Agent:
    id: str
    user_id: str
    workspace_id: str
    name: str
    description: str | None
    model: str
    provider: str
    system_prompt: str
    temperature: float
    max_tokens: int
    available_tools: list[dict]
    memory_config: dict
    created_at: int
    updated_at: int
    deleted_at: int | None = None
    # Simulation knobs (not production fields): how long a reply takes, and
    # whether the simulated agent run fails (CONTRACT.md §5.4 outcomes).
    reply_latency_ms: int = 0
    fail_with: str | None = None
    replies: list = field(default_factory=list)  # [{pattern, reply}] from scenario behaviours


@dataclass(slots=True)
class Thread:
    id: str
    user_id: str
    workspace_id: str
    agent_id: str
    title: str | None
    status: str
    created_at: int
    updated_at: int
    last_message_at: int | None
    metadata: dict = field(default_factory=dict)
    deleted_at: int | None = None


@dataclass(slots=True)
class Message:
    id: str
    thread_id: str
    execution_id: str | None
    role: str
    content: str
    tool_calls: list | None
    created_at: int
    tool_name: str | None = None
    tool_call_id: str | None = None
    seq: int = 0


@dataclass(slots=True)
class AgentExecution:
    id: str
    agent_id: str
    user_id: str
    thread_id: str
    status: str
    iterations: int
    tool_calls_count: int
    started_at: int
    completed_at: int | None
    error: str | None = None


@dataclass(slots=True)
class WorkingMemory:
    agent_id: str
    user_id: str
    working_memory: str
    metadata: dict
    created_at: int
    updated_at: int
    thread_id: str | None = None
    seq: int = 0


@dataclass(slots=True)
class Trigger:
    id: str
    workflow_id: str
    workspace_id: str
    name: str
    trigger_type: str
    config: dict
    enabled: bool
    trigger_count: int
    last_triggered_at: int | None
    created_at: int
    updated_at: int
    deleted_at: int | None = None


@dataclass(slots=True)
class KnowledgeBase:
    id: str
    user_id: str
    workspace_id: str
    name: str
    description: str | None
    config: dict
    created_at: int
    updated_at: int


@dataclass(slots=True)
class Document:
    id: str
    knowledge_base_id: str
    name: str
    content: str
    created_at: int


@dataclass(slots=True)
class Chunk:
    id: str
    document_id: str
    knowledge_base_id: str
    chunk_index: int
    content: str
    metadata: dict | None
    created_at: int


@dataclass(slots=True)
class Webhook:
    id: str
    user_id: str
    workspace_id: str
    name: str
    url: str
    secret: str
    events: list[str]
    headers: dict | None
    is_active: bool
    created_at: int
    updated_at: int
    deleted_at: int | None = None


@dataclass(slots=True)
class Delivery:
    id: int
    webhook_id: str
    event_type: str
    payload: dict
    status: str
    attempts: int
    max_attempts: int
    last_attempt_at: int | None
    next_retry_at: int | None
    response_status: int | None
    response_body: str | None
    error_message: str | None
    created_at: int

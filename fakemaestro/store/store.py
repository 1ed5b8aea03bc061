"""The in-memory backend: collections, indexes and production's data rules.

Handlers translate HTTP to calls here; this module knows nothing of HTTP. Tenant
filters follow CONTRACT.md §1.9 exactly (some by workspace, some by user).
"""
from __future__ import annotations

import itertools
from collections import defaultdict

from ..ids import IdFactory, key_hash
from .index import NewestFirst
from .models import (Agent, AgentExecution, ApiKey, Chunk, Delivery, Document, Execution,
                     KnowledgeBase, Message, Thread, Trigger, User, Webhook, Workflow,
                     WorkingMemory, Workspace)

WORKSPACE_WORKFLOW_CAP = 1000  # production loads "the first 1000 workflows" (§5.2, §5.5)


class DuplicateId(ValueError):
    """An insert whose id a record of the same collection already has: never overwritten."""

    def __init__(self, collection: str, ident) -> None:
        super().__init__(f"duplicate id {ident!r} in {collection}: a record with this id already exists")
        self.collection, self.ident = collection, ident


class Store:
    def __init__(self, ids: IdFactory) -> None:
        self.ids = ids
        self._seq = itertools.count(1)
        # every id of every collection (one primary key per collection, as in production's
        # tables); ids the factory makes skip all of them
        self._ids: dict[str, set] = defaultdict(set)
        self._all_ids: set[str] = set()
        ids.avoid(self.id_taken)
        self.users: dict[str, User] = {}
        self.workspaces: dict[str, Workspace] = {}
        self.keys: dict[str, ApiKey] = {}
        self.keys_by_hash: dict[str, ApiKey] = {}
        self.workflows: dict[str, Workflow] = {}
        self.executions: dict[str, Execution] = {}
        self.agents: dict[str, Agent] = {}
        self.threads: dict[str, Thread] = {}
        self.messages: dict[str, list[Message]] = defaultdict(list)
        self.agent_executions: dict[str, AgentExecution] = {}
        # run id -> what the simulated agent will still do (sim/agents.py), while the run goes on
        self.pending_agent_runs: dict[str, object] = {}
        self.memory: dict[str, list[WorkingMemory]] = defaultdict(list)
        self.triggers: dict[str, Trigger] = {}
        self.knowledge_bases: dict[str, KnowledgeBase] = {}
        self.documents: dict[str, list[Document]] = defaultdict(list)
        self.chunks: dict[str, list[Chunk]] = defaultdict(list)
        self.webhooks: dict[str, Webhook] = {}
        self.deliveries: dict[str, NewestFirst] = defaultdict(NewestFirst)
        self.delivery_rows: dict[int, Delivery] = {}
        self.next_delivery_id = 1
        self.workflow_behaviours: dict = {}  # scenario behaviours, for the execution lifecycle
        # the execution lifecycle (sim/lifecycle.py): execution id -> its run while it goes on,
        # a heap of (due ms, seq, execution id) for the runs' next steps, and the live events
        # (WebSocketEvent payloads) each execution emitted, for its event streams
        self.execution_runs: dict[str, object] = {}
        self.execution_due: list[tuple[int, int, str]] = []
        self.execution_events: dict[str, list] = defaultdict(list)
        # indexes
        self._wf_listed: dict[str, NewestFirst] = defaultdict(NewestFirst)
        self._wf_seq: dict[str, int] = {}
        self._exec_by_wf: dict[str, NewestFirst] = defaultdict(NewestFirst)
        self._exec_all = NewestFirst()
        self._exec_by_status: dict[str, NewestFirst] = defaultdict(NewestFirst)
        self._exec_by_wf_status: dict[tuple[str, str], NewestFirst] = defaultdict(NewestFirst)
        self._agents_by_ws: dict[str, NewestFirst] = defaultdict(NewestFirst)
        self._agent_seq: dict[str, int] = {}
        self._triggers_by_wf: dict[str, list[str]] = defaultdict(list)
        self._kb_by_user: dict[str, NewestFirst] = defaultdict(NewestFirst)
        self._webhooks_by_ws: dict[str, NewestFirst] = defaultdict(NewestFirst)
        self._webhook_seq: dict[str, int] = {}

    def seq(self) -> int:
        return next(self._seq)

    def id_taken(self, ident: str) -> bool:
        """Is `ident` the id of any record, in any collection?"""
        return ident in self._all_ids

    def _claim(self, collection: str, ident) -> None:
        """Record a new id of `collection`; an id already there is refused, never overwritten."""
        taken = self._ids[collection]
        if ident in taken:
            raise DuplicateId(collection, ident)
        taken.add(ident)
        if isinstance(ident, str):
            self._all_ids.add(ident)

    @staticmethod
    def _page(index: NewestFirst | None, table: dict, offset: int, limit: int) -> tuple[list, int]:
        """A newest-first page of `table` rows and the index's total."""
        if index is None:
            return [], 0
        return [table[i] for i in index.page(offset, limit)], len(index)

    # ------------------------------------------------------------ tenants
    def add_user(self, user: User) -> None:
        self._claim("users", user.id)
        self.users[user.id] = user

    def add_workspace(self, ws: Workspace) -> None:
        self._claim("workspaces", ws.id)
        self.workspaces[ws.id] = ws

    def add_key(self, key: ApiKey) -> None:
        if key.key_hash in self.keys_by_hash:
            raise DuplicateId("api_keys (key)", key.raw[:12] + "...")
        self._claim("api_keys", key.id)
        self.keys[key.id] = key
        self.keys_by_hash[key.key_hash] = key

    def key_for(self, raw: str) -> ApiKey | None:
        return self.keys_by_hash.get(key_hash(raw))

    def key_by_name(self, name: str) -> ApiKey | None:
        return next((k for k in self.keys.values() if k.name == name), None)

    # ------------------------------------------------------------ workflows
    def add_workflow(self, wf: Workflow) -> None:
        self._claim("workflows", wf.id)
        self.workflows[wf.id] = wf
        self._wf_seq[wf.id] = self.seq()
        if wf.deleted_at is None and wf.workflow_type in ("user", None):
            self._wf_listed[wf.workspace_id].add(wf.created_at, self._wf_seq[wf.id], wf.id)

    def list_workflows(self, workspace_id: str, offset: int, limit: int) -> tuple[list[Workflow], int]:
        return self._page(self._wf_listed.get(workspace_id), self.workflows, offset, limit)

    def workflow_of_user(self, workflow_id: str, user_id: str) -> Workflow | None:
        # §1.9: get/execute check the key's *user*, in any workspace.
        wf = self.workflows.get(workflow_id)
        if wf is None or wf.deleted_at is not None or wf.user_id != user_id:
            return None
        return wf

    def workflow_in_workspace(self, workflow_id: str, workspace_id: str) -> Workflow | None:
        wf = self.workflows.get(workflow_id)
        if wf is None or wf.deleted_at is not None or wf.workspace_id != workspace_id:
            return None
        return wf

    def workspace_workflow_ids(self, workspace_id: str) -> list[str]:
        index = self._wf_listed.get(workspace_id)
        return index.page(0, WORKSPACE_WORKFLOW_CAP) if index else []

    # ------------------------------------------------------------ executions
    def add_execution(self, ex: Execution) -> None:
        self._claim("executions", ex.id)
        ex.seq = ex.seq or self.seq()
        self.executions[ex.id] = ex
        if ex.deleted_at is None:
            self._exec_by_wf[ex.workflow_id].add(ex.created_at, ex.seq, ex.id)
            self._exec_all.add(ex.created_at, ex.seq, ex.id)
            self._exec_by_status[ex.status].add(ex.created_at, ex.seq, ex.id)
            self._exec_by_wf_status[ex.workflow_id, ex.status].add(ex.created_at, ex.seq, ex.id)

    def create_execution(self, workflow_id: str, inputs, now_ms: int) -> Execution:
        ex = Execution(id=self.ids.uuid(), workflow_id=workflow_id, status="pending",
                       inputs=inputs, outputs=None, error=None, started_at=None,
                       completed_at=None, created_at=now_ms)
        self.add_execution(ex)
        return ex

    def set_execution_status(self, ex: Execution, status: str) -> None:
        if ex.deleted_at is None:
            self._exec_by_status[ex.status].remove(ex.created_at, ex.seq, ex.id)
            self._exec_by_status[status].add(ex.created_at, ex.seq, ex.id)
            self._exec_by_wf_status[ex.workflow_id, ex.status].remove(ex.created_at, ex.seq, ex.id)
            self._exec_by_wf_status[ex.workflow_id, status].add(ex.created_at, ex.seq, ex.id)
        ex.status = status

    def execution_of_user(self, execution_id: str, user_id: str) -> Execution | None:
        # §5.2: the execution's workflow must exist, be live and belong to the key's user.
        ex = self.executions.get(execution_id)
        if ex is None or ex.deleted_at is not None:
            return None
        return ex if self.workflow_of_user(ex.workflow_id, user_id) else None

    def executions_of_workflow(self, workflow_id: str, offset: int, limit: int) -> tuple[list[Execution], int]:
        return self._page(self._exec_by_wf.get(workflow_id), self.executions, offset, limit)

    def executions_of_workflow_with_status(self, workflow_id: str, status: str, offset: int,
                                           limit: int) -> tuple[list[Execution], int]:
        return self._page(self._exec_by_wf_status.get((workflow_id, status)), self.executions, offset, limit)

    def workspace_executions(self, workspace_id: str, status: str | None, offset: int,
                             limit: int) -> tuple[list[Execution], int]:
        """A newest-first page of the executions of all the workspace's listed workflows,
        optionally of one status, and their true count (what production's list means to
        give, §5.2): the per-workflow pages merged, O(workflows x (offset + limit))."""
        index = self._wf_listed.get(workspace_id)
        workflows = index.page(0, len(index)) if index else []
        if status is None:
            indexes = [self._exec_by_wf.get(wf) for wf in workflows]
        else:
            indexes = [self._exec_by_wf_status.get((wf, status)) for wf in workflows]
        indexes = [i for i in indexes if i]
        newest = [self.executions[e] for i in indexes for e in i.page(0, offset + limit)]
        newest.sort(key=lambda e: (e.created_at, e.seq), reverse=True)
        return newest[offset:offset + limit], sum(len(i) for i in indexes)

    def newest_executions(self, limit: int, status: str | None) -> list[Execution]:
        """All tenants' newest executions, as production's unscoped SQL reads them (§5.2)."""
        index = self._exec_all if status is None else self._exec_by_status.get(status)
        return [self.executions[i] for i in index.page(0, limit)] if index else []

    # ------------------------------------------------------------ agents
    def add_agent(self, agent: Agent) -> None:
        self._claim("agents", agent.id)
        self.agents[agent.id] = agent
        self._agent_seq[agent.id] = self.seq()
        if agent.deleted_at is None:
            self._agents_by_ws[agent.workspace_id].add(agent.created_at, self._agent_seq[agent.id], agent.id)

    def list_agents(self, workspace_id: str, offset: int, limit: int) -> tuple[list[Agent], int]:
        return self._page(self._agents_by_ws.get(workspace_id), self.agents, offset, limit)

    def agent_in_workspace(self, agent_id: str, workspace_id: str) -> Agent | None:
        agent = self.agents.get(agent_id)
        if agent is None or agent.deleted_at is not None or agent.workspace_id != workspace_id:
            return None
        return agent

    # ------------------------------------------------------------ memory
    def add_memory(self, row: WorkingMemory) -> None:
        self._claim("working_memory", (row.agent_id, row.user_id, row.thread_id))
        row.seq = row.seq or self.seq()
        self.memory[row.agent_id].append(row)

    def memory_rows(self, agent_id: str) -> list[WorkingMemory]:
        """All rows of an agent (global and thread-scoped), `updated_at DESC`."""
        rows = self.memory.get(agent_id, [])
        return sorted(rows, key=lambda r: (r.updated_at, r.seq), reverse=True)

    def global_memory(self, agent_id: str, user_id: str) -> WorkingMemory | None:
        return next((r for r in self.memory.get(agent_id, [])
                     if r.user_id == user_id and r.thread_id is None), None)

    def upsert_memory(self, agent_id: str, user_id: str, text: str, metadata: dict, now_ms: int) -> WorkingMemory:
        row = self.global_memory(agent_id, user_id)
        if row is None:
            row = WorkingMemory(agent_id, user_id, text, metadata, now_ms, now_ms)
            self.add_memory(row)
        else:
            row.working_memory, row.metadata, row.updated_at = text, metadata, now_ms
        return row

    def delete_memory(self, agent_id: str, user_id: str) -> bool:
        row = self.global_memory(agent_id, user_id)
        if row is None:
            return False
        self.memory[agent_id].remove(row)
        self._ids["working_memory"].discard((row.agent_id, row.user_id, row.thread_id))
        return True

    def conversation_messages(self, agent_id: str, user_id: str | None = None) -> list[Message]:
        """Messages production keeps embeddings of: user and assistant text of the
        agent's conversations (agent_conversation_embeddings)."""
        found = []
        for thread in self.threads.values():
            if thread.agent_id != agent_id or (user_id is not None and thread.user_id != user_id):
                continue
            found.extend(m for m in self.messages.get(thread.id, [])
                         if m.role in ("user", "assistant") and m.content)
        return found

    # ------------------------------------------------------------ threads
    def add_thread(self, thread: Thread) -> None:
        self._claim("threads", thread.id)
        self.threads[thread.id] = thread

    def thread_in_workspace(self, thread_id: str, workspace_id: str) -> Thread | None:
        thread = self.threads.get(thread_id)
        if thread is None or thread.deleted_at is not None or thread.workspace_id != workspace_id:
            return None
        return thread

    def add_message(self, message: Message) -> None:
        self._claim("messages", message.id)
        message.seq = message.seq or self.seq()
        rows = self.messages[message.thread_id]
        rows.append(message)
        if len(rows) > 1 and (rows[-2].created_at, rows[-2].id) > (message.created_at, message.id):
            rows.sort(key=lambda m: (m.created_at, m.id))

    def thread_messages(self, thread_id: str, limit: int = 1000) -> list[Message]:
        return self.messages.get(thread_id, [])[:limit]

    def add_agent_execution(self, run: AgentExecution) -> None:
        self._claim("agent_executions", run.id)
        self.agent_executions[run.id] = run

    # ------------------------------------------------------------ triggers
    def add_trigger(self, trigger: Trigger) -> None:
        self._claim("triggers", trigger.id)
        self.triggers[trigger.id] = trigger
        self._triggers_by_wf[trigger.workflow_id].append(trigger.id)

    def workspace_triggers(self, workspace_id: str) -> list[Trigger]:
        """Triggers of the workspace's first 1000 listed workflows, then a stable
        `created_at DESC` sort, as production does it in memory (§5.5)."""
        found = []
        for wf_id in self.workspace_workflow_ids(workspace_id):
            found.extend(self.triggers[t] for t in self._triggers_by_wf.get(wf_id, ())
                         if self.triggers[t].deleted_at is None)
        found.sort(key=lambda t: t.created_at, reverse=True)
        return found

    # ------------------------------------------------------------ knowledge bases
    def add_knowledge_base(self, kb: KnowledgeBase) -> None:
        self._claim("knowledge_bases", kb.id)
        self.knowledge_bases[kb.id] = kb
        self._kb_by_user[kb.user_id].add(kb.created_at, self.seq(), kb.id)

    def list_knowledge_bases(self, user_id: str, offset: int, limit: int) -> tuple[list[KnowledgeBase], int]:
        return self._page(self._kb_by_user.get(user_id), self.knowledge_bases, offset, limit)

    def knowledge_base_of_user(self, kb_id: str, user_id: str) -> KnowledgeBase | None:
        kb = self.knowledge_bases.get(kb_id)
        return kb if kb is not None and kb.user_id == user_id else None

    def add_document(self, doc: Document) -> None:
        self._claim("documents", doc.id)
        self.documents[doc.knowledge_base_id].append(doc)

    def add_chunk(self, chunk: Chunk) -> None:
        self._claim("chunks", chunk.id)
        self.chunks[chunk.knowledge_base_id].append(chunk)

    def kb_stats(self, kb_id: str, join_inflation: bool = True) -> tuple[int, int]:
        """(document_count, chunk_count); with production's join inflation (§5.6),
        chunks are counted once per document of the knowledge base."""
        docs = len(self.documents.get(kb_id, ()))
        chunks = len(self.chunks.get(kb_id, ()))
        return docs, (chunks * max(1, docs) if join_inflation else chunks)

    def document(self, kb_id: str, doc_id: str) -> Document | None:
        return next((d for d in self.documents.get(kb_id, ()) if d.id == doc_id), None)

    # ------------------------------------------------------------ webhooks
    def add_webhook(self, hook: Webhook) -> None:
        self._claim("webhooks", hook.id)
        self.webhooks[hook.id] = hook
        self._webhook_seq[hook.id] = self.seq()
        if hook.deleted_at is None:
            self._webhooks_by_ws[hook.workspace_id].add(hook.created_at, self._webhook_seq[hook.id], hook.id)

    def list_webhooks(self, workspace_id: str, offset: int, limit: int) -> tuple[list[Webhook], int]:
        return self._page(self._webhooks_by_ws.get(workspace_id), self.webhooks, offset, limit)

    def webhook_in_workspace(self, hook_id: str, workspace_id: str) -> Webhook | None:
        hook = self.webhooks.get(hook_id)
        if hook is None or hook.deleted_at is not None or hook.workspace_id != workspace_id:
            return None
        return hook

    def delete_webhook(self, hook: Webhook, now_ms: int) -> None:
        self._webhooks_by_ws[hook.workspace_id].remove(hook.created_at, self._webhook_seq[hook.id], hook.id)
        hook.deleted_at, hook.is_active = now_ms, False

    def add_delivery(self, delivery: Delivery) -> None:
        self._claim("deliveries", delivery.id)
        self.delivery_rows[delivery.id] = delivery
        self.deliveries[delivery.webhook_id].add(delivery.created_at, delivery.id, str(delivery.id))
        self.next_delivery_id = max(self.next_delivery_id, delivery.id + 1)

    def new_delivery(self, webhook_id: str, event_type: str, payload: dict, now_ms: int) -> Delivery:
        """A `pending` delivery with the next BIGSERIAL id (§8.2)."""
        delivery = Delivery(id=self.next_delivery_id, webhook_id=webhook_id, event_type=event_type,
                            payload=payload, status="pending", attempts=0, max_attempts=5, last_attempt_at=None,
                            next_retry_at=None, response_status=None, response_body=None, error_message=None,
                            created_at=now_ms)
        self.add_delivery(delivery)
        return delivery

    def webhooks_for_event(self, user_id: str, event_type: str) -> list[Webhook]:
        """Production's findByUserAndEvent (§8.1): the *user's* active, live webhooks
        subscribed to `event_type`, in insertion order (the SQL has no ORDER BY)."""
        return [h for h in self.webhooks.values()
                if h.user_id == user_id and h.is_active is True and h.deleted_at is None and event_type in h.events]

    def list_deliveries(self, hook_id: str, offset: int, limit: int) -> tuple[list[Delivery], int]:
        index = self.deliveries.get(hook_id)
        if index is None:
            return [], 0
        return [self.delivery_rows[int(i)] for i in index.page(offset, limit)], len(index)

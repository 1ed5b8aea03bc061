"""`data.generate`: bulk records filled in by faker from the seed, in the first
workspace of the scenario (its owner's user), newest last. Fast enough for
hundreds of thousands of executions: faker names the few, a seeded word list
fills the many."""
from __future__ import annotations

import random

from faker import Faker

from ..store import Store
from ..store.models import (Agent, Chunk, Document, Execution, KnowledgeBase, Message, Thread, Trigger,
                            Webhook, Workflow)

STATUSES = ("completed", "completed", "completed", "failed", "running", "pending", "cancelled", "paused")
STEP_MS = 60_000


def generate(store: Store, counts: dict, seed: int, epoch_ms: int, user_id: str, workspace_id: str) -> None:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(f"fakemaestro-generate:{seed}")
    words = [fake.word() for _ in range(200)]
    at = iter(range(epoch_ms, epoch_ms + 10**13, STEP_MS))
    tenant = {"user_id": user_id, "workspace_id": workspace_id}
    workflows = [_workflow(store, fake, next(at), **tenant) for _ in range(counts.get("workflows", 0))]
    workflows = workflows or [w for w in store.workflows.values() if w.workspace_id == workspace_id]
    _executions(store, rng, words, workflows, counts.get("executions", 0), at)
    agents = [_agent(store, fake, next(at), **tenant) for _ in range(counts.get("agents", 0))]
    agents = agents or [a for a in store.agents.values() if a.workspace_id == workspace_id]
    for _ in range(counts.get("threads", 0) if agents else 0):
        _thread(store, fake, rng.choice(agents), next(at), **tenant)
    for i in range(counts.get("triggers", 0) if workflows else 0):
        _trigger(store, fake, workflows[i % len(workflows)], next(at), rng, workspace_id)
    for _ in range(counts.get("knowledge_bases", 0)):
        _knowledge_base(store, fake, next(at), **tenant)
    for _ in range(counts.get("webhooks", 0)):
        _webhook(store, fake, next(at), **tenant)


def _workflow(store: Store, fake: Faker, at: int, user_id: str, workspace_id: str) -> Workflow:
    definition = {"name": "generated", "nodes": {
        "input_1": {"type": "input", "config": {"variableName": "topic", "inputType": "text", "label": "Topic"}},
        "output_1": {"type": "output", "config": {"outputName": "result", "value": "{{topic}}"}}},
        "edges": [{"id": "e1", "source": "input_1", "target": "output_1"}]}
    wf = Workflow(store.ids.uuid(), user_id, workspace_id, fake.catch_phrase(), fake.sentence(), definition, 1, at, at)
    store.add_workflow(wf)
    return wf


def _executions(store: Store, rng: random.Random, words: list, workflows: list, count: int, at) -> None:
    for _ in range(count if workflows else 0):
        created = next(at)
        status = STATUSES[rng.randrange(len(STATUSES))]
        word = words[rng.randrange(len(words))]
        finished = status in ("completed", "failed")
        store.add_execution(Execution(
            id=store.ids.uuid(), workflow_id=workflows[rng.randrange(len(workflows))].id, status=status,
            inputs={"topic": word}, outputs={"result": word} if status == "completed" else None,
            error=f"Node output_1 failed: {word}" if status == "failed" else None,
            started_at=None if status == "pending" else created + 1000,
            completed_at=created + 3000 if finished else None, created_at=created))


def _agent(store: Store, fake: Faker, at: int, user_id: str, workspace_id: str) -> Agent:
    agent = Agent(store.ids.uuid(), user_id, workspace_id, f"{fake.first_name()} agent", fake.sentence(), "gpt-4o",
                  "openai", fake.sentence(), 0.7, 4000, [], {"type": "buffer", "max_messages": 20}, at, at)
    store.add_agent(agent)
    return agent


def _thread(store: Store, fake: Faker, agent: Agent, at: int, user_id: str, workspace_id: str) -> None:
    thread = Thread(store.ids.uuid(), user_id, workspace_id, agent.id, fake.sentence(nb_words=4), "active",
                    at, at + 2000, at + 2000)
    store.add_thread(thread)
    for offset, role, text in ((0, "user", fake.sentence()), (2000, "assistant", fake.paragraph())):
        store.add_message(Message(store.ids.uuid(), thread.id, None, role, text, None, at + offset))


def _trigger(store: Store, fake: Faker, wf: Workflow, at: int, rng: random.Random, workspace_id: str) -> None:
    kind = rng.choice(("schedule", "webhook", "event", "manual"))
    store.add_trigger(Trigger(store.ids.uuid(), wf.id, workspace_id, f"{kind.title()} {fake.word()}", kind, {},
                              rng.random() < 0.8, 0, None, at, at))


def _knowledge_base(store: Store, fake: Faker, at: int, user_id: str, workspace_id: str) -> None:
    from .loader import KB_CONFIG
    kb = KnowledgeBase(store.ids.uuid(), user_id, workspace_id, f"{fake.word().title()} docs", fake.sentence(),
                       dict(KB_CONFIG), at, at)
    store.add_knowledge_base(kb)
    doc = Document(store.ids.uuid(), kb.id, f"{fake.slug()}.md", fake.text(), at)
    store.add_document(doc)
    for index in range(2):
        store.add_chunk(Chunk(store.ids.uuid(), doc.id, kb.id, index, fake.paragraph(), {"page": index + 1}, at))


def _webhook(store: Store, fake: Faker, at: int, user_id: str, workspace_id: str) -> None:
    store.add_webhook(Webhook(store.ids.uuid(), user_id, workspace_id, fake.word().title(),
                              f"https://{fake.domain_word()}.example.com/hooks", store.ids.webhook_secret(),
                              ["execution.completed"], None, True, at, at))

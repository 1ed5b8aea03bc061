"""Reading a scenario and building the store from it.

A scenario is plain data (YAML or a dict). Everything it leaves out is filled in
deterministically from its `seed`: ids, API keys, webhook secrets. Times given
without a zone are UTC, as production's `timestamp` columns are read.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..clock import parse_instant
from ..http.scopes import ALL_SCOPES, BUNDLES
from . import marked
from .marked import MarkedDict, read_json, read_yaml
from .merge import merge
from .validate import (Problem, ScenarioError, duplicate_problems, prune, rejected_paths, schema_errors,
                       schema_problems, semantic_problems, sort_problems)
from ..ids import IdFactory, key_hash
from ..store import Store
from ..store.models import (Agent, AgentExecution, ApiKey, Chunk, Delivery, Document, Execution, KnowledgeBase,
                            Message, Thread, Trigger, User, Webhook, Workflow, WorkingMemory, Workspace)

DEFAULT_EPOCH = "2026-01-01T00:00:00Z"


@dataclass
class Scenario:
    """A loaded, validated scenario: its data plus where it came from."""
    data: dict
    source: str = "<embedded>"

    @property
    def seed(self) -> int:
        return int(self.data.get("seed", 0))

    def frozen_at_ms(self) -> int | None:
        at = (self.data.get("clock") or {}).get("frozen_at")
        return parse_instant(at) if at is not None else None

    def start_at_ms(self) -> int | None:
        at = (self.data.get("clock") or {}).get("start_at")
        return parse_instant(at) if at is not None else None

    def key_names(self) -> dict[str, str]:
        store = build_store(self)
        return {k.name: k.raw for k in store.keys.values()}

    def extended(self, overlay: "Scenario") -> "Scenario":
        """This scenario with another laid over it (validated as a whole)."""
        combined = Scenario(merge(self.data, overlay.data), f"{self.source} + {overlay.source}")
        return check(combined)


def _operation_ids() -> set[str]:
    from ..resources import operations
    return {op.operation_id for op in operations()}


def _syntax_problem(source: str, line: int, column: int, message: str) -> ScenarioError:
    return ScenarioError([Problem(source, line, column, "(syntax)", message)])


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem, context = getattr(exc, "problem", None), getattr(exc, "context", None)
    if not problem:
        return context or str(exc)
    context_mark = getattr(exc, "context_mark", None)
    if not context or context_mark is None:
        return problem
    where = f"line {context_mark.line + 1}, column {context_mark.column + 1}"
    if not context.startswith("while"):  # e.g. "expected a single document in the stream"
        return f"{context} ({where}), {problem}"
    if any(opened in context for opened in ("flow", "quoted scalar", "simple key")):
        return f"{problem} ({context} started at {where})"  # where the bracket or quote was opened
    return problem


def _read_document(text: str, source: str, syntax: str | None = None) -> marked.Document:
    """The document in `text`: JSON for syntax="json" or a `.json` source, and for text that
    is JSON (a `{`/`[` document the JSON reader accepts: read with JSON's rules, not
    YAML 1.1's); YAML otherwise. Syntax errors become ScenarioErrors."""
    if syntax is None and source.lower().endswith(".json"):
        syntax = "json"
    try:
        if syntax == "json" or (syntax is None and text.lstrip()[:1] in ("{", "[")):
            try:
                return read_json(text, source)
            except ValueError as exc:
                if syntax == "json":
                    raise _syntax_problem(source, getattr(exc, "lineno", 1), getattr(exc, "colno", 1),
                                          f"not valid JSON: {getattr(exc, 'msg', exc)}") from exc
                # not JSON: a YAML flow mapping, read as YAML below
        try:
            return read_yaml(text, source)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise _syntax_problem(source, line, column, f"not valid YAML: {_yaml_message(exc)}") from exc
    except RecursionError:
        raise _syntax_problem(source, 1, 1, "nested too deeply to read") from None


def _parse(text: str, source: str, syntax: str | None = None) -> tuple[Scenario, list[Problem]]:
    """One file's scenario and the problems found in that file alone (duplicate keys,
    schema). Raises ScenarioError when there is no scenario to check at all."""
    document = _read_document(text, source, syntax)
    data = document.value
    if data is None:
        data = MarkedDict()
        data.source, data.mark = source, (source, 1, 1)
    if not isinstance(data, dict):
        _, line, column = document.mark
        raise ScenarioError([Problem(source, line, column, "(top level)", "expected a mapping of scenario sections")])
    problems = duplicate_problems(document.duplicates) + schema_problems(data, source)
    return Scenario(data, source), sort_problems(problems)


def parse_text(text: str, source: str, syntax: str | None = None) -> Scenario:
    """Parse and schema-check one file's text (no cross-references yet).
    `syntax`: "yaml" or "json"; by default JSON for a `.json` source or JSON text."""
    scenario, problems = _parse(text, source, syntax)
    if problems:
        raise ScenarioError(problems)
    return scenario


def _verify(scenario: Scenario, file_problems: list[Problem] | None, sources: list[str]) -> Scenario:
    """Every problem at once: the files' own (or, for data not read from files, the schema's),
    then the references on what the schema accepted; then a trial build."""
    errors = schema_errors(scenario.data)
    problems = list(file_problems or [])
    if errors and not problems:  # data not read from files (or, in theory, a merge the schema rejects)
        problems = schema_problems(scenario.data, scenario.source, errors)
    rejected = rejected_paths(errors)
    data = prune(scenario.data, rejected) if rejected else scenario.data
    problems += semantic_problems(data, _operation_ids(), rejected, scenario.source)
    if problems:
        raise ScenarioError(sort_problems(problems, sources))
    build_store(scenario)
    return scenario


def check(scenario: Scenario) -> Scenario:
    """Schema and cross-reference checks, then a trial build: a scenario that loads always serves."""
    return _verify(scenario, None, scenario.source.split(" + "))


def load_scenario_text(text: str, source: str = "<text>", syntax: str | None = None) -> Scenario:
    scenario, problems = _parse(text, source, syntax)
    return _verify(scenario, problems, [source])


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError([Problem(str(path), 0, 0, "(file)", f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(str(path), 0, 0, "(file)", f"cannot read: not UTF-8 text ({exc.reason} "
                                                                 f"at byte {exc.start})")]) from exc


def load_scenario_file(path: str | Path) -> Scenario:
    return load_scenario_files([path])


def load_scenario_files(paths: list) -> Scenario:
    """Several files, later ones extending or overriding earlier ones. Every file is read
    and checked before any problem is raised, so all of them are reported together."""
    sources = [str(p) for p in paths]
    parsed, problems, unreadable = [], [], []
    for path in paths:
        try:
            scenario, found = _parse(_read(path), str(path))
        except ScenarioError as exc:
            unreadable += exc.problems
            continue
        parsed.append(scenario)
        problems += found
    if unreadable:
        raise ScenarioError(sort_problems(unreadable + problems, sources))
    combined = parsed[0]
    for overlay in parsed[1:]:
        combined = Scenario(merge(combined.data, overlay.data), f"{combined.source} + {overlay.source}")
    return _verify(combined, problems, sources)


class _Builder:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.ids = IdFactory(scenario.seed)
        self.store = Store(self.ids)
        self.epoch = parse_instant(scenario.data.get("epoch", DEFAULT_EPOCH))

    def time(self, value, default: int | None) -> int | None:
        return default if value is None else parse_instant(value)

    def id(self, item: dict) -> str:
        return str(item["id"]) if item.get("id") else self.ids.uuid()


def build_store(scenario: Scenario) -> Store:
    b = _Builder(scenario)
    tenants = scenario.data.get("tenants") or {}
    data = scenario.data.get("data") or {}
    try:
        for item in tenants.get("users", []):
            b.store.add_user(User(b.id(item), item.get("email", ""), item.get("name", "")))
        for item in tenants.get("workspaces", []):
            b.store.add_workspace(Workspace(b.id(item), item.get("name", ""), item.get("owner", "")))
        for item in tenants.get("api_keys", []):
            b.store.add_key(_key(b, item))
        for item in data.get("workflows", []):
            b.store.add_workflow(_workflow(b, item))
        for item in data.get("executions", []):
            b.store.add_execution(_execution(b, item))
        for item in data.get("agents", []):
            b.store.add_agent(_agent(b, item))
        for item in data.get("threads", []):
            _thread(b, item)
        for item in data.get("working_memory", []):
            b.store.add_memory(_memory(b, item))
        for item in data.get("triggers", []):
            b.store.add_trigger(_trigger(b, item))
        for item in data.get("knowledge_bases", []):
            _knowledge_base(b, item)
        for item in data.get("webhooks", []):
            _webhook(b, item)
        _apply_behaviours(b, scenario.data.get("behaviours") or {})
        if data.get("generate"):
            _generate(b, tenants, data["generate"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ScenarioError([Problem(scenario.source, 0, 0, "(data)", f"invalid data: {exc!r}")]) from exc
    return b.store


def _generate(b: _Builder, tenants: dict, counts: dict) -> None:
    from .generate import generate
    workspaces = tenants.get("workspaces") or []
    if not workspaces:
        raise ValueError("data.generate needs at least one workspace in tenants.workspaces")
    first = workspaces[0]
    owner = first.get("owner") or (tenants.get("users") or [{}])[0].get("id")
    generate(b.store, counts, b.scenario.seed, b.epoch, str(owner), str(first["id"]))


def _apply_behaviours(b: _Builder, behaviours: dict) -> None:
    """Agent behaviours drive the simulated agent now; workflow behaviours are kept for
    the execution lifecycle; knowledge-base documents are added to the base."""
    for agent_id, spec in (behaviours.get("agents") or {}).items():
        agent = b.store.agents.get(agent_id)
        if agent is None:
            raise ValueError(f"behaviours.agents: no agent with id {agent_id!r}")
        agent.replies = list(spec.get("replies", []))
        agent.reply_latency_ms = int(spec.get("latency_ms", agent.reply_latency_ms))
        agent.fail_with = spec.get("fail_with", agent.fail_with)
    b.store.workflow_behaviours = dict(behaviours.get("workflows") or {})
    for kb_id, spec in (behaviours.get("knowledge_bases") or {}).items():
        kb = b.store.knowledge_bases.get(kb_id)
        if kb is None:
            raise ValueError(f"behaviours.knowledge_bases: no knowledge base with id {kb_id!r}")
        _documents(b, kb, spec.get("documents", []))


def _key(b: _Builder, item: dict) -> ApiKey:
    scopes = list(BUNDLES[item["bundle"]]) if "bundle" in item else list(item.get("scopes", ALL_SCOPES))
    raw = str(item["key"]) if item.get("key") else b.ids.api_key()
    return ApiKey(id=b.id(item), name=str(item["name"]), raw=raw, key_hash=key_hash(raw), user_id=str(item["user"]),
                  workspace_id=str(item["workspace"]), scopes=scopes, per_minute=int(item.get("per_minute", 60)),
                  per_day=int(item.get("per_day", 10000)), expires_at=b.time(item.get("expires_at"), None),
                  is_active=not item.get("inactive", False) and not _revoked(b, item),
                  revoked_at=_revoked(b, item))


def _revoked(b: _Builder, item: dict) -> int | None:
    if item.get("revoked_at") is not None:
        return b.time(item["revoked_at"], None)
    return b.epoch if item.get("revoked") else None


def _workflow(b: _Builder, item: dict) -> Workflow:
    created = b.time(item.get("created_at"), b.epoch)
    return Workflow(id=b.id(item), user_id=str(item["user"]), workspace_id=str(item["workspace"]),
                    name=item["name"], description=item.get("description"), definition=item.get("definition"),
                    version=int(item.get("version", 1)), created_at=created,
                    updated_at=b.time(item.get("updated_at"), created), deleted_at=b.time(item.get("deleted_at"), None),
                    workflow_type=item.get("workflow_type", "user"))


def _execution(b: _Builder, item: dict) -> Execution:
    return Execution(id=b.id(item), workflow_id=str(item["workflow"]), status=item.get("status", "pending"),
                     inputs=item.get("inputs"), outputs=item.get("outputs"), error=item.get("error"),
                     started_at=b.time(item.get("started_at"), None), completed_at=b.time(item.get("completed_at"), None),
                     created_at=b.time(item.get("created_at"), b.epoch), deleted_at=b.time(item.get("deleted_at"), None))


def _agent(b: _Builder, item: dict) -> Agent:
    created = b.time(item.get("created_at"), b.epoch)
    return Agent(id=b.id(item), user_id=str(item["user"]), workspace_id=str(item["workspace"]), name=item["name"],
                 description=item.get("description"), model=item.get("model", "gpt-4o"),
                 provider=item.get("provider", "openai"), system_prompt=item.get("system_prompt", ""),
                 temperature=item.get("temperature", 0.7), max_tokens=int(item.get("max_tokens", 4000)),
                 available_tools=list(item.get("available_tools", [])),
                 memory_config=item.get("memory_config", {"type": "buffer", "max_messages": 20}),
                 created_at=created, updated_at=b.time(item.get("updated_at"), created),
                 deleted_at=b.time(item.get("deleted_at"), None),
                 reply_latency_ms=int(item.get("reply_latency_ms", 0)), fail_with=item.get("fail_with"))


def _thread(b: _Builder, item: dict) -> None:
    created = b.time(item.get("created_at"), b.epoch)
    thread = Thread(id=b.id(item), user_id=str(item["user"]), workspace_id=str(item["workspace"]),
                    agent_id=str(item["agent"]), title=item.get("title"), status=item.get("status", "active"),
                    created_at=created, updated_at=b.time(item.get("updated_at"), created),
                    last_message_at=b.time(item.get("last_message_at"), None),
                    deleted_at=b.time(item.get("deleted_at"), None))
    b.store.add_thread(thread)
    for run in item.get("runs", []):
        b.store.add_agent_execution(AgentExecution(
            id=b.id(run), agent_id=thread.agent_id, user_id=thread.user_id, thread_id=thread.id,
            status=run.get("status", "completed"), iterations=int(run.get("iterations", 1)),
            tool_calls_count=int(run.get("tool_calls_count", 0)), started_at=b.time(run.get("started_at"), created),
            completed_at=b.time(run.get("completed_at"), None)))
    for m in item.get("messages", []):
        b.store.add_message(Message(id=b.id(m), thread_id=thread.id, execution_id=m.get("execution"),
                                    role=m["role"], content=m.get("content", ""), tool_calls=m.get("tool_calls"),
                                    created_at=b.time(m.get("created_at"), created), tool_name=m.get("tool_name"),
                                    tool_call_id=m.get("tool_call_id")))


def _memory(b: _Builder, item: dict) -> WorkingMemory:
    created = b.time(item.get("created_at"), b.epoch)
    return WorkingMemory(agent_id=str(item["agent"]), user_id=str(item["user"]), working_memory=item["working_memory"],
                         metadata=item.get("metadata", {}), created_at=created,
                         updated_at=b.time(item.get("updated_at"), created), thread_id=item.get("thread"))


def _trigger(b: _Builder, item: dict) -> Trigger:
    created = b.time(item.get("created_at"), b.epoch)
    return Trigger(id=b.id(item), workflow_id=str(item["workflow"]), workspace_id=str(item.get("workspace", "")),
                   name=item["name"], trigger_type=item.get("trigger_type", "manual"), config=item.get("config", {}),
                   enabled=bool(item.get("enabled", True)), trigger_count=int(item.get("trigger_count", 0)),
                   last_triggered_at=b.time(item.get("last_triggered_at"), None), created_at=created,
                   updated_at=b.time(item.get("updated_at"), created), deleted_at=b.time(item.get("deleted_at"), None))


KB_CONFIG = {"embeddingModel": "text-embedding-3-small", "embeddingProvider": "openai",
             "chunkSize": 1000, "chunkOverlap": 200, "embeddingDimensions": 1536}


def _knowledge_base(b: _Builder, item: dict) -> None:
    created = b.time(item.get("created_at"), b.epoch)
    kb = KnowledgeBase(id=b.id(item), user_id=str(item["user"]), workspace_id=str(item["workspace"]),
                       name=item["name"], description=item.get("description"),
                       config={**KB_CONFIG, **item.get("config", {})}, created_at=created,
                       updated_at=b.time(item.get("updated_at"), created))
    b.store.add_knowledge_base(kb)
    _documents(b, kb, item.get("documents", []))


def _documents(b: _Builder, kb: KnowledgeBase, documents: list) -> None:
    for doc in documents:
        document = Document(id=b.id(doc), knowledge_base_id=kb.id, name=doc["name"], content=doc.get("content", ""),
                            created_at=b.time(doc.get("created_at"), kb.created_at))
        b.store.add_document(document)
        for index, chunk in enumerate(doc.get("chunks", [])):
            b.store.add_chunk(Chunk(id=b.id(chunk), document_id=document.id, knowledge_base_id=kb.id,
                                    chunk_index=int(chunk.get("index", index)), content=chunk["content"],
                                    metadata=chunk.get("metadata"),
                                    created_at=b.time(chunk.get("created_at"), kb.created_at)))


def _webhook(b: _Builder, item: dict) -> None:
    created = b.time(item.get("created_at"), b.epoch)
    hook = Webhook(id=b.id(item), user_id=str(item["user"]), workspace_id=str(item["workspace"]), name=item["name"],
                   url=item["url"], secret=item.get("secret") or b.ids.webhook_secret(), events=list(item["events"]),
                   headers=item.get("headers"), is_active=bool(item.get("is_active", True)), created_at=created,
                   updated_at=b.time(item.get("updated_at"), created), deleted_at=b.time(item.get("deleted_at"), None))
    b.store.add_webhook(hook)
    for d in item.get("deliveries", []):
        at = b.time(d.get("created_at"), created)
        b.store.add_delivery(Delivery(
            id=int(d.get("id") or b.store.next_delivery_id), webhook_id=hook.id, event_type=d["event_type"],
            payload=d.get("payload", {}), status=d.get("status", "success"), attempts=int(d.get("attempts", 1)),
            max_attempts=int(d.get("max_attempts", 5)), last_attempt_at=b.time(d.get("last_attempt_at"), None),
            next_retry_at=b.time(d.get("next_retry_at"), None), response_status=d.get("response_status"),
            response_body=d.get("response_body"), error_message=d.get("error_message"), created_at=at))

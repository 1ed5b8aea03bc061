"""The admin API under /_fakemaestro/: what client tests use to drive and inspect
the fake. It is never under /api/v1, never answers in production's envelope and
never shows a traceback: every failure is

    {"admin_error": {"code": "...", "message": "...", "details": {...}}}

with these codes: invalid_scenario (422), unknown_filter (400), bad_request (400),
unauthorized (401), not_found (404), method_not_allowed (405), internal_error (500).

    GET    /_fakemaestro/                      this list of endpoints
    GET    /_fakemaestro/health                {"status": "ok", "scenario", "clock", "frozen"} (never needs the token)
    GET    /_fakemaestro/openapi.yaml          the contract
    GET    /_fakemaestro/scenario.schema.json  the scenario format (JSON Schema)
    POST   /_fakemaestro/reset                 rebuild data, rate windows, fault counters and journal
                                               from the loaded scenario (the clock is left as it is)
    GET    /_fakemaestro/scenario              the loaded scenario as JSON; ?format=yaml for YAML
    PUT    /_fakemaestro/scenario              replace it (body YAML or JSON); 422 and no change when invalid
    POST   /_fakemaestro/scenario              extend it (same merge rules as several --scenario files)
    GET    /_fakemaestro/journal               {"entries", "count"}; filters method, path (glob), operation,
                                               key, status, fault, since, until; limit = only the newest n
    DELETE /_fakemaestro/journal               clear it
    POST   /_fakemaestro/verify                JSON body of the same filters + optional "count":
                                               {"count": n, "matches": n == count}
    GET    /_fakemaestro/clock                 {"now", "now_ms", "frozen"}
    POST   /_fakemaestro/clock                 {"freeze": bool, "set": ISO or ms, "advance_ms": int},
                                               applied in the order freeze, set, advance, unfreeze
    GET    /_fakemaestro/state                 counts per collection; ?collection=NAME (&offset, &limit) dumps one
    GET    /_fakemaestro/state/export          the current store as scenario YAML (loadable again); ?format=json
    GET    /_fakemaestro/faults                {"faults": [rule summaries]}
    POST   /_fakemaestro/faults/{name or index}/enable|disable   the updated summary

A loaded scenario (PUT or POST) that carries a `clock` section sets the clock:
`frozen_at` freezes it there, `start_at` lets it run from there.

With an admin token (create_app(admin_token=...), `fakemaestro serve --admin-token`),
every request here except health needs `Authorization: Bearer TOKEN` or
`X-Admin-Token: TOKEN`.
"""
from __future__ import annotations

import hmac
import json
import logging
from dataclasses import asdict
from datetime import date, datetime
from functools import wraps
from importlib import resources as pkg_resources
from itertools import chain
from typing import Any

import yaml
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .clock import iso, parse_instant
from .journal import FILTERS, BadFilterValue, UnknownFilter
from .scenario import Scenario, ScenarioError
from .scenario.loader import check, parse_text
from .scenario.marked import load_marked, plain
from .scenario.validate import Problem

log = logging.getLogger("fakemaestro.admin")
PREFIX = "/_fakemaestro"
HEALTH = PREFIX + "/health"
REQUEST_SOURCE = "<admin request>"
JSON_TYPE = "application/json"
YAML_TYPE = "application/yaml"
CLOCK_FIELDS = ("freeze", "set", "advance_ms")


# ------------------------------------------------------------------ responses and errors

class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details or {}, headers

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.details, self.headers)


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, default=_json_default).encode("utf-8")
    return Response(body, status, headers={"cache-control": "no-store", **(headers or {})},
                    media_type=JSON_TYPE)


def error_response(status: int, code: str, message: str, details: dict | None = None,
                   headers: dict | None = None) -> Response:
    return json_response({"admin_error": {"code": code, "message": message, "details": details or {}}},
                         status, headers)


def bad_request(message: str, **details) -> AdminError:
    return AdminError(400, "bad_request", message, details)


def _endpoint(handler):
    """Admin errors as our JSON shape; anything unexpected as a 500 of the same shape."""
    @wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except AdminError as exc:
            return exc.response()
        except Exception as exc:  # never a traceback on the wire
            log.exception("admin %s %s failed", request.method, request.url.path)
            return error_response(500, "internal_error", f"{type(exc).__name__}: {exc}")
    return wrapped


async def _http_exception(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return error_response(404, "not_found", f"no admin endpoint {request.url.path}; "
                                                f"GET {PREFIX}/ lists them")
    if exc.status_code == 405:
        return error_response(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}",
                              {"allowed": (exc.headers or {}).get("Allow", "")}, exc.headers)
    return error_response(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error",
                          str(exc.detail))


EXCEPTION_HANDLERS = {HTTPException: _http_exception}


# ------------------------------------------------------------------ token protection

class AdminAuth:
    """Pure ASGI: with a token, every admin request but health must present it."""

    def __init__(self, app, token: str | None = None) -> None:
        if token is not None and not token:
            raise ValueError("admin_token must not be empty")
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send) -> None:
        if (self.token is None or scope["type"] != "http" or not scope["path"].startswith(PREFIX + "/")
                or scope["path"] == HEALTH or self._presented(scope)):
            await self.app(scope, receive, send)
            return
        response = error_response(401, "unauthorized",
                                  "the admin API needs the admin token: send 'Authorization: Bearer TOKEN' "
                                  "or 'X-Admin-Token: TOKEN'",
                                  headers={"www-authenticate": 'Bearer realm="fakemaestro-admin"'})
        await response(scope, receive, send)

    def _presented(self, scope) -> bool:
        wanted = self.token.encode("utf-8")
        for name, value in scope["headers"]:
            name = name.lower()
            if name == b"x-admin-token" and hmac.compare_digest(value.strip(), wanted):
                return True
            if name == b"authorization":
                scheme, _, credentials = value.strip().partition(b" ")
                if scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), wanted):
                    return True
        return False


# ------------------------------------------------------------------ helpers

def _problem_dict(p: Problem) -> dict:
    return {"file": p.source, "line": p.line, "column": p.column, "path": p.path, "message": p.message,
            "text": str(p)}


def _invalid(exc: ScenarioError) -> AdminError:
    count = len(exc.problems)
    return AdminError(422, "invalid_scenario",
                      f"the scenario has {count} problem{'s' if count != 1 else ''}; nothing was changed",
                      {"problems": [_problem_dict(p) for p in exc.problems]})


def _only(request: Request, allowed: tuple) -> None:
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise bad_request(f"unknown query parameter(s) {', '.join(unknown)}; valid: {', '.join(allowed) or 'none'}",
                          valid=list(allowed))


def _int_param(request: Request, name: str, default: int | None = None, minimum: int = 0) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer; got {raw!r}") from None
    if value < minimum:
        raise bad_request(f"{name} must be at least {minimum}; got {value}")
    return value


def _format(request: Request, default: str) -> str:
    fmt = request.query_params.get("format", default).lower()
    if fmt not in ("json", "yaml"):
        raise bad_request(f"format must be json or yaml; got {fmt!r}")
    return fmt


def _instant(value: Any, name: str) -> int:
    """ISO-8601 text (with or without fractional seconds or a zone) or epoch milliseconds
    (a number or a string of digits) -> epoch milliseconds, within years 1..9999."""
    if isinstance(value, bool):
        raise bad_request(f"{name} must be an ISO-8601 time or epoch milliseconds; got {json.dumps(value)}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, (int, str, datetime)):
        try:
            return parse_instant(value)
        except (ValueError, TypeError, OverflowError):
            pass
    raise bad_request(f"{name} must be an ISO-8601 time or epoch milliseconds; got {json.dumps(value, default=str)}")


def _plain_value(value: Any) -> Any:
    """Data safe for yaml.safe_dump and json: dict subclasses as dicts, odd values as text."""
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float, date, datetime)):
        return value
    return str(value)


def _yaml(data: Any, header: str = "") -> Response:
    text = header + yaml.safe_dump(_plain_value(data), sort_keys=False, allow_unicode=True, width=120)
    return Response(text, media_type=YAML_TYPE, headers={"cache-control": "no-store"})


async def _json_body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise bad_request(f"the body must be a JSON object: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body


async def _scenario_body(request: Request) -> Scenario:
    """The body as a schema-checked scenario (YAML or JSON, by content type or by sniffing)."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad_request(f"the body must be UTF-8 text: {exc}") from None
    if not text.strip():
        raise bad_request("the body is empty: send a scenario as YAML or JSON")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = ctype == JSON_TYPE or ctype.endswith("+json")
    is_yaml = ctype in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
    if not is_json and not is_yaml and text.lstrip()[:1] in ("{", "["):
        is_json = _is_json(text)  # sniffed; a YAML flow mapping is read as YAML
    try:
        if not is_json:
            return parse_text(text, REQUEST_SOURCE)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ScenarioError([Problem(REQUEST_SOURCE, exc.lineno, exc.colno, "(syntax)",
                                         f"not valid JSON: {exc.msg}")]) from None
        # The YAML reader keeps positions for problems and reads almost all JSON the same;
        # JSON it reads differently (1e5, tabs...) is checked as the JSON parser read it.
        if not _yaml_reads_the_same(text, data):
            text = yaml.safe_dump(data, sort_keys=False)
        return parse_text(text, REQUEST_SOURCE)
    except ScenarioError as exc:
        raise _invalid(exc) from None


def _yaml_reads_the_same(text: str, data: Any) -> bool:
    try:
        return plain(load_marked(text, REQUEST_SOURCE)) == data
    except yaml.YAMLError:
        return False


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _clock_view(state) -> dict:
    now = state.clock.now_ms()
    return {"now": iso(now), "now_ms": now, "frozen": state.clock.frozen}


def _clock_plan(data: dict):
    """What a loaded scenario's `clock` section asks of the clock, as a function to run
    once the scenario is in (worked out before, so nothing can fail half-way)."""
    section = data.get("clock") or {}
    if section.get("frozen_at") is not None:
        at = _instant(section["frozen_at"], "clock.frozen_at")
        return lambda clock: clock.freeze(at)
    if section.get("start_at") is not None:
        at = _instant(section["start_at"], "clock.start_at")

        def start(clock) -> None:
            clock.set(at)
            clock.unfreeze()
        return start
    return lambda clock: None


def _checked(build) -> Scenario:
    """Cross-checks and a trial build; whatever stops a scenario from loading is a 422."""
    try:
        return build()
    except ScenarioError as exc:
        raise _invalid(exc) from None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a loader gap: still the request's fault
        raise _invalid(ScenarioError([Problem(REQUEST_SOURCE, 0, 0, "(scenario)",
                                              f"cannot be loaded: {type(exc).__name__}: {exc}")])) from None


def _loaded(state) -> dict:
    return {"loaded": True, "scenario": state.scenario.source,
            "keys": {k.name: k.raw for k in state.store.keys.values()},
            "faults": [r.name for r in state.faults.rules], **_clock_view(state)}


# ------------------------------------------------------------------ journal filters

def _criteria(raw: dict) -> dict:
    unknown = sorted(set(raw) - set(FILTERS))
    if unknown:
        raise AdminError(400, "unknown_filter",
                         f"unknown filter(s) {', '.join(unknown)}; valid filters: {', '.join(FILTERS)}",
                         {"unknown": unknown, "valid_filters": list(FILTERS)})
    criteria = dict(raw)
    for name in ("since", "until"):  # instants, compared as instants by the journal
        if name in criteria:
            criteria[name] = _instant(criteria[name], name)
    return criteria


def _select(state, criteria: dict) -> list:
    try:
        return state.journal.select(criteria)
    except UnknownFilter as exc:
        raise AdminError(400, "unknown_filter", str(exc), {"valid_filters": list(FILTERS)}) from None
    except BadFilterValue as exc:
        raise bad_request(str(exc)) from None


# ------------------------------------------------------------------ store dump and export

def collections(store) -> dict:
    """Every collection of the store as an iterable of records, by name."""
    return {
        "users": store.users.values(), "workspaces": store.workspaces.values(), "api_keys": store.keys.values(),
        "workflows": store.workflows.values(), "executions": store.executions.values(),
        "agents": store.agents.values(), "threads": store.threads.values(),
        "messages": chain.from_iterable(store.messages.values()),
        "agent_executions": store.agent_executions.values(),
        "working_memory": chain.from_iterable(store.memory.values()),
        "triggers": store.triggers.values(), "knowledge_bases": store.knowledge_bases.values(),
        "documents": chain.from_iterable(store.documents.values()),
        "chunks": chain.from_iterable(store.chunks.values()),
        "webhooks": store.webhooks.values(), "deliveries": store.delivery_rows.values(),
    }


def _some(record: dict, keep_none: tuple = ()) -> dict:
    """Drop what the loader would default to None anyway."""
    return {k: v for k, v in record.items() if v is not None or k in keep_none}


def _t(ms: int | None) -> str | None:
    return iso(ms)


def export_scenario(state) -> dict:
    """The current store as scenario data: every record explicit (ids, keys, secrets,
    times), so loading it gives the same records; the loaded scenario's settings
    (seed, epoch, profile, quirks, clock, workflow behaviours, faults with their
    current enabled flags) carry over."""
    store, source = state.store, state.scenario.data
    out: dict = {}
    for name in ("name", "description", "seed", "epoch", "profile", "quirks", "clock"):
        if name in source:
            out[name] = plain(source[name])
    out["seed"] = state.scenario.seed
    out["tenants"] = {
        "users": [_some({"id": u.id, "email": u.email, "name": u.name}) for u in store.users.values()],
        "workspaces": [_some({"id": w.id, "name": w.name, "owner": w.owner_id or None})
                       for w in store.workspaces.values()],
        "api_keys": [_api_key(k) for k in store.keys.values()],
    }
    runs: dict[str, list] = {}
    for run in store.agent_executions.values():
        runs.setdefault(run.thread_id, []).append(run)
    data = {
        "workflows": [_some({"id": w.id, "user": w.user_id, "workspace": w.workspace_id, "name": w.name,
                             "description": w.description, "definition": w.definition, "version": w.version,
                             "created_at": _t(w.created_at), "updated_at": _t(w.updated_at),
                             "deleted_at": _t(w.deleted_at), "workflow_type": w.workflow_type},
                            keep_none=("workflow_type",)) for w in store.workflows.values()],
        "executions": [_some({"id": e.id, "workflow": e.workflow_id, "status": e.status, "inputs": e.inputs,
                              "outputs": e.outputs, "error": e.error, "started_at": _t(e.started_at),
                              "completed_at": _t(e.completed_at), "created_at": _t(e.created_at),
                              "deleted_at": _t(e.deleted_at)}) for e in store.executions.values()],
        "agents": [_some({"id": a.id, "user": a.user_id, "workspace": a.workspace_id, "name": a.name,
                          "description": a.description, "model": a.model, "provider": a.provider,
                          "system_prompt": a.system_prompt, "temperature": a.temperature,
                          "max_tokens": a.max_tokens, "available_tools": a.available_tools,
                          "memory_config": a.memory_config, "created_at": _t(a.created_at),
                          "updated_at": _t(a.updated_at), "deleted_at": _t(a.deleted_at),
                          "reply_latency_ms": a.reply_latency_ms, "fail_with": a.fail_with})
                   for a in store.agents.values()],
        "threads": [_thread(store, t, runs.get(t.id, [])) for t in store.threads.values()],
        "working_memory": [_some({"agent": m.agent_id, "user": m.user_id, "working_memory": m.working_memory,
                                  "metadata": m.metadata, "created_at": _t(m.created_at),
                                  "updated_at": _t(m.updated_at), "thread": m.thread_id})
                           for m in chain.from_iterable(store.memory.values())],
        "triggers": [_some({"id": t.id, "workflow": t.workflow_id, "workspace": t.workspace_id or None, "name": t.name,
                            "trigger_type": t.trigger_type, "config": t.config, "enabled": t.enabled,
                            "trigger_count": t.trigger_count, "last_triggered_at": _t(t.last_triggered_at),
                            "created_at": _t(t.created_at), "updated_at": _t(t.updated_at),
                            "deleted_at": _t(t.deleted_at)}) for t in store.triggers.values()],
        "knowledge_bases": [_knowledge_base(store, kb) for kb in store.knowledge_bases.values()],
        "webhooks": [_webhook(store, h) for h in store.webhooks.values()],
    }
    out["data"] = {name: items for name, items in data.items() if items}
    behaviours: dict = {}
    if store.workflow_behaviours:
        behaviours["workflows"] = plain(store.workflow_behaviours)
    replies = {a.id: {"replies": list(a.replies)} for a in store.agents.values() if a.replies}
    if replies:
        behaviours["agents"] = replies
    if behaviours:
        out["behaviours"] = behaviours
    if source.get("faults"):
        faults = [dict(plain(rule)) for rule in source["faults"]]
        for rule, engine_rule in zip(faults, state.faults.rules):
            rule["enabled"] = engine_rule.enabled
        out["faults"] = faults
    return _plain_value(out)


def _api_key(k) -> dict:
    record = {"name": k.name, "id": k.id, "key": k.raw, "user": k.user_id, "workspace": k.workspace_id,
              "scopes": list(k.scopes), "per_minute": k.per_minute, "per_day": k.per_day,
              "expires_at": _t(k.expires_at), "revoked_at": _t(k.revoked_at)}
    if not k.is_active and k.revoked_at is None:
        record["inactive"] = True
    return _some(record)


def _thread(store, t, runs: list) -> dict:
    record = _some({"id": t.id, "user": t.user_id, "workspace": t.workspace_id, "agent": t.agent_id,
                    "title": t.title, "status": t.status, "created_at": _t(t.created_at),
                    "updated_at": _t(t.updated_at), "last_message_at": _t(t.last_message_at),
                    "deleted_at": _t(t.deleted_at)})
    if runs:
        record["runs"] = [_some({"id": r.id, "status": r.status, "iterations": r.iterations,
                                 "tool_calls_count": r.tool_calls_count, "started_at": _t(r.started_at),
                                 "completed_at": _t(r.completed_at)}) for r in runs]
    messages = store.messages.get(t.id, [])
    if messages:
        record["messages"] = [_some({"id": m.id, "role": m.role, "content": m.content, "tool_calls": m.tool_calls,
                                     "created_at": _t(m.created_at), "execution": m.execution_id,
                                     "tool_name": m.tool_name, "tool_call_id": m.tool_call_id})
                              for m in messages]
    return record


def _knowledge_base(store, kb) -> dict:
    record = _some({"id": kb.id, "user": kb.user_id, "workspace": kb.workspace_id, "name": kb.name,
                    "description": kb.description, "config": kb.config, "created_at": _t(kb.created_at),
                    "updated_at": _t(kb.updated_at)})
    chunks: dict[str, list] = {}
    for chunk in store.chunks.get(kb.id, []):
        chunks.setdefault(chunk.document_id, []).append(chunk)
    documents = []
    for doc in store.documents.get(kb.id, []):
        entry = _some({"id": doc.id, "name": doc.name, "content": doc.content, "created_at": _t(doc.created_at)})
        if chunks.get(doc.id):
            entry["chunks"] = [_some({"id": c.id, "content": c.content, "metadata": c.metadata,
                                      "index": c.chunk_index, "created_at": _t(c.created_at)})
                               for c in chunks[doc.id]]
        documents.append(entry)
    if documents:
        record["documents"] = documents
    return record


def _webhook(store, h) -> dict:
    record = _some({"id": h.id, "user": h.user_id, "workspace": h.workspace_id, "name": h.name, "url": h.url,
                    "secret": h.secret, "events": list(h.events), "headers": h.headers, "is_active": h.is_active,
                    "created_at": _t(h.created_at), "updated_at": _t(h.updated_at),
                    "deleted_at": _t(h.deleted_at)})
    deliveries = [d for d in store.delivery_rows.values() if d.webhook_id == h.id]
    if deliveries:
        record["deliveries"] = [_some({"id": d.id, "event_type": d.event_type, "payload": d.payload,
                                       "status": d.status, "attempts": d.attempts, "max_attempts": d.max_attempts,
                                       "last_attempt_at": _t(d.last_attempt_at),
                                       "next_retry_at": _t(d.next_retry_at), "response_status": d.response_status,
                                       "response_body": d.response_body, "error_message": d.error_message,
                                       "created_at": _t(d.created_at)}) for d in deliveries]
    return record


# ------------------------------------------------------------------ routes

def admin_routes(state) -> list[Route]:
    """The admin endpoints for one AppState (see the module docstring)."""

    async def index(request: Request) -> Response:
        return json_response({"endpoints": endpoints})

    async def health(request: Request) -> Response:
        return json_response({"status": "ok", "scenario": state.scenario.source,
                              "clock": iso(state.clock.now_ms()), "frozen": state.clock.frozen})

    async def openapi(request: Request) -> Response:
        from .app import openapi_text
        return Response(openapi_text(), media_type=YAML_TYPE)

    async def scenario_schema(request: Request) -> Response:
        text = pkg_resources.files("fakemaestro").joinpath("scenario.schema.json").read_text(encoding="utf-8")
        return Response(text, media_type="application/schema+json")

    async def reset(request: Request) -> Response:
        state.reset()
        return json_response({"reset": True, "scenario": state.scenario.source})

    async def get_scenario(request: Request) -> Response:
        _only(request, ("format",))
        if _format(request, "json") == "yaml":
            return _yaml(plain(state.scenario.data))
        return json_response(state.scenario.data)

    async def put_scenario(request: Request) -> Response:
        parsed = await _scenario_body(request)
        scenario = _checked(lambda: check(parsed))
        apply_clock = _clock_plan(parsed.data)
        state.load(scenario)  # fully validated: nothing is changed before this line
        apply_clock(state.clock)
        return json_response(_loaded(state))

    async def extend_scenario(request: Request) -> Response:
        overlay = await _scenario_body(request)
        scenario = _checked(lambda: state.scenario.extended(overlay))
        apply_clock = _clock_plan(overlay.data)
        state.load(scenario)
        apply_clock(state.clock)
        return json_response(_loaded(state))

    async def get_journal(request: Request) -> Response:
        raw = {k: v for k, v in request.query_params.items() if k != "limit"}
        limit = _int_param(request, "limit")
        entries = _select(state, _criteria(raw))
        shown = entries if limit is None else entries[max(0, len(entries) - limit):] if limit else []
        return json_response({"entries": [e.as_dict() for e in shown], "count": len(entries)})

    async def clear_journal(request: Request) -> Response:
        _only(request, ())
        state.journal.clear()
        return json_response({"cleared": True})

    async def verify(request: Request) -> Response:
        body = await _json_body(request)
        expected = body.pop("count", None)
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int) or expected < 0):
            raise bad_request(f"count must be a non-negative integer; got {json.dumps(expected)}")
        count = len(_select(state, _criteria(body)))
        answer: dict = {"count": count}
        if expected is not None:
            answer.update(expected=expected, matches=count == expected)
        return json_response(answer)

    async def get_clock(request: Request) -> Response:
        return json_response(_clock_view(state))

    async def set_clock(request: Request) -> Response:
        body = await _json_body(request)
        unknown = sorted(set(body) - set(CLOCK_FIELDS))
        if unknown:
            raise bad_request(f"unknown field(s) {', '.join(unknown)}; valid fields: {', '.join(CLOCK_FIELDS)}",
                              valid=list(CLOCK_FIELDS))
        freeze = body.get("freeze")
        if freeze is not None and not isinstance(freeze, bool):
            raise bad_request(f"freeze must be true or false; got {json.dumps(freeze)}")
        at = _instant(body["set"], "set") if body.get("set") is not None else None
        advance = body.get("advance_ms")
        if advance is not None:
            if isinstance(advance, bool) or not isinstance(advance, (int, float)) or advance != int(advance):
                raise bad_request(f"advance_ms must be an integer; got {json.dumps(advance)}")
            advance = int(advance)
        clock = state.clock  # everything checked: now apply, in order
        if freeze is True:
            clock.freeze()
        if at is not None:
            clock.set(at)
        if advance:
            clock.advance(advance)
        if freeze is False:
            clock.unfreeze()
        await state.world.flush()  # what the move made due (runs, webhook sends) is done on return
        return json_response(_clock_view(state))

    async def get_state(request: Request) -> Response:
        _only(request, ("collection", "offset", "limit"))
        tables = collections(state.store)
        name = request.query_params.get("collection")
        if name is None:
            if "offset" in request.query_params or "limit" in request.query_params:
                raise bad_request("offset and limit need a collection")
            return json_response({"scenario": state.scenario.source,
                                  "counts": {n: sum(1 for _ in rows) for n, rows in tables.items()}})
        if name not in tables:
            raise bad_request(f"unknown collection {name!r}; collections: {', '.join(tables)}",
                              collections=list(tables))
        rows = list(tables[name])
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit")
        page = rows[offset:] if limit is None else rows[offset:offset + limit]
        return json_response({"collection": name, "count": len(rows), "records": [asdict(r) for r in page]})

    async def export_state(request: Request) -> Response:
        _only(request, ("format",))
        data = export_scenario(state)
        if _format(request, "yaml") == "json":
            return json_response(data)
        header = (f"# FakeMaestro store export of {state.scenario.source}, at {iso(state.clock.now_ms())}.\n"
                  "# Every record is explicit; load it with `fakemaestro serve --scenario FILE` or PUT it to\n"
                  "# /_fakemaestro/scenario.\n")
        return _yaml(data, header)

    async def list_faults(request: Request) -> Response:
        return json_response({"faults": [r.summary() for r in state.faults.rules]})

    def _toggle(enabled: bool):
        async def toggle(request: Request) -> Response:
            ident = request.path_params["rule"]
            rule = state.faults.by_name_or_index(ident)
            if rule is None:
                raise AdminError(404, "not_found", f"no fault rule named or numbered {ident!r}",
                                 {"rules": [r.name for r in state.faults.rules]})
            rule.enabled = enabled
            return json_response(rule.summary())
        return toggle

    table = {
        "/": {"GET": index},
        "/health": {"GET": health},
        "/openapi.yaml": {"GET": openapi},
        "/scenario.schema.json": {"GET": scenario_schema},
        "/reset": {"POST": reset},
        "/scenario": {"GET": get_scenario, "PUT": put_scenario, "POST": extend_scenario},
        "/journal": {"GET": get_journal, "DELETE": clear_journal},
        "/verify": {"POST": verify},
        "/clock": {"GET": get_clock, "POST": set_clock},
        "/state": {"GET": get_state},
        "/state/export": {"GET": export_state},
        "/faults": {"GET": list_faults},
        "/faults/{rule:path}/enable": {"POST": _toggle(True)},
        "/faults/{rule:path}/disable": {"POST": _toggle(False)},
    }
    endpoints = [f"{method} {PREFIX}{path.replace(':path', '')}" for path, methods in table.items()
                 for method in methods]
    return [Route(PREFIX + path, _endpoint(_dispatch(methods)), methods=list(methods))
            for path, methods in table.items()]


def _dispatch(handlers: dict):
    """One route per path (so a wrong method gets a 405 naming every allowed one)."""
    async def handler(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)
    return handler

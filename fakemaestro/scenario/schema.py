"""The scenario format as JSON Schema (draft 2020-12): the one description that the
loader validates against, editors complete from (`fakemaestro/scenario.schema.json`,
regenerate with `python -m fakemaestro.scenario.schema`), and docs/scenarios.md explains.
"""
from __future__ import annotations

import json
import sys

from ..http.scopes import ALL_SCOPES, BUNDLES
from ..profile import QUIRKS

ERROR_CODES = ["rate_limit_exceeded", "service_unavailable", "internal_error", "execution_failed",
               "invalid_api_key", "expired_api_key", "revoked_api_key", "insufficient_scope", "timeout",
               "resource_not_found", "validation_error", "not_implemented",
               "framework_500", "framework_502", "framework_504"]
EXECUTION_STATUSES = ["pending", "running", "paused", "completed", "failed", "cancelled"]
WEBHOOK_EVENTS = ["execution.started", "execution.completed", "execution.failed", "execution.cancelled",
                  "thread.message.created", "thread.message.completed", "thread.message.failed",
                  "agent.execution.started", "agent.execution.completed", "agent.execution.failed"]

# A time: ISO-8601 text (or any YAML timestamp form) or epoch milliseconds. The custom `format`
# is checked by validate.py (clock.parse_instant must read it); other tools ignore it.
TIME_FORMAT = "fakemaestro-time"
TIME_FORMS = "ISO-8601 time (UTC when no zone is given) or epoch milliseconds"
TIME = {"type": ["string", "integer"], "format": TIME_FORMAT, "description": TIME_FORMS}
ID = {"type": "string", "minLength": 1}
NULLABLE_TIME = {"type": ["string", "integer", "null"], "format": TIME_FORMAT,
                 "description": f"{TIME_FORMS}, or null"}
NAMES = {"type": ["string", "array"], "items": {"type": "string"}}
TEXT_OR_NULL = {"type": ["string", "null"]}


def obj(properties: dict, required: tuple = (), description: str = "") -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def array_of(ref: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/$defs/{ref}"}}


DEFS = {
    "user": obj({"id": ID, "email": {"type": "string"}, "name": {"type": "string"}}, ("id",)),
    "workspace": obj({"id": ID, "name": {"type": "string"}, "owner": ID}, ("id",)),
    "api_key": obj({
        "name": {"type": "string", "minLength": 1, "description": "how tests and `fakemaestro keys` refer to it"},
        "id": ID,
        "key": {"type": "string", "pattern": "^fm_live_", "description": "raw key; generated from the seed if absent"},
        "user": ID, "workspace": ID,
        "scopes": {"type": "array", "items": {"enum": list(ALL_SCOPES)}},
        "bundle": {"enum": list(BUNDLES)},
        "per_minute": {"type": "integer", "minimum": 0},
        "per_day": {"type": "integer", "minimum": 0},
        "expires_at": NULLABLE_TIME, "revoked_at": NULLABLE_TIME,
        "revoked": {"type": "boolean", "description": "revoked at the scenario's epoch"},
        "inactive": {"type": "boolean"},
    }, ("name", "user", "workspace")),
    "workflow": obj({"id": ID, "user": ID, "workspace": ID, "name": {"type": "string"},
                     "description": TEXT_OR_NULL, "definition": {}, "version": {"type": "integer"},
                     "created_at": TIME, "updated_at": TIME, "deleted_at": NULLABLE_TIME,
                     "workflow_type": TEXT_OR_NULL}, ("user", "workspace", "name")),
    "execution": obj({"id": ID, "workflow": ID, "status": {"enum": EXECUTION_STATUSES}, "inputs": {},
                      "outputs": {}, "error": TEXT_OR_NULL, "started_at": NULLABLE_TIME,
                      "completed_at": NULLABLE_TIME, "created_at": TIME, "deleted_at": NULLABLE_TIME},
                     ("workflow",)),
    "tool": obj({"id": ID, "name": {"type": "string"}, "description": {"type": "string"},
                 "type": {"enum": ["workflow", "function", "knowledge_base", "agent", "mcp", "builtin"]},
                 "schema": {}, "config": {}}, ("name", "type")),
    "agent": obj({"id": ID, "user": ID, "workspace": ID, "name": {"type": "string"}, "description": TEXT_OR_NULL,
                  "model": {"type": "string"}, "provider": {"type": "string"}, "system_prompt": {"type": "string"},
                  "temperature": {"type": "number"}, "max_tokens": {"type": "integer"},
                  "available_tools": array_of("tool"), "memory_config": {"type": "object"},
                  "created_at": TIME, "updated_at": TIME, "deleted_at": NULLABLE_TIME,
                  "reply_latency_ms": {"type": "integer", "minimum": 0}, "fail_with": TEXT_OR_NULL},
                 ("user", "workspace", "name")),
    "message": obj({"id": ID, "role": {"enum": ["user", "assistant", "system", "tool"]},
                    "content": {"type": "string"}, "tool_calls": {"type": ["array", "null"]},
                    "created_at": TIME, "execution": ID, "tool_name": TEXT_OR_NULL,
                    "tool_call_id": TEXT_OR_NULL}, ("role",)),
    "agent_run": obj({"id": ID, "status": {"enum": ["running", "completed", "failed", "cancelled"]},
                      "iterations": {"type": "integer"}, "tool_calls_count": {"type": "integer"},
                      "started_at": TIME, "completed_at": NULLABLE_TIME}),
    "thread": obj({"id": ID, "user": ID, "workspace": ID, "agent": ID, "title": TEXT_OR_NULL,
                   "status": {"enum": ["active", "archived", "deleted"]}, "created_at": TIME, "updated_at": TIME,
                   "last_message_at": NULLABLE_TIME, "deleted_at": NULLABLE_TIME,
                   "runs": array_of("agent_run"), "messages": array_of("message")}, ("user", "workspace", "agent")),
    "working_memory": obj({"agent": ID, "user": ID, "working_memory": {"type": "string"},
                           "metadata": {"type": "object"}, "created_at": TIME, "updated_at": TIME,
                           "thread": ID}, ("agent", "user", "working_memory")),
    "trigger": obj({"id": ID, "workflow": ID, "workspace": ID, "name": {"type": "string"},
                    "trigger_type": {"enum": ["schedule", "webhook", "event", "manual"]}, "config": {"type": "object"},
                    "enabled": {"type": "boolean"}, "trigger_count": {"type": "integer"},
                    "last_triggered_at": NULLABLE_TIME, "created_at": TIME, "updated_at": TIME,
                    "deleted_at": NULLABLE_TIME}, ("workflow", "name")),
    "chunk": obj({"id": ID, "content": {"type": "string"}, "metadata": {"type": ["object", "null"]},
                  "index": {"type": "integer"}, "created_at": TIME}, ("content",)),
    "document": obj({"id": ID, "name": {"type": "string"}, "content": {"type": "string"}, "created_at": TIME,
                     "chunks": array_of("chunk")}, ("name",)),
    "knowledge_base": obj({"id": ID, "user": ID, "workspace": ID, "name": {"type": "string"},
                           "description": TEXT_OR_NULL, "config": {"type": "object"}, "created_at": TIME,
                           "updated_at": TIME, "documents": array_of("document")}, ("user", "workspace", "name")),
    "delivery": obj({"id": {"type": ["integer", "string"], "pattern": "^[0-9]+$"},
                     "event_type": {"enum": WEBHOOK_EVENTS}, "payload": {"type": "object"},
                     "status": {"enum": ["pending", "success", "failed", "retrying"]},
                     "attempts": {"type": "integer"}, "max_attempts": {"type": "integer"},
                     "last_attempt_at": NULLABLE_TIME, "next_retry_at": NULLABLE_TIME,
                     "response_status": {"type": ["integer", "null"]}, "response_body": TEXT_OR_NULL,
                     "error_message": TEXT_OR_NULL, "created_at": TIME}, ("event_type",)),
    "webhook": obj({"id": ID, "user": ID, "workspace": ID, "name": {"type": "string"}, "url": {"type": "string"},
                    "secret": {"type": "string"}, "events": {"type": "array", "items": {"enum": WEBHOOK_EVENTS}},
                    "headers": {"type": ["object", "null"]}, "is_active": {"type": "boolean"},
                    "created_at": TIME, "updated_at": TIME, "deleted_at": NULLABLE_TIME,
                    "deliveries": array_of("delivery")}, ("user", "workspace", "name", "url", "events")),
    "generate": obj({name: {"type": "integer", "minimum": 0, "maximum": 1_000_000} for name in
                     ("workflows", "executions", "agents", "threads", "triggers", "knowledge_bases", "webhooks")},
                    description="counts of extra records faker fills in from the seed, in the first workspace"),
    "workflow_behaviour": obj({"outcome": {"enum": ["completed", "failed", "paused", "pending"],
                                           "description": "pending: the engine never picks the execution up"},
                               "duration_ms": {"type": "integer", "minimum": 0}, "outputs": {},
                               "error": {"type": "string"}, "nodes": {"type": "array", "items": {"type": "string"}}}),
    "agent_reply": obj({"pattern": {"type": "string", "description": "case-insensitive regular expression"},
                        "reply": {"type": "string"}, "tool_calls": array_of("tool_call")}, ("reply",)),
    "tool_call": obj({"name": {"type": "string"}, "arguments": {"type": "object"}, "id": {"type": "string"},
                      "result": {"description": "the tool message's content (non-text is sent as JSON)"}},
                     ("name",)),
    "agent_behaviour": obj({"replies": array_of("agent_reply"), "latency_ms": {"type": "integer", "minimum": 0},
                            "fail_with": {"type": "string"}}),
    "kb_behaviour": obj({"documents": array_of("document")}),
    "match": obj({
        "operation": {**NAMES, "description": "operationId(s) from openapi.yaml"},
        "method": NAMES,
        "path": {"type": "string", "description": "glob on the request path, e.g. /api/v1/workflows*"},
        "key": {**NAMES, "description": "API key name(s) from tenants.api_keys"},
        "tenant": {**NAMES, "description": "workspace id(s) of the requesting key"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "query": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": {"type": "object", "description": "dotted path -> value the JSON body must hold"},
    }),
    "when": obj({
        "first": {"type": "integer", "minimum": 1, "description": "the first N matching requests"},
        "after": {"type": "integer", "minimum": 0, "description": "every matching request after the first N"},
        "every": {"type": "integer", "minimum": 1, "description": "every Nth matching request"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "from": TIME, "until": TIME,
        "during_ms": {"type": "integer", "minimum": 1,
                      "description": "for this long after the rule's first matching request"},
        "times": {"type": "integer", "minimum": 1, "description": "fire at most N times"},
    }),
    "latency": obj({"fixed_ms": {"type": "number", "minimum": 0},
                    "uniform_ms": {"type": "array", "items": {"type": "number", "minimum": 0},
                                   "minItems": 2, "maxItems": 2, "description": "two numbers [low, high]"},
                    "lognormal": obj({"median_ms": {"type": "number", "exclusiveMinimum": 0},
                                      "sigma": {"type": "number", "minimum": 0}}, ("median_ms", "sigma"))}),
    "do": obj({
        "error": {"enum": ERROR_CODES, "description": "an error from production's catalogue, rendered as production does"},
        "message": {"type": "string"}, "retry_after": {"type": "integer", "minimum": 0},
        "window": {"enum": ["minute", "day"]},
        "status": {"type": "integer", "minimum": 100, "maximum": 599}, "body": {},
        "headers": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        "latency": {"$ref": "#/$defs/latency"},
        "connection": {"enum": ["reset", "close"]},
        "truncate_at": {"type": "integer", "minimum": 0, "description": "send only this many body bytes, then close"},
        "malformed_json": {"type": "boolean"},
        "drip": obj({"chunk_bytes": {"type": "integer", "minimum": 1},
                     "interval_ms": {"type": "number", "minimum": 0}}, ("chunk_bytes", "interval_ms")),
        "sse_cut_after": {"type": "integer", "minimum": 0, "description": "close an event stream after N events"},
    }),
    "fault": obj({"name": {"type": "string"}, "enabled": {"type": "boolean"},
                  "match": {"$ref": "#/$defs/match"}, "when": {"$ref": "#/$defs/when"},
                  "do": {"$ref": "#/$defs/do"}}, ("do",)),
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://fakemaestro.dev/scenario.schema.json",
    "title": "FakeMaestro scenario",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"}, "description": {"type": "string"},
        "seed": {"type": "integer", "description": "seeds ids, keys, generated data and fault probabilities"},
        "epoch": {**TIME, "description": "default time of records that give none"},
        "profile": {"enum": ["production", "intended"]},
        "quirks": obj({name: {"type": "boolean", "description": f"{q.section}: true = {q.production}; "
                                                                 f"false = {q.intended}"}
                       for name, q in QUIRKS.items()},
                      description="reproduce (true) or fix (false) single production defects, over the profile"),
        "clock": obj({"frozen_at": TIME, "start_at": TIME},
                     description="real time by default; frozen at an instant, or running from one"),
        "tenants": obj({"users": array_of("user"), "workspaces": array_of("workspace"),
                        "api_keys": array_of("api_key")}),
        "data": obj({"generate": {"$ref": "#/$defs/generate"}, "workflows": array_of("workflow"),
                     "executions": array_of("execution"), "agents": array_of("agent"), "threads": array_of("thread"),
                     "working_memory": array_of("working_memory"), "triggers": array_of("trigger"),
                     "knowledge_bases": array_of("knowledge_base"), "webhooks": array_of("webhook")}),
        "behaviours": obj({"workflows": {"type": "object", "additionalProperties": {"$ref": "#/$defs/workflow_behaviour"}},
                           "agents": {"type": "object", "additionalProperties": {"$ref": "#/$defs/agent_behaviour"}},
                           "knowledge_bases": {"type": "object",
                                               "additionalProperties": {"$ref": "#/$defs/kb_behaviour"}}}),
        "faults": array_of("fault"),
    },
    "$defs": DEFS,
}


def main() -> None:
    json.dump(SCHEMA, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

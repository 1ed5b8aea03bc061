"""Checks for fakemaestro/openapi.yaml, the description of production's behaviour.

* the document is a valid OpenAPI 3.1 document;
* it declares exactly the 32 public-API operations, with production's required scopes;
* every JSON body recorded from production validates against the schema the
  document gives for that operation and status.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_PATH = REPO_ROOT / "fakemaestro" / "openapi.yaml"
RECORDINGS_DIR = REPO_ROOT.parent / "shared/reference/production-recordings"
DOCUMENT_URI = "urn:fakemaestro:openapi"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

EXPECTED_OPERATIONS = {
    ("GET", "/api/v1/workflows"): ("listWorkflows", ["workflows:read"]),
    ("GET", "/api/v1/workflows/{id}"): ("getWorkflow", ["workflows:read"]),
    ("POST", "/api/v1/workflows/{id}/execute"): ("executeWorkflow", ["workflows:read", "workflows:execute"]),
    ("GET", "/api/v1/executions"): ("listExecutions", ["executions:read"]),
    ("GET", "/api/v1/executions/{id}"): ("getExecution", ["executions:read"]),
    ("POST", "/api/v1/executions/{id}/cancel"): ("cancelExecution", ["executions:read", "executions:cancel"]),
    ("GET", "/api/v1/executions/{id}/events"): ("streamExecutionEvents", ["executions:read"]),
    ("GET", "/api/v1/agents"): ("listAgents", ["agents:read"]),
    ("GET", "/api/v1/agents/{id}"): ("getAgent", ["agents:read"]),
    ("POST", "/api/v1/agents/{id}/threads"): ("createThread", ["agents:read", "threads:write"]),
    ("GET", "/api/v1/agents/{agentId}/memory"): ("listAgentMemory", ["agents:read"]),
    ("GET", "/api/v1/agents/{agentId}/memory/stats"): ("getAgentMemoryStats", ["agents:read"]),
    ("POST", "/api/v1/agents/{agentId}/memory/search"): ("searchAgentMemory", ["agents:read"]),
    ("GET", "/api/v1/agents/{agentId}/memory/{userId}"): ("getAgentMemory", ["agents:read"]),
    ("PUT", "/api/v1/agents/{agentId}/memory/{userId}"): ("putAgentMemory", ["agents:read"]),
    ("DELETE", "/api/v1/agents/{agentId}/memory/{userId}"): ("deleteAgentMemory", ["agents:read"]),
    ("GET", "/api/v1/threads/{id}"): ("getThread", ["threads:read"]),
    ("DELETE", "/api/v1/threads/{id}"): ("deleteThread", ["threads:write"]),
    ("GET", "/api/v1/threads/{id}/messages"): ("listThreadMessages", ["threads:read"]),
    ("POST", "/api/v1/threads/{id}/messages"): ("sendThreadMessage", ["agents:execute", "threads:write"]),
    ("GET", "/api/v1/triggers"): ("listTriggers", ["triggers:read"]),
    ("POST", "/api/v1/triggers/{id}/execute"): ("executeTrigger", ["triggers:read", "triggers:execute"]),
    ("GET", "/api/v1/knowledge-bases"): ("listKnowledgeBases", ["knowledge-bases:read"]),
    ("GET", "/api/v1/knowledge-bases/{id}"): ("getKnowledgeBase", ["knowledge-bases:read"]),
    ("POST", "/api/v1/knowledge-bases/{id}/query"): (
        "queryKnowledgeBase",
        ["knowledge-bases:read", "knowledge-bases:query"],
    ),
    ("GET", "/api/v1/webhooks"): ("listWebhooks", ["webhooks:read"]),
    ("POST", "/api/v1/webhooks"): ("createWebhook", ["webhooks:write"]),
    ("GET", "/api/v1/webhooks/{id}"): ("getWebhook", ["webhooks:read"]),
    ("PATCH", "/api/v1/webhooks/{id}"): ("updateWebhook", ["webhooks:write"]),
    ("DELETE", "/api/v1/webhooks/{id}"): ("deleteWebhook", ["webhooks:write"]),
    ("POST", "/api/v1/webhooks/{id}/test"): ("testWebhook", ["webhooks:write"]),
    ("GET", "/api/v1/webhooks/{id}/deliveries"): ("listWebhookDeliveries", ["webhooks:read"]),
}

EXPECTED_SECURITY = [{"ApiKeyHeader": []}, {"BearerAuth": []}]


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def document() -> dict:
    with DOCUMENT_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


# ---------------------------------------------------------------------------
# recordings
# ---------------------------------------------------------------------------


class Recording:
    def __init__(self, path: Path):
        self.name = path.name
        raw = path.read_bytes().decode("utf-8")
        request_part, sep, response_part = raw.partition("### RESPONSE\n")
        if not sep:
            raise ValueError(f"{path.name}: no '### RESPONSE' section")
        request_lines = request_part.splitlines()
        if not request_lines or request_lines[0].strip() != "### REQUEST":
            raise ValueError(f"{path.name}: no '### REQUEST' section")
        self.method, _, self.target = request_lines[1].strip().partition(" ")

        # Drop the trailing "### curl time_total=..." line.
        marker = response_part.rfind("\n### curl time_total=")
        if marker != -1:
            response_part = response_part[: marker + 1]
        head, _, body = response_part.partition("\r\n\r\n")
        if not _:
            head, _, body = response_part.partition("\n\n")
        head_lines = [line.rstrip("\r") for line in head.split("\n")]
        status_line = next(line for line in head_lines if line.startswith("HTTP/"))
        self.status = int(status_line.split()[1])
        self.headers: dict[str, str] = {}
        for line in head_lines[head_lines.index(status_line) + 1 :]:
            name, colon, value = line.partition(":")
            if colon:
                self.headers[name.strip().lower()] = value.strip()
        self.body = body

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


def _recording_files() -> list[Path]:
    if not RECORDINGS_DIR.is_dir():
        return []
    return sorted(p for p in RECORDINGS_DIR.glob("*.txt") if re.match(r"^\d{3}-", p.name))


RECORDING_FILES = _recording_files()


def _template_regex(template: str) -> re.Pattern:
    parts = []
    for segment in template.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


def _static_segments(template: str) -> int:
    return sum(1 for seg in template.strip("/").split("/") if not seg.startswith("{"))


def match_operation(doc: dict, method: str, path: str):
    """Find (template, operation) the way production's router would.

    HEAD maps to GET. Among the templates that match the path AND have the
    method, the one with most static segments wins (so GET .../memory/stats
    beats {userId}, while GET .../memory/search falls to {userId} because
    only POST exists on the static route). Collection routes (exactly three
    segments, e.g. /api/v1/workflows) also accept one trailing slash.
    """
    method = "GET" if method.upper() == "HEAD" else method.upper()
    candidates = []
    for template, item in doc["paths"].items():
        operation = item.get(method.lower())
        if operation is None:
            continue
        regex = _template_regex(template)
        if regex.match(path):
            candidates.append((template, operation))
        elif (
            path.endswith("/")
            and len(template.strip("/").split("/")) == 3
            and "{" not in template
            and regex.match(path[:-1])
        ):
            candidates.append((template, operation))
    if not candidates:
        return None
    candidates.sort(key=lambda c: _static_segments(c[0]), reverse=True)
    return candidates[0]


def _deref(doc: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"]
        assert pointer.startswith("#/"), pointer
        target = doc
        for token in pointer[2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _key_order_problems(doc: dict, schema, instance, where: str = "$") -> list[str]:
    """Compare the key order of recorded objects with the schema's property order.

    Walks the instance alongside its schema. For every closed object schema
    (``additionalProperties: false``) the recorded keys must appear in the
    order the schema lists them. ``oneOf`` picks the branch that validates;
    ``allOf`` is walked branch by branch. ``FastifyError`` is exempt: Fastify's
    own bodies use different key orders depending on their source.
    """
    schema = _deref(doc, schema)
    if not isinstance(schema, dict):
        return []
    if schema is doc["components"]["schemas"].get("FastifyError"):
        return []
    problems: list[str] = []
    for sub in schema.get("allOf", []):
        problems += _key_order_problems(doc, sub, instance, where)
    if "oneOf" in schema:
        for sub in schema["oneOf"]:
            resolved = _deref(doc, sub)
            standalone = {**resolved, "components": doc["components"]} if isinstance(resolved, dict) else resolved
            if Draft202012Validator(standalone).is_valid(instance):
                problems += _key_order_problems(doc, sub, instance, where)
                break
    if isinstance(instance, dict) and isinstance(schema.get("properties"), dict):
        declared = list(schema["properties"])
        if schema.get("additionalProperties") is False:
            recorded = [k for k in instance if k in declared]
            expected = [k for k in declared if k in instance]
            if recorded != expected:
                problems.append(f"{where}: keys {recorded} but schema order is {expected}")
        for key, value in instance.items():
            if key in schema["properties"]:
                problems += _key_order_problems(doc, schema["properties"][key], value, f"{where}.{key}")
    if isinstance(instance, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, value in instance.items():
            if key not in schema.get("properties", {}):
                problems += _key_order_problems(doc, schema["additionalProperties"], value, f"{where}.{key}")
    if isinstance(instance, list) and "items" in schema:
        for index, value in enumerate(instance):
            problems += _key_order_problems(doc, schema["items"], value, f"{where}[{index}]")
    return problems


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@pytest.fixture(scope="module")
def registry(document) -> Registry:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource)


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate_spec(document)


def test_info_servers_and_security_schemes(document):
    assert document["info"]["title"] == "FlowMaestro public API v1 (as production behaves)"
    assert document["info"]["version"] == "1.0.0"
    assert [s["url"] for s in document["servers"]] == ["http://127.0.0.1:8000"]
    schemes = document["components"]["securitySchemes"]
    api_key = schemes["ApiKeyHeader"]
    assert (api_key["type"], api_key["in"], api_key["name"]) == ("apiKey", "header", "X-API-Key")
    assert schemes["BearerAuth"]["type"] == "http"
    assert schemes["BearerAuth"]["scheme"].lower() == "bearer"


def test_operations_and_required_scopes(document):
    found = {}
    for method, path, operation in _operations(document):
        found[(method, path)] = (operation.get("operationId"), operation.get("x-required-scopes"))
    assert found == EXPECTED_OPERATIONS


def test_every_operation_accepts_both_auth_schemes(document):
    for method, path, operation in _operations(document):
        assert operation.get("security") == EXPECTED_SECURITY, f"{method} {path}"


def test_component_schema_names(document):
    schemas = document["components"]["schemas"]
    for name in (
        "Meta", "Pagination", "ErrorEnvelope", "FastifyError",
        "Workflow", "WorkflowListItem", "Execution", "Agent", "AgentListItem", "Thread",
        "ThreadMessage", "Trigger", "KnowledgeBase", "KnowledgeBaseListItem", "Webhook",
        "WebhookListItem", "WebhookCreated", "WebhookUpdated", "WebhookDelivery", "WorkingMemory",
    ):
        assert name in schemas, name
    code = _deref(document, schemas["ErrorEnvelope"]["properties"]["error"]["properties"]["code"])
    assert len(code["enum"]) == 12
    headers = document["components"]["headers"]
    for name in (
        "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Limit-Day",
        "X-RateLimit-Remaining-Day", "Retry-After", "X-Request-ID", "X-Trace-ID",
    ):
        assert name in headers, name


def test_route_matching_prefers_static_segments(document):
    template, op = match_operation(document, "GET", "/api/v1/agents/a/memory/stats")
    assert op["operationId"] == "getAgentMemoryStats"
    template, op = match_operation(document, "POST", "/api/v1/agents/a/memory/search")
    assert op["operationId"] == "searchAgentMemory"
    template, op = match_operation(document, "GET", "/api/v1/agents/a/memory/search")
    assert op["operationId"] == "getAgentMemory"
    template, op = match_operation(document, "HEAD", "/api/v1/workflows")
    assert op["operationId"] == "listWorkflows"
    assert match_operation(document, "DELETE", "/api/v1/workflows") is None
    assert match_operation(document, "GET", "/api/v1/triggers/x") is None


@pytest.mark.skipif(not RECORDING_FILES, reason=f"production recordings not found at {RECORDINGS_DIR}")
def test_recordings_present():
    assert len(RECORDING_FILES) >= 177


@pytest.mark.parametrize("recording_file", RECORDING_FILES, ids=[p.name for p in RECORDING_FILES])
def test_recorded_body_matches_document(recording_file, document, registry):
    rec = Recording(recording_file)
    if rec.method.upper() == "OPTIONS":
        pytest.skip("CORS preflight is answered by the CORS plugin, not an operation")
    matched = match_operation(document, rec.method, rec.path)
    if matched is None:
        pytest.skip(f"{rec.method} {rec.path} is not one of the document's operations (route-not-found, /health, ...)")
    template, operation = matched

    responses = operation["responses"]
    assert str(rec.status) in responses, (
        f"{rec.name}: {operation['operationId']} does not document status {rec.status}"
    )
    response = _deref(document, responses[str(rec.status)])
    content = response.get("content", {})

    if rec.content_type == "text/event-stream":
        assert "text/event-stream" in content, f"{rec.name}: SSE not documented for {rec.status}"
        return  # SSE bodies are not validated against a JSON schema
    if not rec.body.strip():
        assert rec.method.upper() == "HEAD" or rec.status == 204, f"{rec.name}: empty body"
        return

    assert rec.content_type == "application/json", f"{rec.name}: unexpected content type {rec.content_type}"
    assert "application/json" in content, f"{rec.name}: no JSON content for status {rec.status}"
    body = json.loads(rec.body)

    method_key = "get" if rec.method.upper() == "HEAD" else rec.method.lower()
    pointer = "/".join(
        ["#", "paths", _escape(template), method_key, "responses", str(rec.status)]
    )
    response_ref = responses[str(rec.status)]
    if "$ref" in response_ref:
        pointer = response_ref["$ref"]
    schema_ref = f"{DOCUMENT_URI}{pointer}/content/application~1json/schema"
    validator = Draft202012Validator(
        {"$ref": schema_ref},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{rec.name} ({operation['operationId']} {rec.status}):\n" + "\n".join(
        f"  at {list(e.absolute_path)}: {e.message}" for e in errors[:10]
    )
    schema = _deref(document, response)["content"]["application/json"]["schema"]
    order_problems = _key_order_problems(document, schema, body)
    assert not order_problems, f"{rec.name}: " + "; ".join(order_problems)


def test_strict_schemas_reject_extra_fields(document, registry):
    """Data schemas are closed: an extra key must fail validation."""

    def validator_for(name):
        return Draft202012Validator(
            {"$ref": f"{DOCUMENT_URI}#/components/schemas/{name}"}, registry=registry
        )

    meta = {"request_id": "74e09aa6-0709-46ad-8d80-730e0f989841", "timestamp": "2026-11-28T13:32:54.591Z"}
    item = {
        "id": "c0000000-0000-4000-8000-000000000001",
        "name": "Echo workflow",
        "description": None,
        "version": 1,
        "created_at": "2026-01-02T10:00:00.000Z",
        "updated_at": "2026-01-02T10:00:00.000Z",
    }
    assert validator_for("WorkflowListItem").is_valid(item)
    assert not validator_for("WorkflowListItem").is_valid({**item, "inputs": None})
    assert not validator_for("WorkflowListItem").is_valid({k: v for k, v in item.items() if k != "version"})
    assert validator_for("Meta").is_valid(meta)
    assert not validator_for("Meta").is_valid({**meta, "timestamp": "2026-11-28T13:32:54Z"})
    fde = {"statusCode": 500, "error": "Internal Server Error", "message": "x"}
    assert validator_for("FastifyError").is_valid(fde)
    assert not validator_for("ErrorEnvelope").is_valid(fde)

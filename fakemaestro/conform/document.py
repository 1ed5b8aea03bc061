"""openapi.yaml as a conformance run reads it: the schemathesis schema (with the run's
key and the contract's check settings), operations by id, their required scopes and
links, and response schemas with local `$ref`s resolved."""
from __future__ import annotations

import copy
from functools import lru_cache

import schemathesis
import yaml
from schemathesis.config import SchemathesisConfig

from ..app import openapi_text

SAFE_METHODS = ("GET", "HEAD")

# Where production's contract answers differently from schemathesis's generic HTTP
# expectations *by design* (production defects go to baseline.yaml instead): these
# handlers answer their own 400 `validation_error` for requests the schema allows,
# because request bodies are described leniently on purpose (openapi.yaml: "Field types
# below are what production expects; they are deliberately not enforced here") or
# because the resource's state forbids it (cancel of a finished execution, a disabled
# trigger, a workflow that fails validation); and send-message answers a non-positive
# `timeout` with its documented 408 (§5.4).
VALIDATED_IN_HANDLER = ("executeWorkflow", "executeTrigger", "cancelExecution", "putAgentMemory",
                        "searchAgentMemory", "sendThreadMessage", "queryKnowledgeBase", "createWebhook",
                        "updateWebhook")
_ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
CHECK_SETTINGS = [
    {"include-operation-id": list(VALIDATED_IN_HANDLER),
     "checks": {"positive_data_acceptance": {"expected-statuses": _ACCEPTED}}},
    {"include-operation-id": ["sendThreadMessage"],
     "checks": {"positive_data_acceptance": {"expected-statuses": [*_ACCEPTED, "408"]}}},
]


@lru_cache(maxsize=1)
def raw() -> dict:
    """The parsed document (shared: never mutate it). libyaml's loader when there is one:
    the document is large and the pure-Python parser takes a second over it."""
    return yaml.load(openapi_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_schema(api_key: str):
    """A schemathesis schema of the document whose generated cases carry `api_key`
    as `X-API-Key`; no configuration file is discovered, so runs are the same anywhere."""
    config = SchemathesisConfig.from_dict({
        "auth": {"openapi": {"ApiKeyHeader": {"api_key": api_key}}},
        "operations": CHECK_SETTINGS,
    })
    return schemathesis.openapi.from_dict(copy.deepcopy(raw()), config=config)


def operations(schema) -> list:
    """The schema's operations in document order (an invalid one raises)."""
    return [result.ok() for result in schema.get_all_operations()]


def operation_id(operation) -> str:
    return operation.definition.raw["operationId"]


def required_scopes(operation) -> list[str]:
    return list(operation.definition.raw.get("x-required-scopes", ()))


def is_safe(operation) -> bool:
    return operation.method.upper() in SAFE_METHODS


def resolve(node):
    """Follow local `$ref`s until a node without one."""
    while isinstance(node, dict) and "$ref" in node:
        node = pointer(node["$ref"])
    return node


def pointer(ref: str):
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    node = raw()
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


@lru_cache(maxsize=None)
def locate(op_id: str) -> tuple[str, str]:
    """(METHOD, path template) of an operation id."""
    for path, item in raw()["paths"].items():
        for method, spec in item.items():
            if isinstance(spec, dict) and spec.get("operationId") == op_id:
                return method.upper(), path
    raise KeyError(f"no operation {op_id!r} in openapi.yaml")


def raw_method(op_id: str) -> str:
    return locate(op_id)[0]


def spec_of(op_id: str) -> dict:
    method, path = locate(op_id)
    return raw()["paths"][path][method.lower()]


def response_spec(op_id: str, status: int) -> dict | None:
    """The documented response object of `op_id` for `status` (None: undocumented)."""
    response = spec_of(op_id).get("responses", {}).get(str(status))
    return resolve(response) if response is not None else None


def json_schema(op_id: str, status: int) -> dict | None:
    spec = response_spec(op_id, status)
    if spec is None:
        return None
    return spec.get("content", {}).get("application/json", {}).get("schema")


def links(op_id: str, status: int) -> dict:
    """The OpenAPI links of one documented response: {name: link object}."""
    spec = response_spec(op_id, status)
    return dict((spec or {}).get("links", {}))

"""Checking a scenario: the JSON Schema first (shape, types, unknown keys), then the
references and values the schema cannot see. Every problem names its place."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from ..clock import parse_instant
from .marked import position, yaml_path
from .schema import SCHEMA

_VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        if not self.line:  # a whole-file problem (unreadable file, data that cannot be built)
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}:{self.column}: {self.path}: {self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; `problems` lists every place at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def problem(root: Any, path: list, message: str, key: bool = False) -> Problem:
    source, line, column = position(root, path, key_position=key)
    return Problem(source, line, column, yaml_path(path), message)


def _show(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)[:80]
    except (TypeError, ValueError):
        return repr(value)[:80]


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _describe(error) -> tuple[list, str, bool]:
    """(path, message, point at the key?) for one jsonschema error."""
    path, schema, instance = list(error.absolute_path), error.schema, error.instance
    kind = error.validator
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        unknown = [k for k in instance if k not in allowed]
        return path + [unknown[0]], f'unknown key "{unknown[0]}"; valid keys: {", ".join(allowed)}', True
    if kind == "required":
        missing = [k for k in error.validator_value if k not in instance]
        return path, f'missing required key "{missing[0]}"', False
    if kind == "enum":
        return path, f"expected one of {', '.join(map(str, error.validator_value))}; got {_show(instance)}", False
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return path, f"expected {' or '.join(wanted)}; got {_type_name(instance)} {_show(instance)}", False
    if kind in ("anyOf", "oneOf"):
        hint = schema.get("description") or "one of the allowed forms"
        return path, f"expected {hint}; got {_type_name(instance)} {_show(instance)}", False
    if kind == "pattern":
        return path, f"expected text matching {error.validator_value}; got {_show(instance)}", False
    if kind in ("minimum", "maximum", "exclusiveMinimum", "minLength", "minItems", "maxItems"):
        return path, f"{error.message}", False
    return path, error.message, False


def schema_problems(root: Any) -> list[Problem]:
    found = []
    for error in sorted(_VALIDATOR.iter_errors(root), key=lambda e: [str(p) for p in e.absolute_path]):
        path, message, at_key = _describe(error)
        found.append(problem(root, path, message, key=at_key))
    return sorted(found, key=lambda p: (p.source, p.line, p.column))


def semantic_problems(root: dict, operation_ids: set[str]) -> list[Problem]:
    found: list[Problem] = []
    tenants = root.get("tenants") or {}
    users = {u.get("id") for u in tenants.get("users", [])}
    workspaces = {w.get("id") for w in tenants.get("workspaces", [])}
    key_names: dict[str, int] = {}

    def check_time(value, path):
        if isinstance(value, str):
            try:
                parse_instant(value)
            except ValueError:
                found.append(problem(root, path, f"expected an ISO-8601 time; got {_show(value)}"))

    def walk_times(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                if k.endswith("_at") or k in ("from", "until", "epoch"):
                    check_time(v, path + [k])
                if isinstance(v, (dict, list)) and k not in ("definition", "inputs", "outputs", "payload",
                                                             "metadata", "config", "body", "headers"):
                    walk_times(v, path + [k])
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk_times(v, path + [i])

    walk_times(root, [])
    for i, key in enumerate(tenants.get("api_keys", [])):
        base = ["tenants", "api_keys", i]
        if key.get("user") not in users:
            found.append(problem(root, base + ["user"], f"no user with id {_show(key.get('user'))} in tenants.users"))
        if key.get("workspace") not in workspaces:
            found.append(problem(root, base + ["workspace"],
                                 f"no workspace with id {_show(key.get('workspace'))} in tenants.workspaces"))
        if "scopes" in key and "bundle" in key:
            found.append(problem(root, base + ["bundle"], "give either scopes or bundle, not both"))
        name = key.get("name")
        if name in key_names:
            found.append(problem(root, base + ["name"], f'key name "{name}" is already used by api_keys[{key_names[name]}]'))
        key_names.setdefault(name, i)
    found += _data_references(root, users, workspaces)
    found += _fault_problems(root, operation_ids, set(key_names), workspaces)
    return found


def _data_references(root: dict, users: set, workspaces: set) -> list[Problem]:
    found = []
    data = root.get("data") or {}
    ids = {kind: {item.get("id") for item in data.get(kind, []) if isinstance(item, dict)}
           for kind in ("workflows", "agents")}
    refs = {"user": ("tenants.users", users), "workspace": ("tenants.workspaces", workspaces),
            "workflow": ("data.workflows", ids["workflows"]), "agent": ("data.agents", ids["agents"])}
    for kind, items in data.items():
        if kind == "generate" or not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            for field, (where, known) in refs.items():
                if kind == "working_memory" and field == "user":
                    continue  # an end user the memory is about, not a tenant user
                if field in item and item[field] not in known:
                    found.append(problem(root, ["data", kind, i, field],
                                         f"no {field} with id {_show(item[field])} in {where}"))
    return found


def _fault_problems(root: dict, operation_ids: set, key_names: set, workspaces: set) -> list[Problem]:
    found = []
    for i, rule in enumerate(root.get("faults") or []):
        base = ["faults", i]
        match, do = rule.get("match") or {}, rule.get("do") or {}
        for op in _as_list(match.get("operation")):
            if op not in operation_ids:
                found.append(problem(root, base + ["match", "operation"],
                                     f'unknown operation "{op}"; valid operations: {", ".join(sorted(operation_ids))}'))
        for name in _as_list(match.get("key")):
            if name not in key_names:
                found.append(problem(root, base + ["match", "key"],
                                     f'no API key named "{name}"; keys: {", ".join(sorted(key_names))}'))
        for ws in _as_list(match.get("tenant")):
            if ws not in workspaces:
                found.append(problem(root, base + ["match", "tenant"], f"no workspace with id {_show(ws)}"))
        responses = [k for k in ("error", "status", "connection", "truncate_at", "malformed_json", "drip",
                                 "sse_cut_after") if k in do]
        if not responses and "latency" not in do:
            found.append(problem(root, base + ["do"], "nothing to do: give error, status, latency, connection, "
                                                      "truncate_at, malformed_json, drip or sse_cut_after"))
        if "error" in do and "status" in do:
            found.append(problem(root, base + ["do", "status"], "give either error or status, not both"))
        latency = do.get("latency")
        if isinstance(latency, dict) and len(latency) != 1:
            found.append(problem(root, base + ["do", "latency"],
                                 "expected exactly one of fixed_ms, uniform_ms, lognormal"))
    return found


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]

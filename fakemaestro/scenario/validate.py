"""Checking a scenario: the JSON Schema (shape, types, unknown keys, times), then the
references and values the schema cannot see. Every problem names its place.

The reference checks also run when the schema found problems: on the scenario with
the values at fault taken out (`prune`), skipping the checks those values would
make unreliable, so that one run reports everything.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Iterable

from ..clock import parse_instant
from ..http import fields
from .marked import Duplicate, MarkedDict, MarkedList, position, yaml_path
from .schema import SCHEMA, TIME_FORMAT, TIME_FORMS

def _is_time(value: Any) -> bool:
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return True  # the type check speaks for these
    parse_instant(value)
    return True


@cache
def _validator():
    # Built on first use: jsonschema takes ~0.1 s to import, and serving the embedded
    # default scenario never validates a file.
    from jsonschema import Draft202012Validator, FormatChecker

    formats = FormatChecker(formats=())
    formats.checks(TIME_FORMAT, raises=(ValueError, OverflowError))(_is_time)
    return Draft202012Validator(SCHEMA, format_checker=formats)


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        if not self.line:  # no position: a whole-file problem, or data that carries no marks
            if self.path.startswith("("):
                return f"{self.source}: {self.message}"
            return f"{self.source}: {self.path}: {self.message}"
        return f"{self.source}:{self.line}:{self.column}: {self.path}: {self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; `problems` lists every place at fault."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def problem(root: Any, path: list, message: str, key: bool = False, source: str = "<data>") -> Problem:
    where, line, column = position(root, path, key_position=key, source=source)
    return Problem(where, line, column, yaml_path(path), message)


def sort_problems(problems: Iterable[Problem], sources: list[str] = ()) -> list[Problem]:
    """In file order: files in the order given (others by name), then line and column."""
    order = {source: index for index, source in enumerate(sources)}
    return sorted(problems, key=lambda p: (order.get(p.source, len(order)), "" if p.source in order else p.source,
                                           p.line, p.column))


class _Full(Exception):
    pass


def _show(value: Any, limit: int = 80) -> str:
    """The value as JSON, cut at `limit` characters (without rendering more than that:
    an aliased YAML collection can stand for far more data than its text)."""
    parts: list[str] = []
    size = 0

    def emit(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)
        if size > limit:
            raise _Full

    def key_text(key: Any) -> str:  # as json.dumps writes keys
        if key is None or isinstance(key, bool):
            return json.dumps(key)
        return str(key)

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            emit("{")
            for index, (key, sub) in enumerate(item.items()):
                emit(", " if index else "")
                emit(json.dumps(key_text(key), ensure_ascii=False) + ": ")
                walk(sub)
            emit("}")
        elif isinstance(item, (list, tuple)):
            emit("[")
            for index, sub in enumerate(item):
                emit(", " if index else "")
                walk(sub)
            emit("]")
        else:
            try:
                emit(json.dumps(item, ensure_ascii=False, default=str))
            except (TypeError, ValueError):
                emit(repr(item))

    try:
        walk(value)
    except _Full:
        return "".join(parts)[:limit - 3] + "..."
    return "".join(parts)


def _type_name(value: Any) -> str:
    for kind, name in ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "text"),
                       (dict, "a mapping"), (list, "a list"), (type(None), "null")):
        if isinstance(value, kind):  # subclasses too: the loader's marked mappings and lists
            return name
    return type(value).__name__


def duplicate_problems(duplicates: list[Duplicate]) -> list[Problem]:
    """Keys given twice in one mapping (as the YAML/JSON reader found them)."""
    return [Problem(d.mark[0], d.mark[1], d.mark[2], yaml_path(d.path),
                    f"duplicate key {_show(str(d.key))} (first given at line {d.first_line})") for d in duplicates]


# ---------------------------------------------------------------- the schema

def schema_errors(root: Any) -> list:
    return sorted(_validator().iter_errors(root), key=lambda e: [str(p) for p in e.absolute_path])


def schema_problems(root: Any, source: str = "<data>", errors: list | None = None) -> list[Problem]:
    found = []
    for error in schema_errors(root) if errors is None else errors:
        for path, message, at_key in _describe(error):
            found.append(problem(root, path, message, key=at_key, source=source))
    return sort_problems(found)


def _expected(schema: dict) -> str:
    """What a schema accepts, in words (for alternatives without a description)."""
    if "description" in schema and "anyOf" not in schema and "oneOf" not in schema:
        return schema["description"]
    if "anyOf" in schema or "oneOf" in schema:
        return ", or ".join(_expected(s) for s in schema.get("anyOf") or schema.get("oneOf"))
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    kinds = schema.get("type", "any value")
    return " or ".join(kinds) if isinstance(kinds, list) else kinds


def _describe(error) -> list[tuple[list, str, bool]]:
    """[(path, message, point at the key?)] for one jsonschema error."""
    path, schema, instance = list(error.absolute_path), error.schema, error.instance
    kind = error.validator
    got = f"got {_type_name(instance)} {_show(instance)}"
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        return [(path + [key], f'unknown key {_show(str(key))}; valid keys: {", ".join(allowed)}', True)
                for key in instance if key not in allowed]
    if kind == "required":
        return [(path, f'missing required key "{key}"', False) for key in error.validator_value
                if key not in instance]
    if kind == "enum":
        return [(path, f"expected one of {', '.join(map(str, error.validator_value))}; got {_show(instance)}", False)]
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        if schema.get("format") == TIME_FORMAT:
            return [(path, f"expected {TIME_FORMS}{', or null' if 'null' in wanted else ''}; {got}", False)]
        return [(path, f"expected {' or '.join(wanted)}; {got}", False)]
    if kind == "format" and error.validator_value == TIME_FORMAT:
        if isinstance(instance, str):
            return [(path, f"expected an ISO-8601 time; got {_show(instance)}", False)]
        return [(path, f"expected epoch milliseconds within the years 1 to 9999; got {_show(instance)}", False)]
    if kind in ("anyOf", "oneOf"):
        return [(path, f"expected {_expected(schema)}; {got}", False)]
    if kind == "pattern":
        return [(path, f"expected text matching {error.validator_value}; got {_show(instance)}", False)]
    if kind in ("minItems", "maxItems"):
        if "description" in schema:
            return [(path, f"expected {schema['description']}; got {_show(instance)}", False)]
        bound = "at least" if kind == "minItems" else "at most"
        return [(path, f"expected {bound} {error.validator_value} items; got {_show(instance)}", False)]
    if kind == "minLength":
        wanted = "non-empty text" if error.validator_value == 1 else \
            f"text of at least {error.validator_value} characters"
        return [(path, f"expected {wanted}; got {_show(instance)}", False)]
    return [(path, error.message, False)]


# ---------------------------------------------------------------- taking out what the schema rejected

class _Gone:
    """Stands for a list item the schema rejected (so the indexes of the others stay)."""

    def __repr__(self) -> str:
        return "<rejected>"


GONE = _Gone()


def rejected_paths(errors: list) -> list[tuple]:
    """The places of the values the schema rejected (unknown keys: the key itself)."""
    paths = []
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = error.schema.get("properties", {})
            paths += [path + (key,) for key in error.instance if key not in allowed]
        elif error.validator != "required":  # a missing key takes nothing out
            paths.append(path)
    return paths


def prune(root: Any, paths: list[tuple]) -> Any:
    """A copy of `root` (marks kept) without the values at `paths`; list items become GONE."""
    tree: dict = {}
    for path in paths:
        node = tree
        for step in path[:-1]:
            node = node.setdefault(step, {})
            if node is True:
                break
        else:
            if path:
                node[path[-1]] = True
            else:
                return MarkedDict()
    return _pruned(root, tree)


def _pruned(value: Any, tree: dict) -> Any:
    if not tree:
        return value
    if isinstance(value, dict):
        made = MarkedDict() if isinstance(value, MarkedDict) else {}
        if isinstance(value, MarkedDict):
            made.source, made.mark = value.source, value.mark
        for key, item in value.items():
            sub = tree.get(key)
            if sub is True:
                continue
            made[key] = _pruned(item, sub) if sub else item
            if isinstance(value, MarkedDict) and key in value.value_marks:
                made.key_marks[key], made.value_marks[key] = value.key_marks[key], value.value_marks[key]
        return made
    if isinstance(value, list):
        made = MarkedList() if isinstance(value, MarkedList) else []
        if isinstance(value, MarkedList):
            made.source, made.mark = value.source, value.mark
            made.item_marks = list(value.item_marks)
        for index, item in enumerate(value):
            sub = tree.get(index)
            made.append(GONE if sub is True else _pruned(item, sub) if sub else item)
        return made
    return value


# ---------------------------------------------------------------- references and values

ID_COLLECTIONS = [("tenants", "users"), ("tenants", "workspaces"), ("tenants", "api_keys"),
                  ("data", "workflows"), ("data", "executions"), ("data", "agents"), ("data", "threads"),
                  ("data", "triggers"), ("data", "knowledge_bases"), ("data", "webhooks")]
# records the store keeps by id across all their parents
NESTED_ID_COLLECTIONS = [("data", "threads", "runs"), ("data", "webhooks", "deliveries")]


def semantic_problems(root: dict, operation_ids: set[str], rejected: list[tuple] = (),
                      source: str = "<data>") -> list[Problem]:
    """The checks the schema cannot make, on `root` with the values the schema rejected
    taken out (see prune); `rejected` lists where those were."""
    checks = _Checks(root, rejected, source)
    checks.duplicate_ids()
    checks.api_keys()
    checks.data_references()
    checks.generate()
    checks.behaviours()
    checks.faults(operation_ids)
    return checks.found


def _records(items: Any) -> list[tuple[int, dict]]:
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)] if isinstance(items, list) else []


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


class _Checks:
    def __init__(self, root: dict, rejected: list[tuple], source: str) -> None:
        self.root, self.rejected, self.source = root, [tuple(p) for p in rejected], source
        self.found: list[Problem] = []
        self.tenants, self.data = _mapping(root.get("tenants")), _mapping(root.get("data"))
        self.users = self.ids(("tenants", "users"))
        self.workspaces = self.ids(("tenants", "workspaces"))
        self.key_names = self.ids(("tenants", "api_keys"), "name")
        self.workflows = self.ids(("data", "workflows"))
        self.agents = self.ids(("data", "agents"))
        self.knowledge_bases = self.ids(("data", "knowledge_bases"))

    def add(self, path: list, message: str, key: bool = False) -> None:
        self.found.append(problem(self.root, path, message, key=key, source=self.source))

    def at(self, path: tuple) -> Any:
        node = self.root
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        return node

    def ids(self, path: tuple, field: str = "id") -> set | None:
        """The `field` values of the records at `path`; None when the schema rejected some
        (then references to them are not checked: they would only repeat that problem)."""
        n = len(path)
        for r in self.rejected:
            if len(r) <= n and path[:len(r)] == r:
                return None  # the list or a section holding it
            if r[:n] == path and (len(r) == n + 1 or (len(r) == n + 2 and r[-1] == field)):
                return None  # a record, or its id
        return {item[field] for _, item in _records(self.at(path)) if field in item}

    def partly_rejected(self, path: list) -> bool:
        n = len(path)
        return any(len(r) > n and r[:n] == tuple(path) for r in self.rejected)

    # ------------------------------------------------------------ duplicates
    def duplicate_ids(self) -> None:
        for path in ID_COLLECTIONS:
            seen: dict = {}
            for i, item in _records(self.at(path)):
                self._once(seen, item, list(path) + [i])
        for *parent, child in NESTED_ID_COLLECTIONS:
            seen = {}
            for i, record in _records(self.at(tuple(parent))):
                for j, item in _records(record.get(child)):
                    self._once(seen, item, list(parent) + [i, child, j])

    def _once(self, seen: dict, item: dict, path: list) -> None:
        if item.get("id") is None:
            return
        value = item["id"]
        ident = _delivery_id(value) if "deliveries" in path else value  # delivery ids are numbers
        if ident in seen:
            self.add(path + ["id"], f"id {_show(value)} is already used by {yaml_path(seen[ident])}")
        else:
            seen[ident] = path

    # ------------------------------------------------------------ tenants
    def api_keys(self) -> None:
        names: dict = {}
        raws: dict = {}
        for i, key in _records(self.tenants.get("api_keys")):
            base = ["tenants", "api_keys", i]
            if "user" in key and self.users is not None and key["user"] not in self.users:
                self.add(base + ["user"], f"no user with id {_show(key['user'])} in tenants.users")
            if "workspace" in key and self.workspaces is not None and key["workspace"] not in self.workspaces:
                self.add(base + ["workspace"],
                         f"no workspace with id {_show(key['workspace'])} in tenants.workspaces")
            if "scopes" in key and "bundle" in key:
                self.add(base + ["bundle"], "give either scopes or bundle, not both")
            name, raw = key.get("name"), key.get("key")
            if name is not None:
                if name in names:
                    self.add(base + ["name"], f'key name "{name}" is already used by api_keys[{names[name]}]')
                names.setdefault(name, i)
            if raw:
                if raw in raws:
                    self.add(base + ["key"], f"key {_show(raw)} is already used by api_keys[{raws[raw]}]")
                raws.setdefault(raw, i)

    # ------------------------------------------------------------ data
    def data_references(self) -> None:
        refs = {"user": ("tenants.users", self.users), "workspace": ("tenants.workspaces", self.workspaces),
                "workflow": ("data.workflows", self.workflows), "agent": ("data.agents", self.agents)}
        for kind, items in self.data.items():
            if kind == "generate":
                continue
            for i, item in _records(items):
                for field, (where, known) in refs.items():
                    if kind == "working_memory" and field == "user":
                        continue  # an end user the memory is about, not a tenant user
                    if field in item and known is not None and item[field] not in known:
                        self.add(["data", kind, i, field], f"no {field} with id {_show(item[field])} in {where}")

    def generate(self) -> None:
        counts = self.data.get("generate")
        if isinstance(counts, dict) and counts and self.workspaces is not None \
                and not _records(self.tenants.get("workspaces")):
            self.add(["data", "generate"], "needs at least one workspace in tenants.workspaces")

    def behaviours(self) -> None:
        behaviours = _mapping(self.root.get("behaviours"))
        for section, known, what, where in (("agents", self.agents, "agent", "data.agents"),
                                            ("knowledge_bases", self.knowledge_bases, "knowledge base",
                                             "data.knowledge_bases")):
            if known is None:
                continue
            for ident in _mapping(behaviours.get(section)):
                if ident not in known:
                    self.add(["behaviours", section, ident], f"no {what} with id {_show(ident)} in {where}", key=True)
        for ident, agent in _mapping(behaviours.get("agents")).items():
            for i, reply in _records(_mapping(agent).get("replies")):
                pattern = reply.get("pattern")
                if isinstance(pattern, str):
                    try:
                        re.compile(pattern)
                    except re.error as exc:
                        self.add(["behaviours", "agents", ident, "replies", i, "pattern"],
                                 f"not a valid regular expression: {exc}")

    # ------------------------------------------------------------ faults
    def faults(self, operation_ids: set) -> None:
        for i, rule in _records(self.root.get("faults")):
            base = ["faults", i]
            match = _mapping(rule.get("match"))
            for path, op in _named(match, "operation", base):
                if op not in operation_ids:
                    self.add(path, f'unknown operation "{op}"; valid operations: {", ".join(sorted(operation_ids))}')
            if self.key_names is not None:
                for path, name in _named(match, "key", base):
                    if name not in self.key_names:
                        self.add(path, f'no API key named "{name}"; keys: {", ".join(sorted(self.key_names))}')
            if self.workspaces is not None:
                for path, ws in _named(match, "tenant", base):
                    if ws not in self.workspaces:
                        self.add(path, f"no workspace with id {_show(ws)}")
            if not isinstance(rule.get("do"), dict):
                continue  # missing or rejected: the schema said so
            do = rule["do"]
            responses = [k for k in ("error", "status", "connection", "truncate_at", "malformed_json", "drip",
                                     "sse_cut_after") if k in do]
            if not responses and "latency" not in do and not self.partly_rejected(base + ["do"]):
                self.add(base + ["do"], "nothing to do: give error, status, latency, connection, "
                                        "truncate_at, malformed_json, drip or sse_cut_after")
            if "error" in do and "status" in do:
                self.add(base + ["do", "status"], "give either error or status, not both")
            for name in ("body", "headers"):  # silently dropped otherwise
                if name in do and "status" not in do:
                    self.add(base + ["do", name], f"{name} goes with status (a custom answer); an error "
                                                  "is rendered exactly as production renders it")
            if isinstance(do.get("headers"), dict):
                self._check_headers(do["headers"], base + ["do", "headers"])
            latency = do.get("latency")
            if isinstance(latency, dict) and len(latency) != 1 and not self.partly_rejected(base + ["do", "latency"]):
                self.add(base + ["do", "latency"], "expected exactly one of fixed_ms, uniform_ms, lognormal")

    def _check_headers(self, headers: dict, base: list) -> None:
        for name, value in headers.items():
            if not HEADER_NAME.fullmatch(str(name)):
                self.add(base + [name], f"{_show(name)} is not a header name: letters, digits and "
                                        "!#$%&'*+-.^_`|~ only", key=True)
            elif isinstance(value, str) and not HEADER_VALUE.fullmatch(value):
                self.add(base + [name], "a header value holds tabs and the characters U+0020-U+007E and "
                                        f"U+0080-U+00FF only; got {_show(value)}")


# What Node's setHeader accepts (a custom answer's headers would otherwise fail as it is sent)
HEADER_NAME = re.compile(fields.TOKEN)
HEADER_VALUE = re.compile(fields.NODE_VALUE)


def _named(match: dict, field: str, base: list) -> list[tuple[list, str]]:
    """(path, name) for a match field given as one name or a list of names."""
    value = match.get(field)
    path = base + ["match", field]
    if isinstance(value, list):
        return [(path + [j], v) for j, v in enumerate(value) if isinstance(v, str)]
    return [(path, value)] if isinstance(value, str) else []


def _delivery_id(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value

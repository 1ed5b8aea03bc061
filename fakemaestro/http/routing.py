"""Routes matched as production's router (find-my-way) matches them (CONTRACT.md §1.1):
one tree per method, static segments beat parameters, HEAD follows GET, a
parameter longer than 100 characters does not match, collection routes also
answer with a trailing slash, and a malformed percent-encoding is a 400."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Awaitable, Callable
from urllib.parse import unquote_to_bytes

MAX_PARAM_LENGTH = 100
CACHED_PATHS = 4096  # clients ask for the same paths again and again (lists, polled executions)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # template with {param} segments, as in openapi.yaml
    operation_id: str
    scopes: tuple[str, ...]
    handler: Callable[..., Awaitable[Any]]
    trailing_slash: bool = False  # declared as "/" under its prefix in production


@dataclass
class _Node:
    static: dict[str, "_Node"] = field(default_factory=dict)
    param: "_Node | None" = None  # one parameter child; names belong to each route
    operation: Operation | None = None


class BadUrl(Exception):
    pass


class Router:
    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations
        self._trees: dict[str, _Node] = {}
        # (method, raw path) -> match, the oldest forgotten first; a BadUrl is not kept
        self._matches: dict[tuple[str, str], tuple[Operation, dict[str, str]] | None] = {}
        for op in operations:
            self._insert(op, op.path)
            if op.trailing_slash:
                self._insert(op, op.path + "/")

    def _insert(self, op: Operation, path: str) -> None:
        node = self._trees.setdefault(op.method, _Node())
        for segment in path.split("/")[1:]:
            if segment.startswith("{") and segment.endswith("}"):
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.static.setdefault(segment, _Node())
        node.operation = op

    def match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation and its path parameters (a fresh dict), None for no route; raises
        BadUrl for a malformed percent-encoding."""
        try:
            found = self._matches[method, raw_path]
        except KeyError:
            found = self._match(method, raw_path)
            if len(self._matches) >= CACHED_PATHS:
                del self._matches[next(iter(self._matches))]
            self._matches[method, raw_path] = found
        return None if found is None else (found[0], dict(found[1]))

    def _match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        tree = self._trees.get("GET" if method == "HEAD" else method)
        if tree is None:
            return None
        segments = [decode_segment(s) for s in raw_path.split("/")[1:]]
        found = _walk(tree, segments, 0, ())
        if found is None:
            return None
        op, values = found
        return op, dict(zip(param_names(op.path), values))


@lru_cache(maxsize=None)  # one entry per route template; match() asks on every request
def param_names(template: str) -> tuple[str, ...]:
    return tuple(s[1:-1] for s in template.split("/") if s.startswith("{") and s.endswith("}"))


def _walk(node: _Node, segments: list[str], i: int, values: tuple):
    if i == len(segments):
        return (node.operation, values) if node.operation else None
    segment = segments[i]
    child = node.static.get(segment)
    if child is not None:
        found = _walk(child, segments, i + 1, values)
        if found:
            return found
    if node.param is not None and len(segment) <= MAX_PARAM_LENGTH:
        return _walk(node.param, segments, i + 1, values + (segment,))
    return None


def decode_segment(segment: str) -> str:
    if "%" not in segment:
        return segment
    try:
        return unquote_strict(segment)
    except ValueError as exc:
        raise BadUrl(segment) from exc


def unquote_strict(text: str) -> str:
    """decodeURIComponent: every % must start a valid escape and bytes must be UTF-8."""
    parts = text.split("%")
    for part in parts[1:]:
        if len(part) < 2 or any(c not in "0123456789abcdefABCDEF" for c in part[:2]):
            raise ValueError(text)
    return unquote_to_bytes(text).decode("utf-8")

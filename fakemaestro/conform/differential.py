"""Where two answers to the same request differ: status, the headers clients read, and
the body, with what is random by nature normalized (UUIDs, timestamps, webhook
secrets, test-delivery ids; rate-limit numbers, which follow each side's key).

`values` compares every normalized value, key order and list lengths: for a fake that
mirrors the target's data. `shape` compares key order and JSON types only: for a fake
with other data.
"""
from __future__ import annotations

import json
import re

from .checks import RATE_HEADERS, body_of, header, is_sse

MODES = ("values", "shape")
VALUE_HEADERS = ("content-type", "vary", "access-control-allow-origin", "access-control-allow-credentials",
                 "access-control-expose-headers", "cache-control", "connection", "x-accel-buffering")
PRESENCE_HEADERS = ("x-request-id", "x-trace-id", "retry-after", *RATE_HEADERS)
MAX_PER_EXCHANGE = 20

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
RANDOM = ((re.compile(r"whsec_[0-9a-f]+"), "<secret>"), (re.compile(r"\btest_\d+\b"), "<test-id>"),
          (UUID, "<uuid>"), (INSTANT, "<timestamp>"))


def compare(target, reference, mode: str = "values") -> list[tuple[str, str, str]]:
    """[(where, target's, reference's)] for two schemathesis Responses."""
    found = []
    if target.status_code != reference.status_code:
        found.append(("status", str(target.status_code), str(reference.status_code)))
    for name in VALUE_HEADERS:
        a, b = header(target, name), header(reference, name)
        if a != b and not (name == "connection" and "close" not in f"{a}{b}"):  # keep-alive is the server's choice
            found.append((f"header {name}", _show(a), _show(b)))
    for name in PRESENCE_HEADERS:
        a, b = header(target, name) is not None, header(reference, name) is not None
        if a != b:
            found.append((f"header {name}", "present" if a else "absent", "present" if b else "absent"))
    found += _bodies(target, reference, mode)
    return found[:MAX_PER_EXCHANGE]


def _bodies(target, reference, mode: str):
    if is_sse(target) or is_sse(reference):
        a, b = _events(target), _events(reference)
        return [] if a == b else [("body events", " ".join(a) or "none", " ".join(b) or "none")]
    a, b = body_of(target), body_of(reference)
    if a is None or b is None:
        ta, tb = normalize_text(_text(target)), normalize_text(_text(reference))
        return [] if ta == tb else [("body", _show(ta), _show(tb))]
    return list(_diff(a, b, "", mode))


def _diff(a, b, path: str, mode: str):
    where = f"body {path or '/'}"
    if _type(a) != _type(b):
        yield where, _type(a), _type(b)
        return
    if isinstance(a, dict):
        if list(a) != list(b):
            yield f"{where} keys", ", ".join(a) or "none", ", ".join(b) or "none"
        for key in a:
            if key in b:
                yield from _diff(a[key], b[key], f"{path}/{key}", mode)
    elif isinstance(a, list):
        if mode == "values" and len(a) != len(b):
            yield f"{where} length", str(len(a)), str(len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            yield from _diff(x, y, f"{path}/{i}", mode)
    elif mode == "values" and _norm(a) != _norm(b):
        yield where, _show(_norm(a)), _show(_norm(b))
    elif mode == "shape" and _kind(a) != _kind(b):
        yield where, _kind(a), _kind(b)


def normalize_text(text: str) -> str:
    for pattern, placeholder in RANDOM:
        text = pattern.sub(placeholder, text)
    return text


def _norm(value):
    return normalize_text(value) if isinstance(value, str) else value


def _type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}[type(value)]


def _kind(value) -> str:
    """The type, with integers, UUIDs and timestamps told apart (shape mode)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    if isinstance(value, str):
        normalized = normalize_text(value)
        if normalized in ("<uuid>", "<timestamp>", "<secret>", "<test-id>"):
            return normalized
    return _type(value)


def _events(response) -> list[str]:
    text = _text(response)
    return [line[len("event:"):].strip() for line in text.splitlines() if line.startswith("event:")]


def _text(response) -> str:
    return response.content.decode("utf-8", "replace") if response.content else ""


def _show(value) -> str:
    text = "absent" if value is None else value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."

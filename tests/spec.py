"""Validation of every response the test suite receives against fakemaestro/openapi.yaml.

`SpecCheckingApp` wraps the ASGI app used by tests; each response to a documented
operation is validated (status documented, JSON body against its schema, SSE
content type) and any violation is recorded in VIOLATIONS, which the autouse
fixture in conftest.py turns into a test failure.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fakemaestro.http.routing import BadUrl

DOCUMENT = Path(__file__).resolve().parents[1] / "fakemaestro" / "openapi.yaml"
URI = "urn:fakemaestro:openapi"
VIOLATIONS: list[str] = []
CHECKED: list[str] = []


@lru_cache(maxsize=1)
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource(URI, Resource.from_contents(document(), default_specification=DRAFT202012))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@lru_cache(maxsize=None)
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{URI}#{pointer}"}, registry=_registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def operation_of(path_template: str, method: str) -> dict:
    return document()["paths"][path_template][method.lower()]


def check(op, method: str, status: int, content_type: str, body: bytes) -> list[str]:
    """Problems with one response to operation `op` (a fakemaestro Operation)."""
    verb = "get" if method == "HEAD" else method.lower()
    spec_op = operation_of(op.path, verb)
    responses = spec_op["responses"]
    where = f"{method} {op.path} -> {status}"
    if str(status) not in responses:
        return [f"{where}: status not documented for {spec_op['operationId']}"]
    response = responses[str(status)]
    pointer = response["$ref"][1:] if "$ref" in response else \
        f"/paths/{_escape(op.path)}/{verb}/responses/{status}"
    resolved = _resolve(pointer)
    content = resolved.get("content", {})
    if content_type.startswith("text/event-stream"):
        return [] if "text/event-stream" in content else [f"{where}: SSE not documented"]
    if method == "HEAD" or not body:
        return []
    if "application/json" not in content:
        return [f"{where}: JSON body not documented"]
    validator = _validator(f"{pointer}/content/application~1json/schema")
    errors = list(validator.iter_errors(json.loads(body)))
    return [f"{where}: {list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def _resolve(pointer: str) -> dict:
    node = document()
    for token in pointer.strip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


class SpecCheckingApp:
    """ASGI wrapper that validates every API response it sees."""

    def __init__(self, app) -> None:
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1/"):
            return await self.app(scope, receive, send)
        router = self.state.fake.router
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        try:
            match = router.match(scope["method"], raw_path)
        except BadUrl:
            match = None
        if match is None:
            return await self.app(scope, receive, send)
        captured = {"status": 0, "type": "", "body": bytearray()}

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["type"] = dict(message["headers"]).get(b"content-type", b"").decode()
            elif message["type"] == "http.response.body" and not captured["type"].startswith("text/event-stream"):
                captured["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    _record(match[0], scope["method"], captured)
            await send(message)

        await self.app(scope, receive, capture)
        if captured["type"].startswith("text/event-stream"):
            _record(match[0], scope["method"], captured)


def _record(op, method: str, captured) -> None:
    CHECKED.append(op.operation_id)
    VIOLATIONS.extend(check(op, method, captured["status"], captured["type"], bytes(captured["body"])))

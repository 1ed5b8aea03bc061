"""The suite catches drift: a fake altered on purpose (a wrong field, a wrong status, a
missing header, ...) by a small ASGI middleware fails the run with the check that
names the alteration, while the same run on the unaltered fake is clean. The last
test runs the contract suite itself (pytest, FAKEMAESTRO_TARGET_URL) against an
altered fake served on 127.0.0.1 and watches it fail."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fakemaestro.app import create_app
from fakemaestro.conform import Options, run
from fakemaestro.conform.throttle import Throttle
from fakemaestro.scenario import Scenario
from fakemaestro.scenario.defaults import default_scenario
from fakemaestro.testing import serve_in_thread

from .conftest import explain, fake_target


class Alter:
    """Rewrites the answers whose path matches `path` (a regex on the URL path)."""

    def __init__(self, app, path: str, *, status=None, drop_headers=(), set_headers=None, body=None, text=None):
        self.app, self.state = app, app.state
        self.path, self.status = re.compile(path), status
        self.drop = {h.lower().encode() for h in drop_headers}
        self.set = {k.lower().encode(): v.encode() for k, v in (set_headers or {}).items()}
        self.body, self.text = body, text  # JSON -> JSON; or bytes -> bytes for streams

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.path.search(scope["path"]):
            return await self.app(scope, receive, send)
        start = {}
        chunks = []

        async def altered(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k not in self.drop and k not in self.set]
                headers += list(self.set.items())
                start.update(message, headers=headers, status=self.status(message["status"]) if self.status
                             else message["status"])
                if self.text:  # streams pass through, rewritten chunk by chunk
                    await send(start)
                return
            if self.text:
                return await send({**message, "body": self.text(message.get("body", b""))})
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                body = b"".join(chunks)
                if self.body and body:
                    body = json.dumps(self.body(json.loads(body)), separators=(",", ":")).encode()
                headers = [(k, str(len(body)).encode() if k == b"content-length" else v) for k, v in start["headers"]]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})

        return await self.app(scope, receive, altered)


def _add_field(doc):
    if isinstance(doc.get("data"), dict):
        doc["data"]["owner_id"] = "5e1f0000-0000-4000-8000-000000000001"
    return doc


def _rename_field(doc):
    for item in doc.get("data") or ():
        item["model_name"] = item.pop("model")
    return doc


def _flip_has_prev(doc):
    if "pagination" in doc:
        doc["pagination"]["has_prev"] = not doc["pagination"]["has_prev"]
    return doc


def _seconds_timestamp(doc):
    doc["meta"]["timestamp"] = doc["meta"]["timestamp"][:19] + "Z"
    return doc


def _error(doc) -> dict:
    """The envelope's error object ({} for success and Fastify bodies)."""
    return doc["error"] if isinstance(doc.get("error"), dict) else {}


def _forget_missing_scopes(doc):
    if _error(doc).get("code") == "insufficient_scope":
        doc["error"]["details"]["missing_scopes"] = []
    return doc


def _not_found_instead(doc):
    """What a route that skipped its scope check would say about the run's unknown id."""
    if _error(doc).get("code") == "insufficient_scope":
        doc["error"] = {"code": "resource_not_found", "message": "Webhook with id 'x' not found",
                        "details": {"resource": "Webhook", "id": "x"}}
    return doc


def _wrong_code(doc):
    if _error(doc).get("code") == "resource_not_found":
        doc["error"]["code"] = "validation_error"
    return doc


# name: (alteration, operation (or several: the first is judged), phases, checks that must fail)
DRIFTS = {
    "extra field": (dict(path=r"^/api/v1/workflows/[^/]+$", body=_add_field), "getWorkflow", ("known-ids",),
                    {"documented_fields", "response_schema_conformance"}),
    "renamed field": (dict(path=r"^/api/v1/agents$", body=_rename_field), "listAgents", ("fuzz",),
                      {"documented_fields", "response_schema_conformance"}),
    "wrong status": (dict(path=r"^/api/v1/agents/[^/]+$", status=lambda s: 201 if s == 200 else s), "getAgent",
                     ("known-ids",), {"status_code_conformance"}),
    "missing rate-limit header": (dict(path=r"^/api/v1/", drop_headers=["X-RateLimit-Remaining"]), "listTriggers",
                                  ("fuzz",), {"rate_limit_headers"}),
    "request id not echoed": (dict(path=r"^/api/v1/", set_headers={"X-Request-ID": "not-the-one-you-sent"}),
                              "listWebhooks", ("fuzz",), {"request_id_echo"}),
    "pagination": (dict(path=r"^/api/v1/knowledge-bases$", body=_flip_has_prev), "listKnowledgeBases", ("fuzz",),
                   {"pagination_arithmetic"}),
    "meta timestamp": (dict(path=r"^/api/v1/triggers$", body=_seconds_timestamp), "listTriggers", ("fuzz",),
                       {"envelope_and_meta", "response_schema_conformance"}),
    "403 details": (dict(path=r"^/api/v1/", body=_forget_missing_scopes), "createWebhook", ("scopes",),
                    {"scope_details"}),
    "scope not enforced": (dict(path=r"^/api/v1/webhooks/[^/]+$", status=lambda s: 404 if s == 403 else s,
                                body=_not_found_instead), ("deleteWebhook", "createWebhook"), ("scopes",),
                           {"scope_enforcement"}),
    "error code": (dict(path=r"^/api/v1/webhooks/", body=_wrong_code), "getWebhook", ("scopes",),
                   {"error_catalogue", "response_schema_conformance"}),
    "event name": (dict(path=r"/events$", text=lambda chunk: chunk.replace(b"event: execution:", b"event: run:")),
                   "streamExecutionEvents", ("known-ids",), {"sse_events"}),
}


def _run(app, operations, phases: tuple[str, ...]):
    target = fake_target("drift", app, throttle=Throttle(sleep=lambda seconds: None))  # 429s: no waiting
    operations = (operations,) if isinstance(operations, str) else operations
    try:
        return run(target, Options(max_examples=3, phases=phases, operations=frozenset(operations)))
    finally:
        target.close()


@pytest.mark.parametrize("name", list(DRIFTS))
def test_drift_fails_the_run(name):
    alteration, operations, phases, expected = DRIFTS[name]
    report = _run(Alter(create_app(default_scenario()), **alteration), operations, phases)
    judged = operations if isinstance(operations, str) else operations[0]
    tripped = {f.check for f in report.new_findings if f.operation == judged}
    assert expected <= tripped, f"{name}: expected {expected}, got {tripped}"
    assert not report.ok


def test_the_unaltered_fake_passes_the_same_runs():
    for name, (_, operations, phases, _) in DRIFTS.items():
        report = _run(create_app(default_scenario()), operations, phases)
        assert not report.new_findings, f"{name}: {explain(report.new_findings)}"


def _rate_limit_storm():
    """The default data, with every GET /webhooks answered 429 by a fault rule."""
    storm = [{"name": "storm", "match": {"operation": "listWebhooks"},
              "do": {"error": "rate_limit_exceeded", "window": "minute"}}]
    return create_app(Scenario({**default_scenario().data, "faults": storm}, "rate-limit storm"))


def test_a_429_must_say_when_to_come_back():
    altered = _run(Alter(_rate_limit_storm(), r"^/api/v1/webhooks$", drop_headers=["Retry-After"]),
                   "listWebhooks", ("fuzz",))
    assert "retry_after" in {f.check for f in altered.new_findings}
    plain = _run(_rate_limit_storm(), "listWebhooks", ("fuzz",))
    assert plain.requests and not plain.new_findings, explain(plain.new_findings)


def test_a_new_server_error_is_a_new_finding():
    """A 500 that no baseline entry lists fails the run, beside the known ones."""
    def break_down(doc):
        return {"statusCode": 500, "error": "Internal Server Error", "message": "connection pool exhausted"}
    app = Alter(create_app(default_scenario()), r"^/api/v1/agents$", status=lambda s: 500, body=break_down)
    report = _run(app, "listAgents", ("fuzz",))
    assert {(f.check, f.baseline) for f in report.new_findings} >= {("not_a_server_error", None)}


CONTRACT_TESTS = Path(__file__).resolve().parent


def test_the_suite_fails_against_an_altered_fake(pytester, monkeypatch):
    app = Alter(create_app(default_scenario()), r"^/api/v1/workflows/[^/]+$", body=_add_field)
    with serve_in_thread(app) as server:
        monkeypatch.setenv("FAKEMAESTRO_TARGET_URL", server.base_url)
        monkeypatch.setenv("FAKEMAESTRO_TARGET_API_KEY", server.key("bulk"))
        monkeypatch.setenv("FAKEMAESTRO_TARGET_READONLY_KEY", server.key("read-only"))
        monkeypatch.setenv("FAKEMAESTRO_CONFORM_MAX_EXAMPLES", "1")
        monkeypatch.setenv("FAKEMAESTRO_CONFORM_OPERATIONS", "getWorkflow,listWorkflows")
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--rootdir", str(CONTRACT_TESTS.parent),
            f"{CONTRACT_TESTS / 'test_operations.py'}::test_operation_conforms", "-k", "getWorkflow or listWorkflows")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_operation_conforms*url-getWorkflow*", "*undocumented key 'owner_id'*"])

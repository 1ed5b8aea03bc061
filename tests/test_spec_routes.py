"""The app's routes and openapi.yaml's operations are the same set, with the same scopes."""
import pytest

from fakemaestro.http import routing
from fakemaestro.http.routing import Router
from fakemaestro.resources import operations

from . import spec


def test_routes_and_documented_operations_are_the_same_set():
    doc = spec.document()
    documented = {(m.upper(), path, op["operationId"], tuple(op["x-required-scopes"]))
                  for path, item in doc["paths"].items() for m, op in item.items()
                  if m in ("get", "post", "put", "patch", "delete")}
    served = {(op.method, op.path, op.operation_id, op.scopes) for op in operations()}
    assert served == documented


def test_static_segments_beat_parameters_per_method():
    router = Router(operations())
    assert router.match("GET", "/api/v1/agents/x/memory/stats")[0].operation_id == "getAgentMemoryStats"
    op, params = router.match("GET", "/api/v1/agents/x/memory/search")
    assert op.operation_id == "getAgentMemory" and params == {"agentId": "x", "userId": "search"}
    assert router.match("PUT", "/api/v1/agents/x/memory/stats")[1] == {"agentId": "x", "userId": "stats"}
    assert router.match("GET", "/api/v1/agents/x/threads") is None
    assert router.match("GET", "/api/v1/workflows/")[0].operation_id == "listWorkflows"
    assert router.match("GET", "/api/v1/workflows/x/") is None
    assert router.match("GET", "/api/v1/workflows/" + "a" * 101) is None
    assert router.match("GET", "/api/v1/workflows/" + "a" * 100) is not None
    assert router.match("HEAD", "/api/v1/workflows")[0].operation_id == "listWorkflows"


def test_repeated_paths_match_the_same_with_fresh_parameters_and_a_bounded_memory(monkeypatch):
    monkeypatch.setattr(routing, "CACHED_PATHS", 3)
    router = Router(operations())
    first = router.match("GET", "/api/v1/executions/e-1")
    first[1]["id"] = "changed by a handler"
    again = router.match("GET", "/api/v1/executions/e-1")
    assert again[0].operation_id == "getExecution" and again[1] == {"id": "e-1"}
    assert router.match("POST", "/api/v1/executions/e-1") is None and router.match("POST", "/api/v1/executions/e-1") is None
    for n in range(10):
        assert router.match("GET", f"/api/v1/workflows/w-{n}")[1] == {"id": f"w-{n}"}
    assert len(router._matches) == 3
    for _ in range(2):  # a malformed encoding is refused every time
        with pytest.raises(routing.BadUrl):
            router.match("GET", "/api/v1/workflows/%zz")


def test_the_spec_checker_catches_a_wrong_body(client, keys):
    # The checker itself must fail on drift: a body missing a required field.
    from fakemaestro.resources.workflows import OPERATIONS
    op = OPERATIONS[0]
    bad = b'{"data":[{"id":"x"}],"pagination":{},"meta":{}}'
    assert spec.check(op, "GET", 200, "application/json; charset=utf-8", bad)
    assert spec.check(op, "GET", 299, "application/json", b"{}")

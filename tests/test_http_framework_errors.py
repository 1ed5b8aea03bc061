"""Errors production answers in Fastify's own shape, not the public-API envelope
(CONTRACT.md §1.1, §1.2, §1.7): body parsing before authentication, routing 404s,
bad URLs, path-parameter rules, and Postgres UUID errors on path ids.

Uses the production-recordings scenario for its well-known ids."""
from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from fakemaestro import messages
from fakemaestro.clock import Clock
from fakemaestro.scenario import load_scenario_file

from .conftest import make_app
from .recordings import SCENARIO as RECORDINGS_SCENARIO

WF = "c0000000-0000-4000-8000-000000000001"  # Echo workflow
PENDING = "d0000000-0000-4000-8000-000000000003"
AGENT = "e0000000-0000-4000-8000-000000000001"
THREAD = "f0000000-0000-4000-8000-000000000001"
TRIGGER = "10000000-0000-4000-8000-000000000001"
KB = "20000000-0000-4000-8000-000000000001"
HOOK = "30000000-0000-4000-8000-000000000001"
USER = "a0000000-0000-4000-8000-000000000001"
BULK = "fm_live_JbLlVxofiRXSvSlW45yaX95AhxYyEVb9"
JSON_CT = "application/json; charset=utf-8"
MIB = 1_048_576


_SCENARIO = load_scenario_file(RECORDINGS_SCENARIO)  # parsed once; each test builds a fresh store


@pytest.fixture
def c():
    app = make_app(_SCENARIO, clock=Clock(frozen_at_ms=1795872774000))  # as the recordings_app fixture
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def auth(extra: dict | None = None) -> dict:
    return {"X-API-Key": BULK, **(extra or {})}


def fde(status: int, error: str, message: str, code: str | None = None) -> bytes:
    """Fastify's default error body, byte for byte (statusCode, code?, error, message)."""
    body = {"statusCode": status}
    if code is not None:
        body["code"] = code
    body.update(error=error, message=message)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def route_404(method: str, url: str) -> bytes:
    return json.dumps({"message": messages.ROUTE_NOT_FOUND.format(method=method, url=url),
                       "error": "Not Found", "statusCode": 404}, separators=(",", ":")).encode()


def uuid_error(value: str) -> bytes:
    return fde(500, "Internal Server Error", messages.INVALID_UUID.format(value=value), code="22P02")


def assert_no_rate_headers(response) -> None:
    assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")], response.headers


# ================================================================= bodies (before auth)


MALFORMED = fde(500, "Internal Server Error", "Expected property name or '}' in JSON at position 1")


@pytest.mark.parametrize("headers", [{}, auth()], ids=["no-key", "with-key"])
def test_malformed_json_is_500_before_auth(c, headers):
    response = c.post(f"/api/v1/workflows/{WF}/execute", content=b"{not json",
                      headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 500
    assert response.content == MALFORMED  # V8's JSON.parse message, as recorded from production
    assert response.headers["content-type"] == JSON_CT
    assert response.headers["connection"] == "close"
    assert_no_rate_headers(response)
    assert "x-request-id" in response.headers


def test_malformed_json_with_charset_parameter(c):
    response = c.post("/api/v1/webhooks", content=b'{"name":"x",}',
                      headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 500
    assert response.json()["message"] == "Expected double-quoted property name in JSON at position 12"


def test_malformed_json_does_not_consume_the_rate_limit(c):
    before = int(c.get("/api/v1/workflows", headers=auth()).headers["x-ratelimit-remaining"])
    for _ in range(3):
        c.post("/api/v1/webhooks", content=b"{", headers=auth({"Content-Type": "application/json"}))
    after = int(c.get("/api/v1/workflows", headers=auth()).headers["x-ratelimit-remaining"])
    assert after == before - 1


@pytest.mark.parametrize("body", [b" ", b"\n", b" \t\r\n "])
def test_whitespace_only_json_body(c, body):
    response = c.post("/api/v1/webhooks", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 500
    assert response.content == fde(500, "Internal Server Error", "Unexpected end of JSON input")
    assert response.headers["connection"] == "close"


def test_malformed_json_on_delete_is_500(c):
    response = c.request("DELETE", f"/api/v1/webhooks/{HOOK}", content=b"{oops",
                         headers=auth({"Content-Type": "application/json"}))
    assert response.status_code == 500
    assert response.json()["error"] == "Internal Server Error"
    assert response.json()["message"].startswith("Expected property name")


def test_delete_with_json_content_type_and_empty_body_is_fine(c):
    response = c.request("DELETE", f"/api/v1/webhooks/{HOOK}", content=b"",
                         headers=auth({"Content-Type": "application/json"}))
    assert response.status_code == 200
    assert response.json()["data"] == {"id": HOOK, "deleted": True}


@pytest.mark.parametrize("body", [b"", b"{}"])
def test_empty_json_body_is_an_empty_object(c, body):
    response = c.post("/api/v1/webhooks", content=body, headers=auth({"Content-Type": "application/json"}))
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "validation_error", "message": messages.NAME_REQUIRED}


def test_empty_json_body_on_execute_gives_empty_inputs(c):
    response = c.post(f"/api/v1/workflows/{WF}/execute", content=b"",
                      headers=auth({"Content-Type": "application/json"}))
    assert response.status_code == 202
    assert response.json()["data"]["inputs"] == {}


def test_no_body_and_no_content_type_is_accepted(c):
    response = c.post(f"/api/v1/agents/{AGENT}/threads", headers=auth())
    assert response.status_code == 201
    response = c.post("/api/v1/webhooks", headers=auth())
    assert response.status_code == 400
    assert response.json()["error"]["message"] == messages.NAME_REQUIRED


def test_text_plain_is_accepted_and_acts_like_an_empty_object(c):
    response = c.post(f"/api/v1/workflows/{WF}/execute", content=b"hello",
                      headers=auth({"Content-Type": "text/plain"}))
    assert response.status_code == 202
    assert response.json()["data"]["inputs"] == {}


def test_text_plain_json_looking_body_is_not_parsed_as_json(c):
    body = json.dumps({"name": "n", "url": "https://example.test/h", "events": ["execution.started"]}).encode()
    response = c.post("/api/v1/webhooks", content=body, headers=auth({"Content-Type": "text/plain; charset=utf-8"}))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == messages.NAME_REQUIRED


def test_text_plain_malformed_is_not_an_error(c):
    response = c.post(f"/api/v1/agents/{AGENT}/threads", content=b"{not json",
                      headers=auth({"Content-Type": "text/plain"}))
    assert response.status_code == 201


def test_json_with_charset_parameter_is_parsed(c):
    body = json.dumps({"name": "n", "url": "https://example.test/h", "events": ["execution.started"]}).encode()
    response = c.post("/api/v1/webhooks", content=body, headers=auth({"Content-Type": "application/json; charset=utf-8"}))
    assert response.status_code == 201
    assert response.json()["data"]["name"] == "n"


def test_multipart_is_accepted_with_an_undefined_body(c):
    response = c.post("/api/v1/webhooks", headers=auth(),
                      files={"name": (None, "n"), "url": (None, "https://example.test/h")})
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == messages.NAME_REQUIRED


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/xml",
                                          "application/vnd.api+json", "text/html", "image/png"])
@pytest.mark.parametrize("headers", [{}, auth()], ids=["no-key", "with-key"])
def test_unsupported_media_type_is_415_before_auth(c, content_type, headers):
    response = c.post("/api/v1/webhooks", content=b"a=1", headers={**headers, "Content-Type": content_type})
    assert response.status_code == 415
    assert response.content == fde(415, "Unsupported Media Type",
                                   messages.UNSUPPORTED_MEDIA_TYPE.format(content_type=content_type),
                                   code="FST_ERR_CTP_INVALID_MEDIA_TYPE")
    assert response.headers["content-type"] == JSON_CT
    assert_no_rate_headers(response)


def test_body_without_content_type_is_415_undefined(c):
    response = c.post("/api/v1/webhooks", content=b'{"name":"x"}')
    assert "content-type" not in response.request.headers
    assert response.status_code == 415
    assert response.content == fde(415, "Unsupported Media Type", "Unsupported Media Type: undefined",
                                   code="FST_ERR_CTP_INVALID_MEDIA_TYPE")


TOO_LARGE = fde(413, "Payload Too Large", messages.BODY_TOO_LARGE, code="FST_ERR_CTP_BODY_TOO_LARGE")


def json_of_size(size: int) -> bytes:
    head, tail = b'{"pad":"', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("headers", [{}, auth()], ids=["no-key", "with-key"])
def test_body_over_one_mib_is_413_before_auth(c, headers):
    body = json_of_size(MIB + 1)
    assert len(body) == MIB + 1
    response = c.post("/api/v1/webhooks", content=body, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.content == TOO_LARGE  # Node's reason phrase "Payload Too Large", Fastify's key order
    assert response.headers["content-type"] == JSON_CT
    assert_no_rate_headers(response)


def test_body_of_exactly_one_mib_is_accepted(c):
    body = json_of_size(MIB)
    assert len(body) == MIB
    response = c.post("/api/v1/webhooks", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401  # parsed fine; then authentication fails
    response = c.post("/api/v1/webhooks", content=body, headers=auth({"Content-Type": "application/json"}))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == messages.NAME_REQUIRED


def test_text_plain_over_one_mib_is_413(c):
    response = c.post("/api/v1/webhooks", content=b"x" * (MIB + 1), headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    assert response.content == TOO_LARGE


def test_unknown_route_does_not_parse_the_body(c):
    # an unknown route never parses the body: 404, not 500
    response = c.post("/api/v1/nope", content=b"{bad", headers={"Content-Type": "application/json"})
    assert response.status_code == 404
    assert response.content == route_404("POST", "/api/v1/nope")


# ================================================================= bad URL


@pytest.mark.parametrize("path", ["/api/v1/workflows/%E0%A4%A", "/api/v1/workflows/%FF", "/api/v1/workflows/%zz",
                                  "/api/v1/executions/abc%"])
def test_bad_percent_encoding_is_400_fst_err_bad_url(c, path):
    response = c.get(path)  # no key needed: the router answers first
    assert response.request.url.raw_path.decode() == path  # sent verbatim
    assert response.status_code == 400
    assert response.content == json.dumps(
        {"error": "Bad Request", "code": "FST_ERR_BAD_URL", "message": messages.BAD_URL.format(path=path),
         "statusCode": 400}, separators=(",", ":")).encode()
    assert response.headers["content-type"].startswith("application/json")
    assert_no_rate_headers(response)


def test_bad_percent_encoding_on_unknown_path_is_also_400(c):
    response = c.get("/api/v1/nope/%E0%A4%A")
    assert response.status_code == 400
    assert response.json()["code"] == "FST_ERR_BAD_URL"


def test_percent_20_decodes_normally(c):
    response = c.get("/api/v1/workflows/%20", headers=auth())
    assert response.status_code == 500
    assert response.content == uuid_error(" ")


def test_percent_encoded_uuid_decodes_to_the_resource(c):
    encoded = "".join(f"%{ord(ch):02X}" for ch in WF)
    response = c.get(f"/api/v1/workflows/{encoded}", headers=auth())
    assert response.status_code == 200
    assert response.json()["data"]["id"] == WF


def test_bad_percent_encoding_in_the_query_string_only_is_fine(c):
    response = c.get("/api/v1/workflows?x=%E0%A4%A", headers=auth())
    assert response.status_code == 200


# ================================================================= routing 404s


@pytest.mark.parametrize("url", ["/api/v1/nope", "/api/v1/nope?x=1&y=2", "/api/v1/nope?x=a%20b&x=%2F",
                                 "/api/v1/workflows/x/y/z", "/nope", "/api/v2/workflows",
                                 "/api/v1/threads", "/api/v1/agents/x/threads", f"/api/v1/triggers/{TRIGGER}",
                                 "/api/v1/threads/x/events"])
@pytest.mark.parametrize("headers", [{}, auth()], ids=["no-key", "with-key"])
def test_unknown_route_is_fastify_404_without_auth_or_rate_limit(c, url, headers):
    response = c.get(url, headers=headers)
    assert response.status_code == 404
    assert response.content == route_404("GET", url)  # raw url, query string included
    assert response.headers["content-type"] == JSON_CT
    assert_no_rate_headers(response)


@pytest.mark.parametrize("method, url", [
    ("PUT", "/api/v1/workflows"), ("DELETE", "/api/v1/workflows"), ("POST", "/api/v1/workflows"),
    ("PATCH", "/api/v1/workflows"), ("PUT", f"/api/v1/workflows/{WF}"), ("DELETE", f"/api/v1/workflows/{WF}"),
    ("GET", f"/api/v1/workflows/{WF}/execute"), ("POST", f"/api/v1/executions/{PENDING}"),
    ("GET", f"/api/v1/executions/{PENDING}/cancel"), ("POST", "/api/v1/agents"),
    ("PATCH", f"/api/v1/threads/{THREAD}"), ("PUT", f"/api/v1/webhooks/{HOOK}"),
    ("GET", f"/api/v1/knowledge-bases/{KB}/query"), ("POST", f"/api/v1/webhooks/{HOOK}/deliveries"),
    ("DELETE", f"/api/v1/agents/{AGENT}/memory"), ("POST", f"/api/v1/webhooks/{HOOK}?x=1"),
])
def test_wrong_method_is_404_not_405(c, method, url):
    response = c.request(method, url, headers=auth())
    assert response.status_code == 404
    assert response.content == route_404(method, url)
    assert "allow" not in response.headers
    assert_no_rate_headers(response)


def test_get_memory_search_is_routed_to_memory_get(c):
    response = c.get(f"/api/v1/agents/{AGENT}/memory/search", headers=auth())
    assert response.status_code == 500
    assert response.content == uuid_error("search")


def test_unknown_route_with_bad_json_body_and_no_key(c):
    response = c.request("PUT", "/api/v1/workflows", content=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == 404
    assert response.content == route_404("PUT", "/api/v1/workflows")


def test_head_on_unknown_route(c):
    response = c.head("/api/v1/nope?x=1")
    assert response.status_code == 404
    assert response.content == b""
    assert response.headers["content-length"] == str(len(route_404("HEAD", "/api/v1/nope?x=1")))


@pytest.mark.parametrize("url", ["/api/v1", "/api/v1/"])
def test_api_root_is_404(c, url):
    response = c.get(url, headers=auth())
    assert response.status_code == 404
    assert response.content == route_404("GET", url)


@pytest.mark.parametrize("url", ["/API/V1/workflows", "/api/v1/Workflows", "/api/V1/workflows",
                                 "/Api/v1/workflows", "/api/v1/WORKFLOWS", "/api/v1/Knowledge-Bases"])
def test_paths_are_case_sensitive(c, url):
    response = c.get(url, headers=auth())
    assert response.status_code == 404
    assert response.content == route_404("GET", url)


# ================================================================= trailing slash


@pytest.mark.parametrize("collection", ["workflows", "executions", "agents", "triggers",
                                        "knowledge-bases", "webhooks"])
def test_collection_routes_accept_a_trailing_slash(c, collection):
    plain = c.get(f"/api/v1/{collection}", headers=auth()).json()
    slashed = c.get(f"/api/v1/{collection}/", headers=auth())
    assert slashed.status_code == 200
    assert slashed.json()["data"] == plain["data"]
    assert slashed.json()["pagination"] == plain["pagination"]


def test_trailing_slash_keeps_the_query_string(c):
    response = c.get("/api/v1/workflows/?per_page=1&page=2", headers=auth())
    assert response.status_code == 200
    assert response.json()["pagination"]["page"] == 2 and response.json()["pagination"]["per_page"] == 1


def test_create_webhook_accepts_a_trailing_slash(c):
    response = c.post("/api/v1/webhooks/", headers=auth(),
                      json={"name": "n", "url": "https://example.test/h", "events": ["execution.started"]})
    assert response.status_code == 201


@pytest.mark.parametrize("method, url", [
    ("GET", f"/api/v1/workflows/{WF}/"), ("POST", f"/api/v1/workflows/{WF}/execute/"),
    ("GET", f"/api/v1/executions/{PENDING}/"), ("POST", f"/api/v1/executions/{PENDING}/cancel/"),
    ("GET", f"/api/v1/executions/{PENDING}/events/"), ("GET", f"/api/v1/agents/{AGENT}/"),
    ("POST", f"/api/v1/agents/{AGENT}/threads/"), ("GET", f"/api/v1/agents/{AGENT}/memory/stats/"),
    ("GET", f"/api/v1/threads/{THREAD}/"), ("GET", f"/api/v1/threads/{THREAD}/messages/"),
    ("DELETE", f"/api/v1/threads/{THREAD}/"), ("POST", f"/api/v1/triggers/{TRIGGER}/execute/"),
    ("GET", f"/api/v1/knowledge-bases/{KB}/"), ("GET", f"/api/v1/webhooks/{HOOK}/"),
    ("PATCH", f"/api/v1/webhooks/{HOOK}/"), ("GET", f"/api/v1/webhooks/{HOOK}/deliveries/"),
])
def test_item_routes_reject_a_trailing_slash(c, method, url):
    response = c.request(method, url, headers=auth())
    assert response.status_code == 404
    assert response.content == route_404(method, url)


def test_memory_with_trailing_slash_is_memory_get_with_empty_user(c):
    response = c.get(f"/api/v1/agents/{AGENT}/memory/", headers=auth())
    assert response.status_code == 500
    assert response.content == uuid_error("")


# ================================================================= parameter length


def test_parameter_of_100_characters_matches(c):
    value = "a" * 100
    assert c.get(f"/api/v1/workflows/{value}").status_code == 401  # routed: authentication ran
    response = c.get(f"/api/v1/workflows/{value}", headers=auth())
    assert response.status_code == 500
    assert response.content == uuid_error(value)


@pytest.mark.parametrize("url", ["/api/v1/workflows/" + "a" * 101, "/api/v1/workflows/" + "a" * 500,
                                 f"/api/v1/agents/{AGENT}/memory/" + "b" * 101,
                                 "/api/v1/agents/" + "c" * 101 + "/memory/stats"])
def test_parameter_longer_than_100_characters_is_a_404(c, url):
    response = c.get(url)  # no key: routing fails before authentication
    assert response.status_code == 404
    assert response.content == route_404("GET", url)


# ================================================================= non-UUID path ids (§1.7 table)


FDE_CASES = [
    ("GET", "/api/v1/workflows/{bad}", None),
    ("GET", "/api/v1/executions/{bad}", None),
    ("GET", "/api/v1/executions/{bad}/events", None),
    ("GET", "/api/v1/agents/{bad}", None),
    ("POST", "/api/v1/agents/{bad}/threads", None),
    ("GET", "/api/v1/agents/{bad}/memory", None),
    ("GET", "/api/v1/agents/{bad}/memory/stats", None),
    ("GET", "/api/v1/agents/{bad}/memory/" + USER, None),
    ("PUT", "/api/v1/agents/{bad}/memory/" + USER, {"working_memory": "x"}),
    ("DELETE", "/api/v1/agents/{bad}/memory/" + USER, None),
    ("POST", "/api/v1/agents/{bad}/memory/search", {"query": "hello"}),
    ("GET", f"/api/v1/agents/{AGENT}/memory/{{bad}}", None),
    ("PUT", f"/api/v1/agents/{AGENT}/memory/{{bad}}", {"working_memory": "x"}),
    ("DELETE", f"/api/v1/agents/{AGENT}/memory/{{bad}}", None),
    ("GET", "/api/v1/threads/{bad}", None),
    ("DELETE", "/api/v1/threads/{bad}", None),
    ("GET", "/api/v1/threads/{bad}/messages", None),
    ("POST", "/api/v1/threads/{bad}/messages", {"content": "hi"}),
    ("GET", "/api/v1/knowledge-bases/{bad}", None),
    ("POST", "/api/v1/knowledge-bases/{bad}/query", {"query": "hello"}),
    ("GET", "/api/v1/webhooks/{bad}", None),
    ("PATCH", "/api/v1/webhooks/{bad}", {"name": "x"}),
    ("DELETE", "/api/v1/webhooks/{bad}", None),
    ("POST", "/api/v1/webhooks/{bad}/test", None),
    ("GET", "/api/v1/webhooks/{bad}/deliveries", None),
]
BAD_IDS = ["not-a-uuid", "wf_123", "123", "c0000000-0000-4000-8000-00000000000", "c0000000-0000-4000-8000-0000000000012",
           "g0000000-0000-4000-8000-000000000001", "c0000000--0000-4000-8000-000000000001"]


@pytest.mark.parametrize("method, template, body", FDE_CASES, ids=[f"{m} {t}" for m, t, _ in FDE_CASES])
def test_non_uuid_path_id_is_fde_500_22p02(c, method, template, body):
    response = c.request(method, template.format(bad="wf_123"), headers=auth(), json=body)
    assert response.status_code == 500
    assert response.content == uuid_error("wf_123")
    assert response.headers["content-type"] == JSON_CT


@pytest.mark.parametrize("bad", BAD_IDS)
def test_postgres_rejects_these_ids(c, bad):
    response = c.get(f"/api/v1/workflows/{bad}", headers=auth())
    assert response.status_code == 500
    assert response.content == uuid_error(bad)


def test_executions_list_with_bad_workflow_id_is_fde(c):
    response = c.get("/api/v1/executions?workflow_id=nope", headers=auth())
    assert response.status_code == 500
    assert response.content == uuid_error("nope")


@pytest.mark.parametrize("method, url, body, code", [
    ("POST", "/api/v1/workflows/{bad}/execute", None, "execution_failed"),
    ("POST", "/api/v1/workflows/{bad}/execute", {"inputs": {"a": 1}}, "execution_failed"),
    ("POST", "/api/v1/executions/{bad}/cancel", None, "internal_error"),
    ("POST", "/api/v1/triggers/{bad}/execute", None, "execution_failed"),
])
def test_non_uuid_id_inside_a_try_is_an_envelope_500(c, method, url, body, code):
    response = c.request(method, url.format(bad="wf_123"), headers=auth(), json=body)
    assert response.status_code == 500
    payload = response.json()
    assert list(payload) == ["error", "meta"]
    assert payload["error"] == {"code": code, "message": messages.INVALID_UUID.format(value="wf_123")}
    assert "x-ratelimit-remaining" in response.headers


def test_memory_search_with_bad_body_user_id_is_an_envelope_500(c):
    response = c.post(f"/api/v1/agents/{AGENT}/memory/search", headers=auth(),
                      json={"query": "hello", "user_id": "end-user-42"})
    assert response.status_code == 500
    assert response.json()["error"] == {"code": "internal_error",
                                        "message": messages.INVALID_UUID.format(value="end-user-42")}


@pytest.mark.parametrize("method, url, body, message", [
    ("PUT", f"/api/v1/agents/{AGENT}/memory/end-user-42", {}, messages.WORKING_MEMORY_REQUIRED),
    ("PUT", "/api/v1/agents/bad/memory/bad", None, messages.WORKING_MEMORY_REQUIRED),
    ("POST", "/api/v1/agents/bad/memory/search", {}, messages.MEMORY_QUERY_REQUIRED),
    ("POST", "/api/v1/threads/bad/messages", {}, messages.CONTENT_REQUIRED),
    ("POST", "/api/v1/knowledge-bases/bad/query", {}, messages.QUERY_REQUIRED),
])
def test_body_validation_400_comes_before_the_uuid_error(c, method, url, body, message):
    response = c.request(method, url, headers=auth(), json=body)
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "validation_error", "message": message}


@pytest.mark.parametrize("form", [
    WF.upper(),
    WF.replace("-", ""),
    "{" + WF + "}",
    "{" + WF.upper().replace("-", "") + "}",
    "c000-0000-0000-4000-8000-0000-0000-0001",  # a hyphen after any group of 4 digits
    "c0000000000040008000-000000000001",
])
def test_postgres_accepted_uuid_forms_find_the_resource(c, form):
    response = c.get(f"/api/v1/workflows/{form}", headers=auth())
    assert response.status_code == 200, response.text
    assert response.json()["data"]["id"] == WF  # the canonical id from the row


def test_accepted_form_of_an_unknown_id_is_a_404_with_the_id_as_given(c):
    given = "{C0000000000040008000000000000077}"
    response = c.get(f"/api/v1/workflows/{given}", headers=auth())
    assert response.status_code == 404
    assert response.json()["error"]["details"] == {"resource": "Workflow", "id": given}
    assert response.json()["error"]["message"] == messages.NOT_FOUND.format(resource="Workflow", id=given)


def test_delete_parses_a_body_only_with_content_type_and_a_declared_length(client, keys):
    # Fastify 5 handleRequest: DELETE/OPTIONS bodies are parsed only when a
    # content type and content-length/transfer-encoding are both present.
    import asyncio
    from .conftest import make_app
    app = make_app()
    key = {k.name: k.raw for k in app.state.fake.store.keys.values()}["bulk"]
    hook = next(h for h in app.state.fake.store.webhooks.values()
                if h.workspace_id == app.state.fake.store.key_by_name("bulk").workspace_id)

    async def delete(headers):
        scope = {"type": "http", "method": "DELETE", "path": f"/api/v1/webhooks/{hook.id}",
                 "raw_path": f"/api/v1/webhooks/{hook.id}".encode(), "query_string": b"",
                 "headers": [(b"x-api-key", key.encode())] + headers}
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)
        await app(scope, receive, send)
        return sent[0]["status"]

    assert asyncio.run(delete([(b"content-type", b"application/xml"), (b"content-length", b"0")])) == 415
    assert asyncio.run(delete([(b"content-type", b"application/xml")])) == 200

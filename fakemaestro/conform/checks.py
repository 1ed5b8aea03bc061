"""What openapi.yaml cannot say, as schemathesis checks (`(ctx, response, case)`,
registered with `@schemathesis.check`, so a schemathesis test that imports this
module runs them too). Each raises AssertionError with what is wrong; section
numbers (§) are CONTRACT.md's.

    envelope_and_meta      every body is an envelope or a Fastify error, keys in order;
                           meta = {request_id: UUID v4 (not X-Request-ID), timestamp: UTC
                           with milliseconds}
    pagination_arithmetic  page/per_page as parsed from the query; total_pages, has_next,
                           has_prev and the page's length from total_count
    rate_limit_headers     X-RateLimit-* on authenticated envelopes, never on a 401 or on
                           Fastify errors raised before the hooks
    retry_after            a 429 carries Retry-After = details.retry_after
    request_id_echo        X-Request-ID / X-Trace-ID echoed, or fresh UUID v4s
    error_catalogue        error code <-> status, details where production sends them,
                           Fastify bodies with their status and reason
    scope_details          a 403 lists the route's required scopes and exactly the missing ones
    documented_fields      no key the document does not declare for that status
    sse_events             an event stream's frames: names and payloads as `x-sse-events` says

schemathesis reads a `text/event-stream` schema as the schema of one event; openapi.yaml
describes the stream as raw text and its events in `x-sse-events` (§7.2), so event
streams are checked by `sse_events` instead of response_schema_conformance (the runner
leaves that one out for them: see SKIPPED_FOR_STREAMS).
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

import schemathesis
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ..http.reasons import phrase
from . import document

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")
DIGITS = re.compile(r"^[0-9]+$")
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
                "x-ratelimit-limit-day", "x-ratelimit-remaining-day")
# PublicApiErrorCode -> the only status production sends it with (§1.5)
ERROR_STATUS = {
    "invalid_api_key": 401, "expired_api_key": 401, "revoked_api_key": 401, "insufficient_scope": 403,
    "rate_limit_exceeded": 429, "resource_not_found": 404, "validation_error": 400, "execution_failed": 500,
    "internal_error": 500, "service_unavailable": 503, "not_implemented": 501, "timeout": 408,
}
WITH_DETAILS = ("resource_not_found", "insufficient_scope", "rate_limit_exceeded")
AUTH_MESSAGES = (  # §2.2
    "Missing API key. Provide it via X-API-Key header or Authorization: Bearer header.",
    "Invalid API key format.", "API key not found.",
    "This API key has been revoked. Please generate a new key.",
    "This API key has expired. Please generate a new key.", "This API key is inactive.",
)
FASTIFY_KEYS = {"statusCode", "code", "error", "message"}
SKIPPED_FOR_STREAMS = ("response_schema_conformance",)
# Fastify errors raised before the v1 hooks (router, body parser): no rate-limit headers (§3)
BEFORE_HOOKS_STATUSES = (404, 413, 415)
JS_SPACE = " \t\n\v\f\r\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000\ufeff"


# ------------------------------------------------------------------ reading responses

def header(response, name: str) -> str | None:
    values = response.headers.get(name.lower())
    return values[0] if values else None


def is_sse(response) -> bool:
    return (header(response, "content-type") or "").startswith("text/event-stream")


def body_of(response):
    """The JSON body, or None when there is none (HEAD, SSE, empty, not JSON)."""
    if is_sse(response) or not response.content:
        return None
    if not (header(response, "content-type") or "").startswith("application/json"):
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def kind(body) -> str:
    """success | list | error | fastify | other"""
    if not isinstance(body, dict):
        return "other"
    keys = list(body)
    if keys == ["data", "meta"]:
        return "success"
    if keys == ["data", "pagination", "meta"]:
        return "list"
    if keys == ["error", "meta"]:
        return "error"
    if {"statusCode", "error", "message"} <= set(keys) <= FASTIFY_KEYS:
        return "fastify"
    return "other"


def _fail(problems: list[str]) -> None:
    if problems:
        raise AssertionError("\n".join(problems))


# ------------------------------------------------------------------ envelope and meta

@schemathesis.check
def envelope_and_meta(ctx, response, case):
    """§1.4, §1.5, §1.7: the body's shape and key order; meta's request id and timestamp."""
    body = body_of(response)
    if body is None:
        return None
    shape, status, problems = kind(body), response.status_code, []
    if shape == "other":
        problems.append(f"the body is neither a public-API envelope nor a Fastify error: keys {_keys(body)}")
    elif shape in ("success", "list") and not 200 <= status < 300:
        problems.append(f"a success envelope with status {status}")
    elif shape in ("error", "fastify") and status < 400:
        problems.append(f"an error body with status {status}")
    if shape == "error":
        error_keys = _keys(body["error"])
        if error_keys not in (["code", "message"], ["code", "message", "details"]):
            problems.append(f"error keys {error_keys}, expected code, message[, details] in that order")
    if shape in ("success", "list", "error"):
        problems += _meta_problems(body["meta"], header(response, "x-request-id"))
        content_type = header(response, "content-type") or ""
        if content_type != "application/json; charset=utf-8":
            problems.append(f"content-type {content_type!r}, expected 'application/json; charset=utf-8' (§1.3)")
    _fail(problems)


def _meta_problems(meta, request_id_header: str | None) -> list[str]:
    if not isinstance(meta, dict) or _keys(meta) != ["request_id", "timestamp"]:
        return [f"meta keys {_keys(meta)}, expected request_id, timestamp"]
    problems = []
    request_id, timestamp = meta["request_id"], meta["timestamp"]
    if not isinstance(request_id, str) or not UUID4.match(request_id):
        problems.append(f"meta.request_id {request_id!r} is not a lowercase UUID v4 (§1.4)")
    elif request_id == request_id_header:
        problems.append("meta.request_id equals the X-Request-ID header; production draws them apart (§1.3)")
    if not isinstance(timestamp, str) or not TIMESTAMP.match(timestamp) or not _is_date(timestamp):
        problems.append(f"meta.timestamp {timestamp!r} is not a UTC ISO-8601 instant with milliseconds (§1.4)")
    return problems


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def _keys(value) -> list:
    return list(value) if isinstance(value, dict) else []


# ------------------------------------------------------------------ pagination

@schemathesis.check
def pagination_arithmetic(ctx, response, case):
    """§1.4, §1.6: the block agrees with itself, with the page's length and with the query."""
    body = body_of(response)
    if kind(body) != "list" or not isinstance(body.get("pagination"), dict):
        return None
    p, items = body["pagination"], body["data"]
    numbers = ("page", "per_page", "total_count", "total_pages")
    if not all(isinstance(p.get(k), int) and not isinstance(p.get(k), bool) for k in numbers) \
            or not isinstance(items, list):
        return None  # the schema check reports the types
    page, per_page, total, pages = (p[k] for k in numbers)
    problems = []
    query = _sent_query(response)
    expected_page = max(1, _int_or(_js_string(query.get("page"), "1"), 1))
    expected_per_page = min(100, max(1, _int_or(_js_string(query.get("per_page"), "20"), 20)))
    if (page, per_page) != (expected_page, expected_per_page):
        problems.append(f"page {page}, per_page {per_page}; the query asks for page {expected_page}, "
                        f"per_page {expected_per_page} (§1.6)")
    if per_page > 0 and pages != math.ceil(total / per_page):
        problems.append(f"total_pages {pages} != ceil(total_count {total} / per_page {per_page})")
    if p.get("has_next") is not (page < pages):
        problems.append(f"has_next {p.get('has_next')} but page {page} of {pages}")
    if p.get("has_prev") is not (page > 1):
        problems.append(f"has_prev {p.get('has_prev')} on page {page}")
    expected = _page_length(page, pages, per_page, total)
    if len(items) != expected:
        problems.append(f"{len(items)} items on page {page} of {pages} (total_count {total}, per_page {per_page}); "
                        f"expected {expected}")
    _fail(problems)


def _page_length(page: int, pages: int, per_page: int, total: int) -> int:
    """Full pages before the last, the remainder on it, nothing past the end."""
    if page < pages:
        return per_page
    if page == pages:
        return max(0, min(per_page, total - (page - 1) * per_page))
    return 0


def _sent_query(response) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(urlsplit(response.request.url).query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    return query


def _js_string(values: list[str] | None, default: str) -> str:
    """`String(query.x || default)`: a repeated parameter is an array, joined with commas."""
    if not values:
        return default
    if len(values) > 1:
        return ",".join(values)
    return values[0] or default


def _int_or(text: str, default: int) -> int:
    """`parseInt(text, 10) || default` (a JavaScript number: past 2**53 it is a rounded double)."""
    match = re.match(r"[+-]?[0-9]+", text.lstrip(JS_SPACE))
    value = int(match.group()) if match else 0
    if abs(value) > 2 ** 53:
        value = int(float(value))
    return value or default


# ------------------------------------------------------------------ headers

@schemathesis.check
def rate_limit_headers(ctx, response, case):
    """§3: all five X-RateLimit-* headers on every envelope that passed authentication;
    none on a 401 or on Fastify errors raised before the hooks (SSE heads: see §7.1)."""
    if is_sse(response):
        return None
    body, status = body_of(response), response.status_code
    present = [h for h in RATE_HEADERS if header(response, h) is not None]
    shape = kind(body)
    if status == 401 or (shape == "fastify" and status in BEFORE_HOOKS_STATUSES):
        _fail([f"{', '.join(present)} on a {status} answered before the rate limiter (§1.2, §3)"] if present else [])
        return None
    if shape not in ("success", "list", "error"):
        return None
    missing = [h for h in RATE_HEADERS if h not in present]
    if missing:
        _fail([f"missing {', '.join(missing)} on an authenticated {status} (§3)"])
    values = {h: header(response, h) for h in RATE_HEADERS}
    bad = [f"{h}: {v!r}" for h, v in values.items() if not DIGITS.match(v)]
    if bad:
        _fail([f"rate-limit headers must be decimal strings: {', '.join(bad)}"])
    n = {h: int(v) for h, v in values.items()}
    problems = []
    if n["x-ratelimit-remaining"] > n["x-ratelimit-limit"]:
        problems.append("X-RateLimit-Remaining exceeds X-RateLimit-Limit")
    if n["x-ratelimit-remaining-day"] > n["x-ratelimit-limit-day"]:
        problems.append("X-RateLimit-Remaining-Day exceeds X-RateLimit-Limit-Day")
    if n["x-ratelimit-reset"] % 60:
        problems.append(f"X-RateLimit-Reset {n['x-ratelimit-reset']} is not a minute boundary")
    _fail(problems)


@schemathesis.check
def retry_after(ctx, response, case):
    """§3: a 429 says when to come back, the same number in the header and the body."""
    if response.status_code != 429:
        return None
    value = header(response, "retry-after")
    if value is None or not DIGITS.match(value):
        _fail([f"a 429 without a numeric Retry-After header (got {value!r})"])
    body = body_of(response)
    details = (body.get("error") or {}).get("details") if kind(body) == "error" else None
    if not isinstance(details, dict):
        return None  # error_catalogue reports the missing details
    problems = []
    if details.get("retry_after") != int(value):
        problems.append(f"Retry-After {value} but details.retry_after {details.get('retry_after')!r}")
    bound = {"minute": 60, "day": 86400}.get(details.get("window"))
    if bound is None or not 1 <= int(value) <= bound:
        problems.append(f"Retry-After {value} outside 1..{bound} for window {details.get('window')!r}")
    _fail(problems)


@schemathesis.check
def request_id_echo(ctx, response, case):
    """§1.3: X-Request-ID and X-Trace-ID echo the request's, else are fresh UUID v4s."""
    body = body_of(response)
    if is_sse(response) or response.request.method == "OPTIONS" or \
            (kind(body) == "fastify" and body.get("code") == "FST_ERR_BAD_URL"):
        return None  # SSE heads, CORS's own answers and router errors carry neither (§7.1, §1.8, §1.1)
    problems = []
    for name in ("X-Request-ID", "X-Trace-ID"):
        sent, got = response.request.headers.get(name), header(response, name)
        if got is None:
            problems.append(f"no {name} header (§1.3)")
        elif sent and got != sent:
            problems.append(f"{name} {got!r} does not echo the request's {sent!r}")
        elif not sent and not UUID4.match(got):
            problems.append(f"{name} {got!r} is not a UUID v4 though the request sent none")
    _fail(problems)


# ------------------------------------------------------------------ errors

@schemathesis.check
def error_catalogue(ctx, response, case):
    """§1.5, §1.7, §2.2: the code goes with its status; details only where production sends them."""
    body = body_of(response)
    shape, status = kind(body), response.status_code
    if shape == "fastify":
        problems = []
        if body["statusCode"] != status:
            problems.append(f"Fastify body statusCode {body['statusCode']} on a {status}")
        reason = phrase(status)  # Fastify writes Node's phrase in `error` (not Python's names)
        if body["error"] != reason:
            problems.append(f"Fastify body error {body['error']!r}, expected {reason!r}")
        _fail(problems)
        return None
    if shape != "error" or not isinstance(body["error"], dict):
        return None
    error = body["error"]
    code, message = error.get("code"), error.get("message")
    problems = []
    if ERROR_STATUS.get(code) != status:
        problems.append(f"code {code!r} with status {status}; the catalogue pairs it with {ERROR_STATUS.get(code)}")
    has_details = "details" in error
    if code in WITH_DETAILS and not has_details:
        problems.append(f"{code} without details")
    if code not in WITH_DETAILS and has_details:
        problems.append(f"{code} with details {error['details']!r}; production sends none (§1.5)")
    if code == "resource_not_found" and isinstance(error.get("details"), dict):
        d = error["details"]
        if message != f"{d.get('resource')} with id '{d.get('id')}' not found":
            problems.append(f"404 message {message!r} does not match details {d!r}")
    if status == 401 and message not in AUTH_MESSAGES:
        problems.append(f"401 message {message!r} is none of production's six (§2.2)")
    _fail(problems)


@schemathesis.check
def scope_details(ctx, response, case):
    """§4: a 403 names the route's scopes in declared order and exactly those missing."""
    body = body_of(response)
    if response.status_code != 403 or kind(body) != "error":
        return None
    error = body["error"]
    details = error.get("details")
    if not isinstance(details, dict):
        return None  # error_catalogue reports it
    required = document.required_scopes(case.operation)
    yours = details.get("your_scopes") or []
    missing = [s for s in required if s not in yours]
    problems = []
    if details.get("required_scopes") != required:
        problems.append(f"required_scopes {details.get('required_scopes')!r}, the route requires {required!r}")
    if details.get("missing_scopes") != missing:
        problems.append(f"missing_scopes {details.get('missing_scopes')!r}; with your_scopes {yours!r} "
                        f"the missing ones are {missing!r}")
    if not missing:
        problems.append(f"403 although your_scopes {yours!r} hold every required scope")
    expected = "Missing required scopes: " + ", ".join(missing)
    if missing and error.get("message") != expected:
        problems.append(f"message {error.get('message')!r}, expected {expected!r}")
    _fail(problems)


# ------------------------------------------------------------------ field sets

@schemathesis.check
def documented_fields(ctx, response, case):
    """No key the document does not declare, at any depth, for this operation and status
    (objects with declared properties are closed unless they allow more explicitly)."""
    body = body_of(response)
    if body is None:
        return None
    schema = document.json_schema(document.operation_id(case.operation), response.status_code)
    if schema is None:
        return None  # status_code_conformance reports undocumented statuses
    _fail([f"{path or '/'}: undocumented key {key!r}" for path, key in undeclared(body, schema, "")])


def undeclared(instance, schema, path: str = ""):
    """(path, key) for every key of `instance` its schema does not declare."""
    yield from _undeclared(instance, [schema], path)


def _undeclared(instance, schemas: list, path: str):
    """`schemas` all apply to `instance` (allOf parts, or one property declared by several)."""
    parts, i = _parts(schemas), 0
    while i < len(parts):  # a matching branch may bring branches of its own
        branches = [document.resolve(b) for b in parts[i].get("oneOf", []) + parts[i].get("anyOf", [])]
        matching = [b for b in branches if _valid(instance, b)]
        if matching:  # the document keeps its oneOf branches disjoint
            parts += _parts([matching[0]])
        i += 1
    if isinstance(instance, dict):
        yield from _object_keys(instance, parts, path)
    elif isinstance(instance, list):
        items = [p["items"] for p in parts if "items" in p]
        if items:
            for i, item in enumerate(instance):
                yield from _undeclared(item, items, f"{path}/{i}")


def _parts(schemas: list) -> list[dict]:
    """The schemas with their allOf parts flattened and references resolved."""
    flat = []
    for schema in schemas:
        schema = document.resolve(schema)
        if isinstance(schema, dict):
            flat.append(schema)
            flat += _parts(schema.get("allOf", []))
    return flat


def _object_keys(instance: dict, parts: list[dict], path: str):
    properties: dict[str, list] = {}
    extra = []
    for part in parts:
        for name, sub in part.get("properties", {}).items():
            properties.setdefault(name, []).append(sub)
        if part.get("additionalProperties", False) is not False:
            extra.append(part["additionalProperties"])
    for key, value in instance.items():
        if key in properties:
            yield from _undeclared(value, properties[key], f"{path}/{key}")
        elif extra:
            yield from _undeclared(value, [e for e in extra if isinstance(e, dict)], f"{path}/{key}")
        elif properties:
            yield path, key


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource("urn:fakemaestro:openapi",
                                    Resource.from_contents(document.raw(), default_specification=DRAFT202012))


_VALIDATORS: dict[int, Draft202012Validator] = {}


def _valid(instance, schema: dict) -> bool:
    # keyed by id: every schema here is a node of the cached document, which lives as long
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        rooted = json.loads(json.dumps(schema).replace('"#/', '"urn:fakemaestro:openapi#/'))
        validator = _VALIDATORS[id(schema)] = Draft202012Validator(rooted, registry=_registry())
    return validator.is_valid(instance)


# ------------------------------------------------------------------ event streams

@schemathesis.check
def sse_events(ctx, response, case):
    """§7.2: `event: <name>` / `data: <json>` frames, no `id:` or `retry:` lines; every
    name declared in `x-sse-events` and its payload valid against the declared schema."""
    if not is_sse(response) or not response.content:
        return None
    spec = document.response_spec(document.operation_id(case.operation), response.status_code) or {}
    declared = spec.get("content", {}).get("text/event-stream", {}).get("x-sse-events", {})
    problems = []
    for frame in response.content.decode("utf-8", "replace").split("\n\n"):
        problems += _frame_problems(frame, declared)
    _fail(problems)


def _frame_problems(frame: str, declared: dict) -> list[str]:
    fields: dict[str, list[str]] = {}
    for line in frame.splitlines():
        if line and not line.startswith(":"):  # ": keepalive" is a comment
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.strip())
    stray = sorted(set(fields) - {"event", "data"})
    problems = [f"frame fields {stray}: production writes only event and data (§7.2)"] if stray else []
    if "event" not in fields:
        return problems
    name = fields["event"][0]
    if name not in declared:
        return problems + [f"event {name!r} is not declared (x-sse-events: {', '.join(declared)})"]
    try:
        payload = json.loads("\n".join(fields.get("data", [])))
    except ValueError:
        return problems + [f"event {name!r}: data is not JSON"]
    schema = document.resolve(declared[name])
    if not _valid(payload, schema):
        problems.append(f"event {name!r}: payload {payload!r} does not match its schema")
    return problems + [f"event {name!r}: undocumented key {key!r} at {path or '/'}"
                       for path, key in undeclared(payload, schema)]


CHECKS = (envelope_and_meta, pagination_arithmetic, rate_limit_headers, retry_after, request_id_echo,
          error_catalogue, scope_details, documented_fields, sse_events)

"""Hypothesis strategies for the schemas of openapi.yaml, by construction.

Covers the JSON Schema the document uses: $ref, const, enum, oneOf (branches the
document keeps disjoint), allOf (merged), type (or a list of types), properties,
required, additionalProperties, items, minItems/maxItems, minimum/maximum, pattern,
minProperties and the formats uuid and date-time. Uuids and timestamps are drawn
as production writes them (lowercase hyphenated; `toISOString()`), not from their
patterns, whose `\\d` would let any Unicode digit in.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

import yaml
from hypothesis import strategies as st

SCHEMAS = "#/components/schemas/"
ASCII = st.characters(codec="ascii", exclude_categories=("Cc",))
# text as Postgres stores it: no NUL, no lone surrogates
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=24)
INSTANTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31))
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
UUID_PATTERNS = (r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                 r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
JSON_LEAVES = st.none() | st.booleans() | st.integers(-10**6, 10**6) | TEXT
ANY_JSON = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)


@lru_cache(maxsize=1)
def document() -> dict:
    from ..app import openapi_text
    return yaml.safe_load(openapi_text())


def schema_names() -> list[str]:
    return sorted(document()["components"]["schemas"])


def timestamp(dt: datetime) -> str:
    """JavaScript's toISOString(): milliseconds and a Z."""
    return dt.replace(tzinfo=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def uuid_text(value) -> str:
    return str(value)


def from_schema(schema: dict | bool) -> st.SearchStrategy:
    if schema is True or schema == {} or _only_notes(schema):
        return ANY_JSON
    if "const" in schema:  # before $ref: an allOf part may narrow a referenced schema to it
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "$ref" in schema:
        return _ref(schema["$ref"])
    if "oneOf" in schema:
        return st.one_of([from_schema(branch) for branch in schema["oneOf"]])
    if "allOf" in schema:
        return from_schema(merged(schema["allOf"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}) for k in kind])
    return _typed(kind or _implied_type(schema), schema)


def _only_notes(schema: dict) -> bool:
    return set(schema) <= {"description", "examples", "title"}


@lru_cache(maxsize=None)
def _ref(ref: str) -> st.SearchStrategy:
    if not ref.startswith(SCHEMAS):
        raise ValueError(f"only {SCHEMAS}... references are supported; got {ref}")
    return st.deferred(lambda: from_schema(document()["components"]["schemas"][ref[len(SCHEMAS):]]))


def _implied_type(schema: dict) -> str:
    return "object" if "properties" in schema else "array" if "items" in schema else "string"


def _typed(kind: str, schema: dict) -> st.SearchStrategy:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -10**6), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6), allow_nan=False)
    if kind == "string":
        return _string(schema)
    if kind == "array":
        items = from_schema(schema.get("items", True))
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 4))
    if kind == "object":
        return _object(schema)
    raise ValueError(f"unsupported type {kind!r}")


def _string(schema: dict) -> st.SearchStrategy:
    if schema.get("format") == "uuid" or schema.get("pattern") in UUID_PATTERNS:
        return st.uuids(version=4).map(uuid_text)
    if schema.get("format") == "date-time" or schema.get("pattern") == TIMESTAMP_PATTERN:
        return INSTANTS.map(timestamp)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True, alphabet=ASCII)
    return TEXT


def _object(schema: dict) -> st.SearchStrategy:
    properties = {name: sub for name, sub in (schema.get("properties") or {}).items() if sub is not False}
    required = [name for name in schema.get("required", []) if name in properties]
    optional = {name: from_schema(sub) for name, sub in properties.items() if name not in required}
    extra = schema.get("additionalProperties", True)
    base = st.fixed_dictionaries({name: from_schema(properties[name]) for name in required}, optional=optional)
    if extra is not False and not properties:  # a free-form map (e.g. a workflow's outputs)
        values = ANY_JSON if extra is True else from_schema(extra)
        base = st.dictionaries(TEXT, values, min_size=schema.get("minProperties", 0), max_size=3)
    elif schema.get("minProperties"):
        base = base.filter(lambda d: len(d) >= schema["minProperties"])
    return base


def merged(parts: list) -> dict:
    """allOf as one schema: every part's $ref resolved and its properties merged
    (what the document's error envelopes need)."""
    out: dict = {}
    for part in parts:
        if "$ref" in part:
            part = document()["components"]["schemas"][part["$ref"][len(SCHEMAS):]]
        if "allOf" in part:
            part = merged(part["allOf"])
        out = _merge(out, part)
    return out


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        if key == "properties":
            props = dict(out.get("properties") or {})
            for name, sub in value.items():
                props[name] = _merge(props[name], sub) if isinstance(props.get(name), dict) \
                    and isinstance(sub, dict) else sub
            out["properties"] = props
        elif key == "required":
            out["required"] = list(dict.fromkeys([*(out.get("required") or []), *value]))
        elif key in ("const", "enum"):  # a narrower value replaces the base's type constraint
            out.pop("enum" if key == "const" else "const", None)
            out[key] = value
        else:
            out[key] = value
    return out

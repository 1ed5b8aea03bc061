"""How Postgres (through node-pg) takes the JavaScript values production writes.

node-pg turns a value into text before Postgres parses it: strings as they are,
numbers and booleans with String(), arrays as array literals, objects as JSON.
Postgres then applies the column's type: these helpers raise the same errors it
would (as JsThrown, for handlers to catch or let escape as production does).
"""
from __future__ import annotations

from typing import Any

from ..http.errors import JsThrown
from ..http.jsjson import dumps, js_value

TABLE_WEBHOOKS = "outgoing_webhooks"


def node_pg_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return dumps(js_value(value))
    if isinstance(value, list):
        return array_literal(value)
    return dumps(js_value(value))


def array_literal(items: list) -> str:
    def element(item: Any) -> str:
        if item is None:
            return "NULL"
        if isinstance(item, list):
            return array_literal(item)
        text = node_pg_text(item)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "{" + ",".join(element(i) for i in items) + "}"


def not_null(value: Any, column: str, table: str) -> None:
    if value is None:
        raise JsThrown(f'null value in column "{column}" of relation "{table}" violates not-null constraint',
                       pg_code="23502")


def varchar(value: Any, limit: int) -> str:
    text = node_pg_text(value)
    if len(text) > limit:
        raise JsThrown(f"value too long for type character varying({limit})", pg_code="22001")
    return text


def text_array(value: Any) -> list[str]:
    """A TEXT[] column: arrays are stored as text elements; anything else must parse as
    an array literal, which only '{}' does among the values that reach it here."""
    if isinstance(value, list):
        return [node_pg_text(v) if v is not None else None for v in value]
    text = node_pg_text(value)
    if text.strip() == "{}":
        return []
    raise JsThrown(f'malformed array literal: "{text}"', pg_code="22P02")


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def boolean(value: Any) -> bool:
    """Postgres boolin: true/yes/on/1 and false/no/off/0, case-insensitive, trimmed,
    any prefix of them (on/off need two letters to be unambiguous)."""
    if isinstance(value, bool):
        return value
    text = node_pg_text(value)
    word = text.strip().lower()
    for candidates, result in ((_TRUE, True), (_FALSE, False)):
        for full in candidates:
            minimum = 2 if full in ("on", "off") else 1
            if len(word) >= minimum and full.startswith(word):
                return result
    raise JsThrown(f'invalid input syntax for type boolean: "{text}"', pg_code="22P02")

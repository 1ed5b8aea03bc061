"""fakemaestro.http.v8json against what Node 20's JSON.parse answered.

tests/data/v8_json_errors.json is recorded by tools/gen_v8_json_fixtures.js
(run it with Node 20 to refresh it); these tests need no node.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from fakemaestro.http.v8json import JSONSyntaxError, parse

FIXTURE = Path(__file__).parent / "data" / "v8_json_errors.json"
CASES = json.loads(FIXTURE.read_text(encoding="utf-8"))
FAILING = [c for c in CASES if not c["ok"]]
VALID = [c for c in CASES if c["ok"]]


def message_of(text: str) -> str | None:
    try:
        parse(text)
    except JSONSyntaxError as err:
        assert str(err) == err.message
        return err.message
    return None


def comparable(value: Any) -> Any:
    """JS values carry only doubles and ordered keys: compare them that way."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return ["list", [comparable(v) for v in value]]
    return ["object", [[k, comparable(v)] for k, v in value.items()]]


def test_fixture_covers_every_message_kind():
    assert len(FAILING) > 500 and len(VALID) > 200
    kinds = {
        "Unexpected end of JSON input", "Unexpected token", "Unexpected number",
        "Unexpected string", "is not valid JSON", "Unexpected non-whitespace character",
        "Unterminated string", "Bad control character", "Bad escaped character",
        "Bad Unicode escape", "No number after minus sign", "Exponent part is missing",
        "Unterminated fractional number", "Expected double-quoted property name",
        "Expected property name or '}'", "Expected ':' after property name",
        "Expected ',' or ']' after array element", "Expected ',' or '}' after property value",
        "\"... is not valid JSON", "...\"", "\" is not valid JSON", "\"NaN\" is not valid JSON",
    }
    messages = "\n".join(c["message"] for c in FAILING)
    assert [k for k in kinds if k not in messages] == []


def test_every_failing_fixture_gets_v8s_message():
    wrong = [(c["input"][:80], c["message"], message_of(c["input"])) for c in FAILING
             if message_of(c["input"]) != c["message"]]
    assert wrong == [], f"{len(wrong)} of {len(FAILING)} differ"


def test_every_valid_fixture_gets_js_value():
    wrong = [c["input"][:80] for c in VALID
             if comparable(parse(c["input"])) != comparable(c["value"])]
    assert wrong == [], f"{len(wrong)} of {len(VALID)} differ"


@pytest.mark.parametrize("text, message", [
    ('{"inputs": {"message": "oops"',
     "Expected ',' or '}' after property value in JSON at position 29"),
    ("a string", "Unexpected token 'a', \"a string\" is not valid JSON"),
    ('{"name":"x",', "Expected double-quoted property name in JSON at position 12"),
    (" ", "Unexpected end of JSON input"),
    ("", "Unexpected end of JSON input"),
    ("{,}", "Expected property name or '}' in JSON at position 1"),
    ("undefined", '"undefined" is not valid JSON'),
    ("NaN", '"NaN" is not valid JSON'),
    ("[NaN]", "Unexpected token 'N', \"[NaN]\" is not valid JSON"),
    ("-Infinity", "No number after minus sign in JSON at position 1"),
    ('"😀" x', "Unexpected non-whitespace character after JSON at position 5"),
    ("x" * 30, "Unexpected token 'x', \"xxxxxxxxxx\"... is not valid JSON"),
])
def test_recorded_messages(text, message):
    assert message_of(text) == message


def test_context_snippet_may_end_inside_a_surrogate_pair():
    # V8 cuts snippets in UTF-16 code units, leaving half an emoji behind.
    text = '["😀😀😀😀😀😀😀😀😀😀", @]'
    assert message_of(text) == ("Unexpected token '@', "
                                '..."\ude00😀😀😀", @]" is not valid JSON')


def test_numbers_are_int_only_for_integral_literals():
    kinds = [type(v) for v in parse("[1, -0, 1.0, 1e2, 2.5, -3]")]
    assert kinds == [int, int, float, float, float, int]
    assert parse("12345678901234567890123") == 12345678901234567890123
    assert parse("1e400") == math.inf and parse("-1e400") == -math.inf
    assert parse("1" * 5000) == math.inf  # past Python's int digit limit: a float, like JS


def test_objects_order_keys_like_js():
    value = parse('{"b":1,"1":2,"a":3,"0":4,"a":5,"4294967295":6,"__proto__":7}')
    assert list(value.items()) == [("0", 4), ("1", 2), ("b", 1), ("a", 5),
                                   ("4294967295", 6), ("__proto__", 7)]


def test_key_order_holds_on_every_path():
    assert list(parse('{"b":1,"90":2}')) == ["90", "b"]
    deep = "[" * 3000 + "]" * 3000  # past Python's recursion limit: the fallback parser
    value = parse('{"b":1,"1":{"z":1,"0":2},"c":' + deep + "}")
    assert list(value) == ["1", "b", "c"] and list(value["1"]) == ["0", "z"]


def test_lone_surrogates_survive():
    assert parse('["\\ud800", "\\ud83d\\ude00"]') == ["\ud800", "😀"]


def test_deep_nesting_is_not_limited_by_python_recursion():
    value = parse("[" * 20000 + "]" * 20000)
    depth = 0
    while value:
        value, depth = value[0], depth + 1
    assert depth == 19999
    assert message_of("[" * 20000 + "]" * 19999) == (
        "Expected ',' or ']' after array element in JSON at position 39999")


def test_is_a_value_error():
    with pytest.raises(ValueError, match="Unexpected end of JSON input"):
        parse("[")

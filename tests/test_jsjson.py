"""Response bodies as JSON.stringify writes them, whichever encoder writes them.

dumps_bytes uses orjson and falls back to json for what orjson refuses; both must
give the same bytes, and those bytes must be JavaScript's.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakemaestro.http.jsjson import _dumps_bytes, dumps, dumps_bytes, js_value

# (Python value after JSON parsing, JSON.stringify of the same JavaScript value)
AS_JAVASCRIPT = [
    ({"a": 1.0, "b": -0.0, "c": 0.5}, '{"a":1,"b":0,"c":0.5}'),
    ([1e21, 1.5e300, 1e-7, 1.5e-7, 0.000001, 123.456, 1e20], '[1e+21,1.5e+300,1e-7,1.5e-7,0.000001,123.456,100000000000000000000]'),
    ([float("nan"), float("inf")], "[null,null]"),
    ({"s": "\x00\x1f\x7f\u2028/\"\\é😀"}, '{"s":"\\u0000\\u001f\x7f\u2028/\\"\\\\é😀"}'),
    ({"nested": {"list": [True, False, None, "", {}]}}, '{"nested":{"list":[true,false,null,"",{}]}}'),
]


@pytest.mark.parametrize(("value", "expected"), AS_JAVASCRIPT)
def test_writes_what_json_stringify_writes(value, expected):
    assert dumps_bytes(js_value(value)) == expected.encode("utf-8")
    assert _dumps_bytes(js_value(value)) == expected.encode("utf-8")
    assert dumps(js_value(value)) == expected


def test_what_orjson_refuses_goes_the_json_way():
    big = 2 ** 70  # orjson stops at 64 bits
    assert dumps_bytes({"n": big}) == b'{"n":1180591620717411303424}'
    # a lone surrogate cannot be UTF-8: escaped (the whole text then is ASCII)
    assert dumps_bytes({"s": "\ud800é"}) == b'{"s":"\\ud800\\u00e9"}'
    deep: list = []
    for _ in range(300):  # deeper than orjson's limit
        deep = [deep]
    assert dumps_bytes(deep) == json.dumps(deep, separators=(",", ":")).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_both_encoders_agree_on_every_parsed_json_value(value):
    value = js_value(value)
    assert dumps_bytes(value) == _dumps_bytes(value)

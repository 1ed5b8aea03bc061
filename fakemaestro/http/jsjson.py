"""JSON text exactly as JavaScript's JSON.stringify writes it.

Python's json module differs from V8 in two places that show in responses:
integral floats (`1.0` vs `1`) and where exponent notation starts (`1e-05` vs
`0.00001`). Values the fake echoes (workflow inputs, metadata, scores) go
through `js_value` once, so rendering can stay on a fast encoder: response
bodies are written by orjson (a fifth of json's cost on a list), which writes
what json writes for every value js_value leaves as it is; what orjson refuses
(lone surrogates, integers past 64 bits) goes the json way.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

_MARK = "\x00jsnum:"
_MARK_RE = re.compile(r'"\\u0000jsnum:([^"\\]+)"')
_MARK_RE_BYTES = re.compile(_MARK_RE.pattern.encode())
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode


def js_number_text(value: float) -> str:
    """Number.prototype.toString for a finite double."""
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    mantissa, _, exp = text.partition("e")
    if not exp:
        return text
    exponent = int(exp)
    digits = mantissa.replace(".", "").replace("-", "")
    sign = "-" if value < 0 else ""
    if -7 < exponent < 21:
        point = len(mantissa.split(".")[0].lstrip("-")) + exponent
        digits = digits.rstrip("0") or "0"
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return f"{sign}{digits[:point]}.{digits[point:]}"
    return f"{mantissa}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


def js_value(value: Any) -> Any:
    """Prepare a parsed JSON value for rendering with JavaScript's number format."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None  # JSON.stringify writes NaN/Infinity as null
        if value.is_integer() and abs(value) < 1e21:
            return int(value)
        text = js_number_text(value)
        # json and orjson write exponents their own ways (`1e-07`, `1e-7`): marked, both give JS's
        return value if text == repr(value) and "e" not in text else _MARK + text
    if isinstance(value, dict):
        return {k: js_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [js_value(v) for v in value]
    return value


def dumps(value: Any) -> str:
    text = _encode(value)
    if "\\u0000jsnum:" in text:
        text = _MARK_RE.sub(r"\1", text)
    return text


def dumps_bytes(value: Any) -> bytes:
    """dumps(value) as UTF-8: the body of a response."""
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _dumps_bytes(value)
    if b"\\u0000jsnum:" in data:
        data = _MARK_RE_BYTES.sub(rb"\1", data)
    return data


def _dumps_bytes(value: Any) -> bytes:
    # Lone surrogates (legal in JS strings) cannot be UTF-8 encoded; JSON.stringify
    # escapes them, so fall back to escaping everything non-ASCII in that rare case.
    text = dumps(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
        return _MARK_RE.sub(r"\1", text).encode("ascii")

"""The few JavaScript value rules production's handlers lean on.

Handlers read `request.body.x` where the body may be any JSON value, a string
(text/plain) or undefined; these helpers give the same answers in Python.
"""
from __future__ import annotations

import math
from typing import Any


class _Undefined:
    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()


def prop(value: Any, name: str) -> Any:
    """`value.name` for a parsed body: only plain objects carry named properties."""
    if isinstance(value, dict):
        return value.get(name, UNDEFINED)
    return UNDEFINED


def truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True  # objects and arrays, even empty ones


def or_default(value: Any, default: Any) -> Any:
    """`value || default`."""
    return value if truthy(value) else default


def to_string(value: Any) -> str:
    """`String(value)` for query parameters (strings or arrays of strings)."""
    if isinstance(value, list):
        return ",".join(to_string(v) for v in value)
    return "" if value is None else str(value)


def parse_int(text: str) -> float | int:
    """`parseInt(text, 10)`: leading whitespace, optional sign, leading digits; NaN otherwise."""
    s = text.lstrip(" \t\n\r\v\f\u00a0\ufeff")
    sign = 1
    if s[:1] in "+-" and s[:1]:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    digits = ""
    for ch in s:
        if "0" <= ch <= "9":
            digits += ch
        else:
            break
    return sign * int(digits) if digits else math.nan


def to_number(value: Any) -> float | int:
    """`Number(value)` for the JSON values a body can hold (used where production
    does arithmetic such as Math.min on a body field)."""
    if value is UNDEFINED:
        return math.nan
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        s = value.strip(" \t\n\r\v\f\u00a0\ufeff")
        if s == "":
            return 0
        try:
            if s.lower().startswith(("0x", "0o", "0b")):
                return int(s, 0)
            if s in ("Infinity", "+Infinity"):
                return math.inf
            if s == "-Infinity":
                return -math.inf
            if s.lower() in ("inf", "+inf", "-inf", "nan", "infinity", "-infinity", "+infinity"):
                return math.nan
            number = float(s)
            return int(number) if number.is_integer() and "." not in s and "e" not in s.lower() else number
        except ValueError:
            return math.nan
    if isinstance(value, list):
        if not value:
            return 0
        if len(value) == 1:
            return to_number(to_string(value[0]) if not isinstance(value[0], (dict, list)) else value[0])
        return math.nan
    return math.nan

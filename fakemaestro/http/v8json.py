"""JSON.parse as Node 20 (V8 11.3) does it, down to the exact error message.

Production parses request bodies with JavaScript's `JSON.parse` and, when that
throws, sends the V8 message back to the client, e.g.
`Expected ',' or '}' after property value in JSON at position 29` or
`Unexpected token 'a', "a string" is not valid JSON`. Python's json module
reports the same failures with other words and other positions, so the fake
needs its own account of them.

Valid bodies (nearly all of them) go through the C decoder of `json`, set up so
that it accepts exactly what JSON.parse accepts. Only when it refuses, or when
it would accept something JavaScript rejects (NaN, Infinity), or when it cannot
cope (nesting deeper than the recursion limit, integers past Python's digit
limit), does the scanner below run: a port of V8's `JsonParser` that walks the
text in UTF-16 code units, because V8 counts positions and cuts its context
snippets in code units (a character outside the BMP counts as 2, and a snippet
may end in half of it).

Values follow JavaScript where Python can:
- object keys keep their first position and take their last value; keys that
  are array indices ("0" .. "4294967294") come first in ascending order, as
  they do in a JS object; `__proto__` is a plain key;
- lone surrogates from `\\uD800`-style escapes stay in the str;
- numbers are `int` for an integral literal (no fraction, no exponent) and
  `float` otherwise. JavaScript has only doubles: it loses precision past
  2**53 and keeps `-0` as negative zero, where this returns the exact int (callers
  want ints) and 0. An integral literal too long for Python's int conversion
  limit becomes a float, as in JavaScript.
"""
from __future__ import annotations

import json
import json.scanner
import re
from bisect import bisect_left
from typing import Any

__all__ = ["JSONSyntaxError", "parse"]


class JSONSyntaxError(ValueError):
    """A JSON.parse failure; `.message` is V8's exact message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------- fast path

class _Rejected(Exception):
    """Python accepted a literal (NaN, Infinity) that JSON.parse rejects."""


def _reject_constant(name: str) -> Any:
    raise _Rejected(name)


_MAX_INDEX = 4294967294  # largest array index; such keys sort first in JS objects
_INDEX_KEY = re.compile(r"0|[1-9][0-9]{0,9}")
# Only a key that starts with a digit (raw or \u-escaped) can need reordering;
# this cheap, linear check for one lets most bodies skip the per-object hook.
_MAYBE_INDEX_KEY = re.compile(r'"[0-9\\]')


def _is_index(key: str) -> bool:
    return _INDEX_KEY.fullmatch(key) is not None and int(key) <= _MAX_INDEX


def _js_object(obj: dict) -> dict:
    """Reorder keys the way a JS object lists them: array indices first."""
    if not obj or min(obj) >= ":":  # no key starts with a digit ("9" < ":")
        return obj
    indices = sorted((k for k in obj if _is_index(k)), key=int)
    if not indices:
        return obj
    ordered = {k: obj[k] for k in indices}
    ordered.update((k, v) for k, v in obj.items() if k not in ordered)
    return ordered


def _decoder(**hooks: Any) -> json.JSONDecoder:
    return json.JSONDecoder(parse_constant=_reject_constant, strict=True, **hooks)


_decode = _decoder().decode
_decode_ordered = _decoder(object_hook=_js_object).decode
# The pure-Python scanner (used only if the _json accelerator is missing) lets
# `int()` read \u escapes, so it would accept "\u 1a2"; then always use ours.
_FAST = json.scanner.c_make_scanner is not None
_scan_value = json.scanner.make_scanner(_decoder(object_hook=_js_object))


def parse(text: str) -> Any:
    """JSON.parse(text); raises JSONSyntaxError with V8's message."""
    if _FAST:
        decode = _decode_ordered if _MAYBE_INDEX_KEY.search(text) else _decode
        try:
            return decode(text)
        except (ValueError, _Rejected, RecursionError):
            pass  # JSONDecodeError, digit limit, NaN/Infinity, deep nesting
    return _Parser(text).parse()


# ---------------------------------------------------------------- messages

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]")
_SPECIAL_SOURCES = frozenset({"[object Object]", "undefined", "Infinity", "NaN"})
_CONTEXT = 10  # V8's kMaxContextCharacters
_END = "Unexpected end of JSON input"


def _split_astral(match: re.Match) -> str:
    code = ord(match.group()) - 0x10000
    return chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


def _to_units(text: str) -> str:
    """One str character per UTF-16 code unit, as V8 indexes strings."""
    return _ASTRAL.sub(_split_astral, text) if _ASTRAL.search(text) else text


def _from_units(units: str) -> str:
    """Join surrogate pairs back into characters; lone surrogates stay."""
    if _SURROGATE.search(units) is None:
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _unexpected(src: str, pos: int) -> str:
    """V8's message for an unexpected code unit (or the end) at `pos`."""
    if pos >= len(src):
        return _END
    ch = src[pos]
    if ch == '"':
        return f"Unexpected string in JSON at position {pos}"
    if ch == "-" or "0" <= ch <= "9":
        return f"Unexpected number in JSON at position {pos}"
    if src in _SPECIAL_SOURCES:
        return f'"{src}" is not valid JSON'
    size = len(src)
    if size <= 2 * _CONTEXT:
        return f"Unexpected token '{ch}', \"{src}\" is not valid JSON"
    if pos < _CONTEXT:
        return f"Unexpected token '{ch}', \"{src[:pos + _CONTEXT]}\"... is not valid JSON"
    if pos < size - _CONTEXT:
        snippet = src[pos - _CONTEXT:pos + _CONTEXT]
        return f"Unexpected token '{ch}', ...\"{snippet}\"... is not valid JSON"
    return f"Unexpected token '{ch}', ...\"{src[pos - _CONTEXT:]}\" is not valid JSON"


def _at(what: str, pos: int) -> str:
    return f"{what} in JSON at position {pos}"


# ---------------------------------------------------------------- V8's parser

_WS = re.compile(r"[ \t\n\r]*")
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
_DIGIT_RUN = re.compile(r"[0-9]*")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
            "r": "\r", "t": "\t"}
_NUMBER_PART = frozenset("0123456789.eE-+")
_C_SCAN_FAILURES = 16
_LITERALS = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}


class _Fail(Exception):
    pass


class _Parser:
    """Iterative port of V8's JsonParser::ParseJsonValue (no recursion limit)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.src = _to_units(text)
        self.end = len(self.src)
        # Nested arrays and objects are first offered to the C scanner: when it
        # reads one whole, V8 would too (same grammar), only much faster. It
        # reads `text`; these map its code-point offsets to our code units.
        self.c_scans_left = _C_SCAN_FAILURES if _FAST else 0
        astral = _ASTRAL.finditer(text) if self.src is not text else ()
        self.astral_points = [m.start() for m in astral]
        self.astral_units = [k + n for n, k in enumerate(self.astral_points)]

    def _c_scan(self, i: int) -> tuple[Any, int] | None:
        try:
            value, end = _scan_value(self.text, i - bisect_left(self.astral_units, i))
        except (ValueError, StopIteration, _Rejected, RecursionError):
            # Each failure re-reads up to the error: cap them (deep nesting).
            self.c_scans_left -= 1
            return None
        return value, end + bisect_left(self.astral_points, end)

    def parse(self) -> Any:
        try:
            return self._value_and_end()
        except _Fail as fail:
            raise JSONSyntaxError(_from_units(str(fail))) from None

    def _fail_at(self, what: str, pos: int) -> _Fail:
        return _Fail(_at(what, pos))

    def _fail_unexpected(self, pos: int) -> _Fail:
        return _Fail(_unexpected(self.src, pos))

    def _skip(self, i: int) -> int:
        return _WS.match(self.src, i).end()

    def _char(self, i: int) -> str:
        return self.src[i] if i < self.end else ""

    def _value_and_end(self) -> Any:
        value, i = self._json_value(0)
        i = self._skip(i)
        if i < self.end:
            raise _Fail(f"Unexpected non-whitespace character after JSON at position {i}")
        return value

    def _json_value(self, i: int) -> tuple[Any, int]:
        # Each frame is [container, key]: a list for arrays, a list of
        # (key, value) pairs for objects (key is then the pending key).
        stack: list[list] = []
        while True:
            value, i = self._produce(i, stack)
            while True:  # consume the value; close finished containers
                if not stack:
                    return value, i
                frame = stack[-1]
                i = self._skip(i)
                ch = self._char(i)
                if frame[1] is None:  # array
                    frame[0].append(value)
                    if ch == ",":
                        i += 1
                        break
                    if ch != "]":
                        raise self._fail_at("Expected ',' or ']' after array element", i)
                    value = frame[0]
                else:
                    frame[0].append((frame[1], value))
                    if ch == ",":
                        frame[1], i = self._property_key(
                            self._skip(i + 1), "Expected double-quoted property name", first=False)
                        break
                    if ch != "}":
                        raise self._fail_at("Expected ',' or '}' after property value", i)
                    value = _js_object(dict(frame[0]))
                stack.pop()
                i += 1

    def _produce(self, i: int, stack: list[list]) -> tuple[Any, int]:
        """Produce a scalar or an empty container, or open frames until one is."""
        while True:
            i = self._skip(i)
            ch = self._char(i)
            if ch == '"':
                return self._string(i + 1)
            if ch == "-" or "0" <= ch <= "9":
                return self._number(i)
            if ch in _LITERALS:
                return self._literal(i, *_LITERALS[ch])
            if (ch == "[" or ch == "{") and stack and self.c_scans_left > 0:
                scanned = self._c_scan(i)
                if scanned is not None:
                    return scanned
            if ch == "[":
                i = self._skip(i + 1)
                if self._char(i) == "]":
                    return [], i + 1
                stack.append([[], None])
                continue
            if ch == "{":
                i = self._skip(i + 1)
                if self._char(i) == "}":
                    return {}, i + 1
                key, i = self._property_key(i, "Expected property name or '}'", first=True)
                stack.append([[], key])
                continue
            raise self._fail_unexpected(i)

    def _property_key(self, i: int, missing: str, first: bool) -> tuple[str, int]:
        """Key string at `i` (after whitespace), then the colon."""
        if self._char(i) != '"':
            raise self._fail_at(missing, i)
        key, i = self._string(i + 1)
        i = self._skip(i)
        if self._char(i) != ":":
            # V8 names the missing colon only after an object's first key; after
            # later keys it reports an unexpected token like anywhere else.
            if first:
                raise self._fail_at("Expected ':' after property name", i)
            raise self._fail_unexpected(i)
        return key, i + 1

    def _string(self, i: int) -> tuple[str, int]:
        """Scan a string whose opening quote is just before `i`."""
        src, parts = self.src, []
        while True:
            j = _PLAIN.match(src, i).end()
            parts.append(src[i:j])
            if j >= self.end:
                raise self._fail_at("Unterminated string", self.end)
            ch = src[j]
            if ch == '"':
                return _from_units("".join(parts)), j + 1
            if ch != "\\":
                raise self._fail_at("Bad control character in string literal", j)
            parts.append(self._escape(j + 1))
            i = j + (6 if src[j + 1] == "u" else 2)

    def _escape(self, i: int) -> str:
        """The character of the escape whose letter is at `i`."""
        ch = self._char(i)
        if ch == "" or ord(ch) > 0xFF:
            raise self._fail_unexpected(i)  # V8 treats these as unexpected tokens
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        if ch != "u":
            raise self._fail_at("Bad escaped character", i)
        hex4 = self.src[i + 1:i + 5]
        if _HEX4.fullmatch(hex4) is None:
            bad = next((k for k, c in enumerate(hex4) if c not in "0123456789abcdefABCDEF"),
                       len(hex4))
            raise self._fail_at("Bad Unicode escape", i + 1 + bad)
        return chr(int(hex4, 16))

    def _number(self, start: int) -> tuple[int | float, int]:
        """V8's ParseJsonNumber."""
        i = start + 1 if self.src[start] == "-" else start
        if self._char(i) == "0":
            i += 1
            ch = self._char(i)
            if "0" <= ch <= "9":
                raise self._fail_unexpected(i)  # "Unexpected number"
            if ch not in _NUMBER_PART:
                return 0, i  # "0" or "-0" (JS would give -0 for the latter)
        else:
            j = _DIGIT_RUN.match(self.src, i).end()
            if j == i:
                raise self._fail_at("No number after minus sign", i)
            i = j
        integral = True
        if self._char(i) == ".":
            integral = False
            i = self._digits(i + 1, "Unterminated fractional number")
        if self._char(i) in ("e", "E"):
            integral = False
            i += 1
            if self._char(i) in ("+", "-"):
                i += 1
            i = self._digits(i, "Exponent part is missing a number")
        literal = self.src[start:i]
        return (self._to_int(literal) if integral else float(literal)), i

    def _digits(self, i: int, missing: str) -> int:
        j = _DIGIT_RUN.match(self.src, i).end()
        if j == i:
            raise self._fail_at(missing, i)
        return j

    @staticmethod
    def _to_int(literal: str) -> int | float:
        try:
            return int(literal)
        except ValueError:  # longer than sys.get_int_max_str_digits()
            return float(literal)

    def _literal(self, i: int, word: str, value: Any) -> tuple[Any, int]:
        """V8's ScanLiteral: the first mismatching code unit is unexpected."""
        if self.src.startswith(word, i):
            return value, i + len(word)
        for k in range(1, len(word)):
            if self._char(i + k) != word[k]:
                raise self._fail_unexpected(i + k)
        raise AssertionError("unreachable")  # pragma: no cover

"""YAML (and JSON) loading that remembers where every value came from (file, line,
column), so a problem anywhere in a scenario can be reported at its exact place.

A mark is `(source, line, column)`, 1-based. Every mapping and list keeps the marks of
its own keys and values, each with its own file: after merging several files a value
still points into the file it came from.

JSON text is read with JSON's rules (the json module's own string and number parsing),
not YAML 1.1's: `"on"` stays text, `1e5` is a number, a tab is whitespace.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from json.decoder import JSONDecodeError, scanstring
from json.scanner import NUMBER_RE
from typing import Any

import yaml

Mark = tuple  # (source, line, column)
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MAX_REPEATED_VALUES = 1_000_000


class MarkedDict(dict):
    """A mapping from a scenario file; knows its own and its keys' and values' marks."""
    source: str = "<data>"
    mark: Mark = ("<data>", 0, 0)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.key_marks: dict[Any, Mark] = {}
        self.value_marks: dict[Any, Mark] = {}


class MarkedList(list):
    """A list from a scenario file; knows its own and its items' marks."""
    source: str = "<data>"
    mark: Mark = ("<data>", 0, 0)

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.item_marks: list[Mark] = []


@dataclass(frozen=True)
class Duplicate:
    """A key given twice in one mapping: where the second one is, and the first's line."""
    path: list
    key: Any
    mark: Mark
    first_line: int


@dataclass
class Document:
    value: Any
    mark: Mark  # where the document's value starts
    duplicates: list = field(default_factory=list)


# ---------------------------------------------------------------- YAML

def read_yaml(text: str, source: str) -> Document:
    """Parse YAML into plain values where every mapping and sequence carries its marks.
    Unquoted timestamps stay the text they were written as (the time checks and the
    builder read them). Raises yaml.YAMLError (with its own marks) on a syntax error."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(None, (source, 1, 1))
        builder = _YamlBuilder(loader, source)
        value = builder.build(node, [])
        return Document(value, _mark(node, source), builder.duplicates)
    finally:
        loader.dispose()


def _mark(node: yaml.Node, source: str) -> Mark:
    return source, node.start_mark.line + 1, node.start_mark.column + 1


class _YamlBuilder:
    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader, self.source = loader, source
        self.duplicates: list[Duplicate] = []
        self.built: dict[int, Any] = {}  # an anchored collection is built once, however often aliased
        self.sizes: dict[int, int] = {}  # values a collection holds, aliases counted out
        self.repeated = 0

    def build(self, node: yaml.Node, path: list) -> Any:
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            return _scalar(node, self.loader)
        if id(node) in self.built:
            self.repeated += self.sizes[id(node)]
            if self.repeated > MAX_REPEATED_VALUES:  # checks and messages would walk all of them
                raise yaml.composer.ComposerError(
                    None, None, f"aliases repeat more than {MAX_REPEATED_VALUES:,} values (this anchored collection "
                    "made it too many)", node.start_mark)
            return self.built[id(node)]
        made = self.mapping(node, path) if isinstance(node, yaml.MappingNode) else self.sequence(node, path)
        self.built[id(node)] = made
        self.sizes[id(node)] = 1 + sum(self.sizes.get(id(sub), 1) for pair in _children(node) for sub in pair)
        return made

    def mapping(self, node: yaml.MappingNode, path: list) -> MarkedDict:
        source = self.source
        explicit = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        self.loader.flatten_mapping(node)
        merged = len(node.value) - explicit  # `<<` pairs come first; explicit keys override them
        result = MarkedDict()
        result.source, result.mark = source, _mark(node, source)
        from_merge = set()  # keys a `<<` merge gave, which an explicit key may override
        for index, (key_node, value_node) in enumerate(node.value):
            key = _scalar(key_node, self.loader)
            if isinstance(key, (list, dict)) or not _hashable(key):
                raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a scalar",
                                                        key_node.start_mark)
            if index < merged:
                from_merge.add(key)
            elif key in from_merge:
                from_merge.discard(key)
            elif key in result:
                self.duplicates.append(Duplicate(path + [key], key, _mark(key_node, source),
                                                 result.key_marks[key][1]))
            result[key] = self.build(value_node, path + [key])
            result.key_marks[key] = _mark(key_node, source)
            result.value_marks[key] = _mark(value_node, source)
        return result

    def sequence(self, node: yaml.SequenceNode, path: list) -> MarkedList:
        result = MarkedList()
        result.source, result.mark = self.source, _mark(node, self.source)
        for index, item in enumerate(node.value):
            result.append(self.build(item, path + [index]))
            result.item_marks.append(_mark(item, self.source))
        return result


def _children(node: yaml.Node) -> list[tuple]:
    return node.value if isinstance(node, yaml.MappingNode) else [(item,) for item in node.value]


def _scalar(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag == TIMESTAMP_TAG:
        return node.value  # `2026-01-01T00:00:00Z` unquoted: the text, not a datetime
    return loader.construct_object(node, deep=True)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


# ---------------------------------------------------------------- JSON

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def read_json(text: str, source: str) -> Document:
    """Parse JSON exactly as json.loads does, keeping marks. Raises json.JSONDecodeError
    (with lineno and colno) on a syntax error."""
    return _JsonReader(text, source).document()


class _JsonReader:
    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.duplicates: list[Duplicate] = []

    def mark(self, index: int) -> Mark:
        line = bisect.bisect_right(self.line_starts, index) - 1
        return self.source, line + 1, index - self.line_starts[line] + 1

    def skip(self, index: int) -> int:
        return _WHITESPACE.match(self.text, index).end()

    def document(self) -> Document:
        start = self.skip(0)
        value, end = self.value(start, [])
        end = self.skip(end)
        if end != len(self.text):
            raise JSONDecodeError("Extra data", self.text, end)
        return Document(value, self.mark(start), self.duplicates)

    def value(self, i: int, path: list) -> tuple[Any, int]:
        s = self.text
        char = s[i:i + 1]
        if char == '"':
            return scanstring(s, i + 1, True)
        if char == "{":
            return self.object(i, path)
        if char == "[":
            return self.array(i, path)
        for word, value in (("null", None), ("true", True), ("false", False)):
            if s.startswith(word, i):
                return value, i + len(word)
        number = NUMBER_RE.match(s, i)
        if number:
            integer, frac, exp = number.groups()
            if frac or exp:
                return float(integer + (frac or "") + (exp or "")), number.end()
            return int(integer), number.end()
        for word, value in (("NaN", float("nan")), ("Infinity", float("inf")), ("-Infinity", float("-inf"))):
            if s.startswith(word, i):  # as json.loads reads them
                return value, i + len(word)
        raise JSONDecodeError("Expecting value", s, i)

    def object(self, start: int, path: list) -> tuple[MarkedDict, int]:
        s = self.text
        result = MarkedDict()
        result.source, result.mark = self.source, self.mark(start)
        i = self.skip(start + 1)
        if s[i:i + 1] == "}":
            return result, i + 1
        while True:
            if s[i:i + 1] != '"':
                raise JSONDecodeError("Expecting property name enclosed in double quotes", s, i)
            key_mark = self.mark(i)
            key, i = scanstring(s, i + 1, True)
            i = self.skip(i)
            if s[i:i + 1] != ":":
                raise JSONDecodeError("Expecting ':' delimiter", s, i)
            i = self.skip(i + 1)
            value_mark = self.mark(i)
            value, i = self.value(i, path + [key])
            if key in result:
                self.duplicates.append(Duplicate(path + [key], key, key_mark, result.key_marks[key][1]))
            result[key] = value
            result.key_marks[key], result.value_marks[key] = key_mark, value_mark
            i = self.skip(i)
            char = s[i:i + 1]
            if char == "}":
                return result, i + 1
            if char != ",":
                raise JSONDecodeError("Expecting ',' delimiter", s, i)
            i = self.skip(i + 1)

    def array(self, start: int, path: list) -> tuple[MarkedList, int]:
        s = self.text
        result = MarkedList()
        result.source, result.mark = self.source, self.mark(start)
        i = self.skip(start + 1)
        if s[i:i + 1] == "]":
            return result, i + 1
        while True:
            result.item_marks.append(self.mark(i))
            value, i = self.value(i, path + [len(result)])
            result.append(value)
            i = self.skip(i)
            char = s[i:i + 1]
            if char == "]":
                return result, i + 1
            if char != ",":
                raise JSONDecodeError("Expecting ',' delimiter", s, i)
            i = self.skip(i + 1)


# ---------------------------------------------------------------- both

def load_marked(text: str, source: str, syntax: str = "yaml") -> Any:
    """The value of a YAML (or, with syntax="json", JSON) document, with marks.
    Raises yaml.YAMLError / json.JSONDecodeError on a syntax error."""
    return (read_json if syntax == "json" else read_yaml)(text, source).value


def position(root: Any, path: list, key_position: bool = False, source: str = "<data>") -> Mark:
    """(file, line, column) of the value at `path` (or of its key, for unknown keys).
    Inside data that carries no marks: the nearest marked place, or line 0."""
    mark = getattr(root, "mark", None) or (source, 0, 0)
    node = root
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, dict) and _hashable(step) and step in node:
            if isinstance(node, MarkedDict):
                marks = node.key_marks if key_position and last else node.value_marks
                mark = marks.get(step, mark)
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            if isinstance(node, MarkedList) and step < len(node.item_marks):
                mark = node.item_marks[step]
            node = node[step]
        else:
            break
    return mark


def plain(value: Any) -> Any:
    """The same data without position bookkeeping (for dumping)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def yaml_path(path: list) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(top level)"


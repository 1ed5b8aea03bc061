"""YAML loading that remembers where every value came from (file, line, column),
so a problem anywhere in a scenario can be reported at its exact place."""
from __future__ import annotations

from typing import Any

import yaml


class MarkedDict(dict):
    """A mapping from a scenario file; knows its own and its keys' positions."""
    source: str = "<data>"
    mark: tuple[int, int] = (0, 0)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.key_marks: dict[Any, tuple[int, int]] = {}
        self.value_marks: dict[Any, tuple[int, int]] = {}


class MarkedList(list):
    source: str = "<data>"
    mark: tuple[int, int] = (0, 0)

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.item_marks: list[tuple[int, int]] = []


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_marked(text: str, source: str) -> Any:
    """Parse YAML (or JSON) into plain values where every mapping and sequence carries
    its position. Raises yaml.YAMLError (with its own marks) on a syntax error."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(node, loader, source)
    finally:
        loader.dispose()


def _build(node: yaml.Node, loader: yaml.SafeLoader, source: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = MarkedDict()
        result.source, result.mark = source, _pos(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a scalar",
                                                        key_node.start_mark)
            result[key] = _build(value_node, loader, source)
            result.key_marks[key] = _pos(key_node)
            result.value_marks[key] = _pos(value_node)
        return result
    if isinstance(node, yaml.SequenceNode):
        result = MarkedList()
        result.source, result.mark = source, _pos(node)
        for item in node.value:
            result.append(_build(item, loader, source))
            result.item_marks.append(_pos(item))
        return result
    return loader.construct_object(node, deep=True)


def position(root: Any, path: list, key_position: bool = False) -> tuple[str, int, int]:
    """(file, line, column) of the value at `path` (or of its key, for unknown keys)."""
    node, source, mark = root, getattr(root, "source", "<data>"), getattr(root, "mark", (1, 1))
    for step in path:
        if isinstance(node, MarkedDict) and step in node:
            source = node.source
            mark = node.key_marks.get(step, mark) if key_position and step == path[-1] else \
                node.value_marks.get(step, mark)
            node = node[step]
        elif isinstance(node, MarkedList) and isinstance(step, int) and step < len(node):
            source, mark = node.source, node.item_marks[step]
            node = node[step]
        else:
            break
    return source, mark[0], mark[1]


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

"""Combining scenario files: later files extend or override earlier ones.

Mappings merge key by key; lists of records merge by identity (`name` for API keys
and fault rules, which are known by name; `id`, else `name`, for other records): a record with a known identity replaces the earlier one,
a new one is appended; any other value is replaced. Two records with the same identity
in one file are both kept (the checks report the second as a duplicate).

Every key, value and item keeps the mark of the file it came from.
"""
from __future__ import annotations

from typing import Any

from .marked import MarkedDict, MarkedList

IDENTITY = ("id", "name")
# lists whose records people (and the CLI, the journal, fault matches) name
BY_NAME = {"api_keys": ("name", "id"), "faults": ("name",)}


def merge(base: Any, overlay: Any, key: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        result = _like(overlay, MarkedDict) if isinstance(overlay, MarkedDict) else {}
        for name, value in base.items():
            _put(result, name, value, base)
        for name, value in overlay.items():
            _put(result, name, merge(base[name], value, name) if name in base else value, overlay)
        return result
    fields = BY_NAME.get(key, IDENTITY)
    if isinstance(base, list) and isinstance(overlay, list) and _records(base, fields) \
            and _records(overlay, fields):
        return _merge_records(base, overlay, fields)
    return overlay


def _identity(item: dict, fields: tuple = IDENTITY):
    for field in fields:
        if field in item:
            try:
                hash(item[field])
            except TypeError:
                return None
            return field, item[field]
    return None


def _records(items: list, fields: tuple) -> bool:
    return bool(items) and all(isinstance(i, dict) and _identity(i, fields) for i in items)


def _merge_records(base: list, overlay: list, fields: tuple) -> list:
    result = _like(overlay, MarkedList) if isinstance(overlay, MarkedList) else []
    first = {}  # identity -> index in result of its first record
    for index, item in enumerate(base):
        first.setdefault(_identity(item, fields), len(result))
        _append(result, item, base, index)
    replaced = set()
    for index, item in enumerate(overlay):
        ident = _identity(item, fields)
        if ident in first and ident not in replaced:
            replaced.add(ident)
            result[first[ident]] = item
            if isinstance(result, MarkedList):
                result.item_marks[first[ident]] = _item_mark(overlay, index, result)
        else:  # new, or the same identity twice in the overlay (kept, so it is reported)
            replaced.add(ident)
            first.setdefault(ident, len(result))
            _append(result, item, overlay, index)
    return result


def _item_mark(source: list, index: int, result: MarkedList):
    if isinstance(source, MarkedList) and index < len(source.item_marks):
        return source.item_marks[index]
    return result.mark


def _append(result: list, item, source: list, index: int) -> None:
    result.append(item)
    if isinstance(result, MarkedList):
        result.item_marks.append(_item_mark(source, index, result))


def _like(model, cls):
    made = cls()
    made.source, made.mark = model.source, model.mark
    return made


def _put(result: dict, key, value, origin: dict) -> None:
    result[key] = value
    if isinstance(result, MarkedDict):
        if isinstance(origin, MarkedDict) and key in origin.value_marks:
            result.key_marks[key] = origin.key_marks[key]
            result.value_marks[key] = origin.value_marks[key]
        else:  # from data without marks: the mapping's own place
            result.key_marks[key] = result.value_marks[key] = result.mark

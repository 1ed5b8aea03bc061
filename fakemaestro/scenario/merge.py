"""Combining scenario files: later files extend or override earlier ones.

Mappings merge key by key; lists of records merge by identity (`id`, or `name` for
API keys and fault rules): a record with a known identity replaces the earlier one,
a new one is appended; any other value is replaced.
"""
from __future__ import annotations

from typing import Any

from .marked import MarkedDict, MarkedList

IDENTITY = ("id", "name")


def merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        result = _like(overlay, MarkedDict) if isinstance(overlay, MarkedDict) else {}
        for key, value in base.items():
            _put(result, key, value, base)
        for key, value in overlay.items():
            _put(result, key, merge(base[key], value) if key in base else value, overlay)
        return result
    if isinstance(base, list) and isinstance(overlay, list) and _records(base) and _records(overlay):
        return _merge_records(base, overlay)
    return overlay


def _identity(item: dict):
    for field in IDENTITY:
        if field in item:
            return field, item[field]
    return None


def _records(items: list) -> bool:
    return bool(items) and all(isinstance(i, dict) and _identity(i) for i in items)


def _merge_records(base: list, overlay: list) -> list:
    result = _like(overlay, MarkedList) if isinstance(overlay, MarkedList) else []
    positions = {}
    for source in (base, overlay):
        for index, item in enumerate(source):
            ident = _identity(item)
            mark = source.item_marks[index] if isinstance(source, MarkedList) else (0, 0)
            if ident in positions:
                result[positions[ident]] = item
                if isinstance(result, MarkedList):
                    result.item_marks[positions[ident]] = mark
            else:
                positions[ident] = len(result)
                result.append(item)
                if isinstance(result, MarkedList):
                    result.item_marks.append(mark)
    return result


def _like(model, cls):
    made = cls()
    made.source, made.mark = model.source, model.mark
    return made


def _put(result: dict, key, value, origin: dict) -> None:
    result[key] = value
    if isinstance(result, MarkedDict) and isinstance(origin, MarkedDict):
        result.key_marks[key] = origin.key_marks.get(key, (0, 0))
        result.value_marks[key] = origin.value_marks.get(key, (0, 0))

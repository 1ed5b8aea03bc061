"""The reviewed list of production's known defects (baseline.yaml).

Each entry names the defect, its CONTRACT.md section, the check it trips, how to
recognise its findings (operations, status, body and message patterns) and an expiry
date, after which it stops covering anything until someone reviews it again. Its
probes are short request sequences that show the defect on purpose, so a run can
tell when a defect has gone (the entry is stale) without waiting for the fuzzer to
stumble on it. A finding no entry covers is new.

Probe steps: {operation, path, query, body | raw_body, content_type, method, expect,
cleanup}. String values may hold `{known.NAME}` (an id the run harvested from the
target's lists: workflow, execution, agent, memory_user, trigger, knowledge_base,
webhook) and `{step.N:/json/pointer}` (a value from step N's answer). The step with
`expect: true` must show the defect; `cleanup` steps run afterwards, and only when
every value they need exists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from importlib import resources as pkg_resources
from pathlib import Path

import yaml

ENTRY_KEYS = ("id", "summary", "contract", "check", "operations", "status", "body", "message", "where",
              "quirk", "fake_only", "probes", "reviewed", "expires", "note")
REQUIRED = ("id", "summary", "contract", "check", "operations", "reviewed", "expires")
STEP_KEYS = ("operation", "method", "path", "query", "body", "raw_body", "content_type", "expect", "cleanup")
KNOWN_IDS = ("workflow", "execution", "agent", "memory_user", "trigger", "knowledge_base", "webhook")
SECTION = re.compile(r"^(§\d+(\.\d+)*|recordings? [0-9, -]+)$")
DIFFERENTIAL = "differential"


class BaselineError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    id: str
    summary: str
    contract: str
    check: str
    operations: tuple[str, ...]    # ("*",) for every operation
    reviewed: date
    expires: date
    status: int | None = None
    body: re.Pattern | None = None
    message: re.Pattern | None = None
    where: re.Pattern | None = None
    quirk: str | None = None
    fake_only: bool = False
    probes: tuple = ()
    note: str | None = None

    def expired(self, today: date) -> bool:
        return today > self.expires

    def covers(self, operation: str, check: str, status: int | None, body: str, message: str = "",
               where: str = "") -> bool:
        return (check == self.check
                and ("*" in self.operations or operation in self.operations)
                and (self.status is None or status == self.status)
                and (self.body is None or bool(self.body.search(body or "")))
                and (self.message is None or bool(self.message.search(message or "")))
                and (self.where is None or bool(self.where.search(where or ""))))


class Baseline:
    def __init__(self, entries: list[Entry], source: str) -> None:
        self.entries, self.source = entries, source

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Baseline":
        """The packaged baseline.yaml, or the file at `path`."""
        if path is None:
            text, source = pkg_resources.files(__package__).joinpath("baseline.yaml").read_text("utf-8"), \
                "fakemaestro/conform/baseline.yaml"
        else:
            text, source = Path(path).read_text("utf-8"), str(path)
        return cls.parse(text, source)

    @classmethod
    def parse(cls, text: str, source: str = "<baseline>") -> "Baseline":
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("entries"), list):
            raise BaselineError(f"{source}: expected a mapping with `version: 1` and a list of `entries`")
        entries = [_entry(item, f"{source}: entry {i + 1}") for i, item in enumerate(data["entries"])]
        ids = [e.id for e in entries]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise BaselineError(f"{source}: duplicate entry ids: {', '.join(duplicates)}")
        return cls(entries, source)

    def match(self, operation: str, check: str, status: int | None, body: str, message: str = "",
              where: str = "") -> Entry | None:
        return next((e for e in self.entries if e.covers(operation, check, status, body, message, where)), None)

    def by_id(self, entry_id: str) -> Entry:
        return next(e for e in self.entries if e.id == entry_id)


def _entry(item, where: str) -> Entry:
    if not isinstance(item, dict):
        raise BaselineError(f"{where}: expected a mapping")
    unknown = sorted(set(item) - set(ENTRY_KEYS))
    if unknown:
        raise BaselineError(f"{where}: unknown keys {', '.join(unknown)}; valid keys: {', '.join(ENTRY_KEYS)}")
    missing = [k for k in REQUIRED if k not in item]
    if missing:
        raise BaselineError(f"{where} ({item.get('id', '?')}): missing {', '.join(missing)}")
    where = f"{where} ({item['id']})"
    if not SECTION.match(str(item["contract"])):
        raise BaselineError(f"{where}: contract {item['contract']!r} is not a CONTRACT.md section like '§1.7'")
    operations = item["operations"]
    if operations == "*":
        operations = ["*"]
    if not isinstance(operations, list) or not operations or not all(isinstance(o, str) for o in operations):
        raise BaselineError(f"{where}: operations must be '*' or a list of operation ids")
    probes = item.get("probes") or []
    for probe in probes:
        _check_probe(probe, where)
    return Entry(
        id=str(item["id"]), summary=str(item["summary"]), contract=str(item["contract"]), check=str(item["check"]),
        operations=tuple(operations), reviewed=_date(item["reviewed"], where, "reviewed"),
        expires=_date(item["expires"], where, "expires"), status=item.get("status"),
        body=_regex(item.get("body"), where), message=_regex(item.get("message"), where),
        where=_regex(item.get("where"), where), quirk=item.get("quirk"), fake_only=bool(item.get("fake_only")),
        probes=tuple(tuple(dict(step) for step in probe) for probe in probes), note=item.get("note"))


def _check_probe(probe, where: str) -> None:
    if not isinstance(probe, list) or not probe:
        raise BaselineError(f"{where}: a probe is a non-empty list of steps")
    for step in probe:
        unknown = sorted(set(step) - set(STEP_KEYS)) if isinstance(step, dict) else ["(not a mapping)"]
        if unknown:
            raise BaselineError(f"{where}: probe step keys {', '.join(unknown)}; valid keys: {', '.join(STEP_KEYS)}")
        if "operation" not in step:
            raise BaselineError(f"{where}: every probe step names its operation")
    if sum(1 for step in probe if step.get("expect")) != 1:
        raise BaselineError(f"{where}: a probe has exactly one step with `expect: true`")
    for name in re.findall(r"\{known\.(\w+)\}", str(probe)):
        if name not in KNOWN_IDS:
            raise BaselineError(f"{where}: unknown id {{known.{name}}}; known: {', '.join(KNOWN_IDS)}")


def _date(value, where: str, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BaselineError(f"{where}: {key} {value!r} is not a YYYY-MM-DD date") from None


def _regex(value, where: str) -> re.Pattern | None:
    if value is None:
        return None
    try:
        return re.compile(str(value), re.S)
    except re.error as exc:
        raise BaselineError(f"{where}: bad pattern {value!r}: {exc}") from None

"""Fault schedules: what happens to the 1st, 2nd, 3rd... request an operation gets,
as plain values that hypothesis can draw and shrink, and as the scenario fault
rules that make the fake do it.

A schedule becomes one rule per run of equal steps, in order, each `when: {first: N}`.
That works because the engine counts, for each rule, only the requests that reach it
(engine.py): the first rule answers the first N matching requests and lets the
rest through to the second rule, which sees the N+1th request as its first, and so on.
After the last step requests get production's answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Iterable

from ..faults.actions import STATUS
from ..scenario.schema import ERROR_CODES

# The statuses the official SDK retries that a healthy service also sends now and
# then: rate limiting, a gateway's 502/504, an overloaded 503 (CONTRACT.md §9.1).
TRANSIENT_ERRORS = ("rate_limit_exceeded", "service_unavailable", "framework_502", "framework_504")
CATALOGUE_ERRORS = tuple(ERROR_CODES)
CONNECTION_FAULTS = ("reset", "close")
RULE_PREFIX = "fakemaestro.apply"
KINDS = ("error", "latency", "connection", "pass")


def error_status(code: str) -> int:
    """The HTTP status of a catalogue error code."""
    if code.startswith("framework_"):
        return int(code[-3:])
    return STATUS[code]


@dataclass(frozen=True)
class Fault:
    """One step of a schedule: what the fake does to one matching request.

    kind "error"      answers with `code` from production's catalogue (rendered as
                      production renders it; `framework_*` codes are Fastify-shaped bodies,
                      not the envelope), after `latency_ms`.
    kind "latency"    production's answer, `latency_ms` late.
    kind "connection" drops the connection (`code` "reset" or "close") after `latency_ms`.
    kind "pass"       production's answer, untouched.
    """

    kind: str
    code: str | None = None
    latency_ms: int = 0
    retry_after: int | None = None  # rate_limit_exceeded only: the Retry-After seconds
    message: str | None = None      # errors only: instead of production's default text

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if self.kind == "error" and self.code not in CATALOGUE_ERRORS:
            raise ValueError(f"unknown catalogue error {self.code!r}; valid: {', '.join(CATALOGUE_ERRORS)}")
        if self.kind == "connection" and self.code not in CONNECTION_FAULTS:
            raise ValueError(f"connection faults are {' or '.join(CONNECTION_FAULTS)}; got {self.code!r}")
        if self.retry_after is not None and self.code != "rate_limit_exceeded":
            raise ValueError("retry_after goes with the rate_limit_exceeded error only")

    @property
    def status(self) -> int | None:
        """The HTTP status of an error step; None for the others (a dropped connection
        has none, latency and pass steps get production's own)."""
        return error_status(self.code) if self.kind == "error" else None

    @property
    def envelope(self) -> bool:
        """Is the answer production's `{error, meta}` envelope (not a Fastify body)?"""
        return self.kind == "error" and not self.code.startswith("framework_")

    def do(self) -> dict:
        """The fault rule's `do` section."""
        do: dict = {}
        if self.kind == "error":
            do["error"] = self.code
            if self.retry_after is not None:
                do["retry_after"] = self.retry_after
            if self.message is not None:
                do["message"] = self.message
        elif self.kind == "connection":
            do["connection"] = self.code
        if self.latency_ms or not do:  # a pass step is a rule that fires and adds nothing
            do["latency"] = {"fixed_ms": self.latency_ms}
        return do

    def __repr__(self) -> str:
        late = f" +{self.latency_ms}ms" if self.latency_ms else ""
        if self.kind == "error":
            extra = f" retry_after={self.retry_after}" if self.retry_after is not None else ""
            extra += f" message={self.message!r}" if self.message is not None else ""
            return f"<{self.status} {self.code}{extra}{late}>"
        if self.kind == "connection":
            return f"<connection {self.code}{late}>"
        return f"<latency {self.latency_ms}ms>" if self.kind == "latency" else "<pass>"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))


@dataclass(frozen=True)
class FaultSchedule:
    """What the fake does to the 1st, 2nd... request matching `operation` (an
    operationId of openapi.yaml; None: every /api/v1 request); later requests get
    production's answer. Apply it with `fm.apply(schedule)`."""

    operation: str | None
    steps: tuple[Fault, ...]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    @property
    def errors(self) -> tuple[Fault, ...]:
        return tuple(s for s in self.steps if s.kind == "error")

    def rules(self, first_number: int = 0) -> list[dict]:
        """The scenario fault rules that play this schedule (equal steps in a row
        share one rule), named `fakemaestro.apply-<n>` from `first_number` on."""
        match = {"operation": self.operation} if self.operation else {"path": "/api/v1/*"}
        return [{"name": f"{RULE_PREFIX}-{n}", "match": dict(match), "when": {"first": len(list(run))},
                 "do": step.do()}
                for n, (step, run) in enumerate(groupby(self.steps), first_number)]

    def __repr__(self) -> str:
        target = self.operation or "every operation"
        return f"FaultSchedule({target}: [{', '.join(map(repr, self.steps))}])"

    def _repr_pretty_(self, printer, cycle) -> None:  # how hypothesis prints a falsifying example
        printer.text(repr(self))


def as_rules(faults: Iterable | FaultSchedule | Fault | dict | None) -> list[dict]:
    """Fault rules from what a test may hand over: a FaultSchedule, one Fault (for
    the next request of any operation), one rule dict, or a list of any of these
    (schedules one after the other: the rules of the first come first)."""
    rules: list[dict] = []
    for item in _items(faults):
        if isinstance(item, Fault):
            item = FaultSchedule(None, (item,))
        if isinstance(item, FaultSchedule):
            rules += item.rules(sum(r["name"].startswith(RULE_PREFIX) for r in rules))
        elif isinstance(item, dict):
            rules.append(dict(item))
        else:
            raise TypeError(f"expected a fault rule (dict), a FaultSchedule or a Fault; got {item!r}")
    return rules


def _items(faults) -> list:
    if faults is None:
        return []
    if isinstance(faults, (FaultSchedule, Fault, dict, str, bytes)):
        return [faults]
    return list(faults)

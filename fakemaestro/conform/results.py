"""What a conformance run found: findings (a check failed), differences (target and
reference fake disagree), chain walks and the state of each baseline entry. Findings
and differences that repeat are kept once, with a count and the first example."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

UUIDS = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
EXCERPT = 600


@dataclass
class Exchange:
    """One request and its answer, as reports show them."""

    method: str
    path: str              # path and query as sent
    request_body: str | None
    status: int | None
    response_body: str

    @classmethod
    def of(cls, response) -> "Exchange":
        request = response.request
        url = request.url
        path = url[url.index("/", url.index("//") + 2):] if "//" in url else url
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        text = response.content.decode("utf-8", "replace") if response.content else ""
        return cls(request.method, path, _cut(body) if body else None, response.status_code, _cut(text))

    def line(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class Finding:
    phase: str
    operation: str
    check: str
    title: str
    message: str
    exchange: Exchange
    baseline: str | None = None   # id of the baseline entry that lists it
    expired: bool = False         # ... and that entry has expired
    count: int = 1

    @property
    def is_new(self) -> bool:
        return self.baseline is None or self.expired

    def signature(self) -> tuple:
        return (self.operation, self.check, self.title, self.exchange.status, self.baseline,
                UUIDS.sub("<uuid>", self.message.split("\n", 1)[0]))


@dataclass
class Difference:
    phase: str
    operation: str
    where: str        # "status", "header x-request-id", "body /data/0/name"
    target: str
    reference: str
    exchange: Exchange
    baseline: str | None = None
    expired: bool = False
    count: int = 1

    @property
    def is_new(self) -> bool:
        return self.baseline is None or self.expired

    def signature(self) -> tuple:
        return (self.operation, self.where, self.target, self.reference, self.baseline)


@dataclass
class ChainStep:
    operation: str
    status: int | None
    expected: str      # "2xx" or "404"
    ok: bool


@dataclass
class ChainResult:
    name: str
    steps: list[ChainStep] = field(default_factory=list)
    completed: bool = False
    skipped: str | None = None    # why it did not run
    failure: str | None = None    # why it broke off


@dataclass
class EntryStatus:
    """reproduced | stale | not-probed | expired"""

    entry: str
    state: str
    detail: str = ""
    seen: int = 0                 # findings it covered during the run


@dataclass
class Report:
    target: str
    reference: str | None = None
    options: dict = field(default_factory=dict)
    requests: int = 0
    skipped_unsafe: int = 0
    per_operation: dict[str, dict[str, int]] = field(default_factory=dict)  # op -> phase -> requests
    findings: list[Finding] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    chains: list[ChainResult] = field(default_factory=list)
    baseline: list[EntryStatus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # operations that refused the read-only key (403)
    aborted: str | None = None
    waits: list[float] = field(default_factory=list)
    _seen: dict = field(default_factory=dict, repr=False)

    def count(self, phase: str, operation: str) -> None:
        self.requests += 1
        phases = self.per_operation.setdefault(operation, {})
        phases[phase] = phases.get(phase, 0) + 1

    def add(self, item: Finding | Difference) -> None:
        key = (type(item).__name__, item.signature())
        known = self._seen.get(key)
        if known is not None:
            known.count += 1
            return
        self._seen[key] = item
        (self.findings if isinstance(item, Finding) else self.differences).append(item)

    @property
    def new_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.is_new]

    @property
    def known_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_new]

    @property
    def new_differences(self) -> list[Difference]:
        return [d for d in self.differences if d.is_new]

    @property
    def stale(self) -> list[EntryStatus]:
        return [s for s in self.baseline if s.state in ("stale", "expired")]

    @property
    def broken_chains(self) -> list[ChainResult]:
        return [c for c in self.chains if c.failure]

    @property
    def ok(self) -> bool:
        return not (self.new_findings or self.new_differences or self.stale or self.broken_chains or self.aborted)

    def problems(self) -> list[str]:
        """One line per reason the run is not green."""
        lines = [f"new finding: {f.operation} [{f.check}] {f.title}: {f.message.splitlines()[0] if f.message else ''} "
                 f"({f.exchange.line()})" for f in self.new_findings]
        lines += [f"{'expired' if s.state == 'expired' else 'stale'} baseline entry {s.entry}: {s.detail}"
                  for s in self.stale]
        lines += [f"difference: {d.operation} {d.where}: target {d.target} / fake {d.reference} "
                  f"({d.exchange.line()})" for d in self.new_differences]
        lines += [f"chain {c.name} broke off: {c.failure}" for c in self.broken_chains]
        if self.aborted:
            lines.append(f"run aborted: {self.aborted}")
        return lines


def _cut(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT] + f"... ({len(text)} characters)"

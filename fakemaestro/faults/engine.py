"""Fault rules: which requests they match, when they fire, and what they do.

Rules are evaluated in order after body parsing and before authentication, as the
request pipeline places them; the first rule that matches and fires decides. Each
rule has its own random source seeded from the scenario seed and its position, so
the same scenario and seed give the same fault sequence.

A faked catalogue error that production only raises after authentication (403, 404,
400, 500, 501, 408, 503: actions.AFTER_AUTH) is answered as production's would be:
the key is authenticated and counted by the rate limiter, and the answer carries the
X-RateLimit-* headers. Damage (malformed_json, truncate_at, drip, sse_cut_after)
given with `error` or `status` damages that answer.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ..clock import parse_instant
from ..http.js import prop


@dataclass
class Decision:
    """What a fired rule asks of this exchange."""
    rule: "FaultRule"
    latency_ms: float = 0.0
    action: dict = field(default_factory=dict)

    @property
    def answers(self) -> bool:
        """Does the fault replace production's answer (rather than delay or damage it)?"""
        return any(k in self.action for k in ("error", "status", "connection"))


@dataclass
class FaultRule:
    index: int
    name: str
    match: dict
    when: dict
    do: dict
    enabled: bool = True
    seen: int = 0   # matching requests so far
    hits: int = 0   # times it fired
    first_seen_ms: int | None = None
    rng: random.Random = field(default_factory=random.Random)

    def summary(self) -> dict:
        return {"index": self.index, "name": self.name, "enabled": self.enabled, "seen": self.seen,
                "hits": self.hits, "match": self.match, "when": self.when, "do": self.do}


@dataclass
class RequestFacts:
    """What rules can look at, gathered once per request."""
    operation: str | None
    method: str
    path: str
    key_name: str | None
    tenant: str | None
    headers: dict[str, str]
    query: dict[str, Any]
    body: Any
    now_ms: int


class FaultEngine:
    def __init__(self, rules_data: list, seed: int) -> None:
        self.rules = [_rule(i, data, seed) for i, data in enumerate(rules_data or [])]

    def decide(self, facts: RequestFacts) -> Decision | None:
        for rule in self.rules:
            if not rule.enabled or not _matches(rule.match, facts):
                continue
            rule.seen += 1
            if rule.first_seen_ms is None:
                rule.first_seen_ms = facts.now_ms
            if _fires(rule, facts.now_ms):
                rule.hits += 1
                return Decision(rule, _latency(rule), rule.do)
        return None

    def by_name_or_index(self, ident: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.name == ident or str(rule.index) == ident:
                return rule
        return None


def _rule(index: int, data: dict, seed: int) -> FaultRule:
    return FaultRule(index=index, name=str(data.get("name") or f"rule-{index}"), match=dict(data.get("match") or {}),
                     when=dict(data.get("when") or {}), do=dict(data["do"]), enabled=data.get("enabled", True),
                     rng=random.Random(f"fakemaestro-faults:{seed}:{index}"))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _matches(match: dict, f: RequestFacts) -> bool:
    if "operation" in match and f.operation not in _as_list(match["operation"]):
        return False
    if "method" in match and f.method not in [m.upper() for m in _as_list(match["method"])]:
        return False
    if "path" in match and not fnmatchcase(f.path, match["path"]):
        return False
    if "key" in match and f.key_name not in _as_list(match["key"]):
        return False
    if "tenant" in match and f.tenant not in _as_list(match["tenant"]):
        return False
    if any(f.headers.get(name.lower()) != value for name, value in (match.get("headers") or {}).items()):
        return False
    if any(_query_text(f.query.get(name)) != value for name, value in (match.get("query") or {}).items()):
        return False
    return all(_body_value(f.body, path) == value for path, value in (match.get("body") or {}).items())


def _query_text(value) -> str | None:
    return ",".join(value) if isinstance(value, list) else value


def _body_value(body, dotted: str):
    for part in dotted.split("."):
        body = prop(body, part)
    return body


def _fires(rule: FaultRule, now_ms: int) -> bool:
    w, n = rule.when, rule.seen
    if "first" in w and n > w["first"]:
        return False
    if "after" in w and n <= w["after"]:
        return False
    if "every" in w and n % w["every"]:
        return False
    if "from" in w and now_ms < parse_instant(w["from"]):
        return False
    if "until" in w and now_ms >= parse_instant(w["until"]):
        return False
    if "during_ms" in w and now_ms - rule.first_seen_ms >= w["during_ms"]:
        return False
    if "times" in w and rule.hits >= w["times"]:
        return False
    # drawn last and only here, so the random sequence depends on matching requests alone
    return not ("probability" in w and rule.rng.random() >= w["probability"])


def _latency(rule: FaultRule) -> float:
    spec = rule.do.get("latency")
    if not spec:
        return 0.0
    if "fixed_ms" in spec:
        return float(spec["fixed_ms"])
    if "uniform_ms" in spec:
        low, high = spec["uniform_ms"]
        return rule.rng.uniform(low, high)
    shape = spec["lognormal"]
    return rule.rng.lognormvariate(math.log(shape["median_ms"]), shape["sigma"])

"""One conformance run against a target, phase by phase:

    coverage   schemathesis's deterministic boundary cases for every operation
    fuzz       hypothesis-generated cases, positive and negative, `max_examples` each
    known-ids  the same with path ids the target really has (harvested from its lists)
    scopes     every operation with the read-only key: a 403 exactly when a scope is missing
    chains     the stateful walks of chains.py, through openapi.yaml's links
    baseline   each baseline entry's probes: is the defect still there?

Every answer goes through all of schemathesis's built-in checks and ours (checks.py);
a failure a baseline entry covers is known, any other is new. With a `reference`
(differential mode) every request is sent to the reference fake too and the answers
are compared (differential.py).

Safety: a target that is not a FakeMaestro only gets GET and HEAD requests unless
writes are allowed; even then it never gets the ids of its own resources on a write
outside the chains (which clean up after themselves), and never string `inputs` on
execute (they break production's executions list for good, recordings 175-177).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import hypothesis
import requests
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.errors import Unsatisfiable
from schemathesis import AuthContext, CheckContext, GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from schemathesis.config import GenerationConfig

from . import chains, checks, document
from .baseline import Baseline, Entry
from .differential import compare
from .results import ChainResult, ChainStep, Difference, EntryStatus, Exchange, Finding, Report
from .target import Target
from .throttle import DailyQuotaExhausted

PHASES = ("coverage", "fuzz", "known-ids", "scopes", "chains", "baseline")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
NIL_ID = "00000000-0000-4000-8000-000000000000"  # a v4 UUID no target has
MAX_TRANSPORT_ERRORS = 5
# path prefix -> the harvested id an `{id}` / `{agentId}` parameter takes there
PATH_KINDS = (("/api/v1/workflows/", "workflow"), ("/api/v1/executions/", "execution"),
              ("/api/v1/agents/", "agent"), ("/api/v1/triggers/", "trigger"),
              ("/api/v1/knowledge-bases/", "knowledge_base"), ("/api/v1/webhooks/", "webhook"))
# makes the target send an HTTP request to the webhook's URL: never at a real one
NEVER_WITH_KNOWN_IDS = ("testWebhook",)
# what a run creates, and the operation that deletes it again (by `data.id`)
CREATED = {"createWebhook": "deleteWebhook", "createThread": "deleteThread"}


class Abort(Exception):
    pass


@dataclass
class Options:
    max_examples: int = 10          # per operation and generation mode
    seed: int = 0
    writes: bool | None = None      # None: on a FakeMaestro only
    phases: tuple[str, ...] = PHASES
    operations: frozenset[str] | None = None   # operationIds the generated phases cover (None: all)
    chains: tuple[str, ...] | None = None       # chains to walk (None: all of chains.CHAINS)
    compare: str = "values"         # differential mode: values | shape
    baseline: Baseline | None = None
    today: date = field(default_factory=date.today)
    progress: Callable[[str], None] | None = None


def run(target: Target, options: Options | None = None, reference: Target | None = None) -> Report:
    """Run the phases against `target` (and `reference`, when given) and report."""
    return Runner(target, options or Options(), reference).execute()


class Runner:
    def __init__(self, target: Target, options: Options, reference: Target | None) -> None:
        unknown = [p for p in options.phases if p not in PHASES]
        if unknown:
            raise ValueError(f"unknown phases {unknown}; valid phases: {', '.join(PHASES)}")
        self.target, self.options, self.reference = target, options, reference
        self.baseline = options.baseline or Baseline.load()
        self.schema = document.load_schema(target.api_key)
        # where the checks that send their own requests (ignored_auth) send them
        if target.app is not None:
            self.schema.app = target.app
        else:
            self.schema.config.update(base_url=target.url)
        self.operations = [op for op in document.operations(self.schema)
                           if options.operations is None or document.operation_id(op) in options.operations]
        self.writes = options.writes if options.writes is not None else target.is_fake()
        self.report = Report(target.describe(), reference.describe() if reference else None, {
            "max examples": options.max_examples, "seed": options.seed,
            "requests": "all methods" if self.writes else "GET and HEAD only",
            "phases": ", ".join(options.phases), "baseline": self.baseline.source,
            **({"compare": options.compare} if reference else {})})
        load_all_checks()
        builtin = [c for c in REGISTERED_CHECKS.get_all() if c.__module__.startswith("schemathesis.")]
        self.checks = builtin + list(checks.CHECKS)
        # for requests the run writes itself (chains, harvest, probes): ignored_auth would probe
        # each of them and, for a probe sent without the schema's auth, take its key for a made-up one
        self.manual_checks = [c for c in self.checks if c.__name__ != "ignored_auth"]
        self.enforced: set[str] = set()  # operations ignored_auth has already probed
        self._by_id: dict = {}
        self.known: list[dict[str, str]] = [{}, {}]  # harvested ids: target's, reference's
        self.seen: Counter = Counter()
        self.cleanups: dict[tuple, tuple] = {}
        self.sequence = 0
        self.errors = 0
        self.abort: str | None = None

    def execute(self) -> Report:
        try:
            for phase in self.options.phases:
                getattr(self, "_" + phase.replace("-", "_"))()
                if self.abort:
                    raise Abort(self.abort)
        except (Abort, DailyQuotaExhausted) as exc:
            self.report.aborted = str(exc)
        finally:
            self._clean_up()
        self.report.waits = list(self.target.throttle.waits)
        if not self.writes and not self.target.is_fake():
            self.report.notes.append("read-only run: write operations, write chains and write probes were not sent "
                                     "(--allow-writes sends them)")
        return self.report

    # ------------------------------------------------------------------ sending and checking

    def exchange(self, phase: str, case, *, readonly: bool = False, manual: bool = False,
                 reference_case=None):
        """Send `case` (and its mirror to the reference), check the answer; None when not sent."""
        if self.abort:
            return None
        if not self._allowed(case.method):
            self.report.skipped_unsafe += 1
            return None
        op = document.operation_id(case.operation)
        self.sequence += 1
        headers = self._tracing(self.sequence)
        authorized = self.authorize(case)
        key = (self.target.readonly_key if readonly else self.target.api_key) if authorized else None
        response = self._send(self.target, case, key, headers, phase, op)
        if response is None:
            return None
        self.report.count(phase, op)
        self.check(phase, op, case, response, self.manual_checks if manual else self.checks)
        self._remember_cleanup(op, case, response, 0)
        if self.reference is not None:
            mirror = reference_case if reference_case is not None else case
            if mirror is not case:
                self.authorize(mirror)
            mirror_key = (self.reference.readonly_key if readonly else self.reference.api_key) if authorized else None
            answer = self._send(self.reference, mirror, mirror_key, headers, phase, op)
            if answer is not None:
                self._remember_cleanup(op, mirror, answer, 1)
                self._compare(phase, op, response, answer)
            return response, answer
        return response, None

    def authorize(self, case) -> bool:
        """Give the case the run's key unless the case leaves credentials out on purpose
        (a negative case about authentication): generated credentials are dropped first."""
        for name in ("X-API-Key", "Authorization"):
            case.headers.pop(name, None)
        return self.schema.apply_auth(case, AuthContext(operation=case.operation, app=None))

    def _allowed(self, method: str) -> bool:
        return self.writes or method.upper() in document.SAFE_METHODS

    @staticmethod
    def _tracing(n: int) -> dict:
        """Every other request carries an X-Request-ID, every third an X-Trace-ID: both
        the echo and the generated branch get checked."""
        headers = {}
        if n % 2 == 0:
            headers["X-Request-ID"] = f"conform-{n}"
        if n % 3 == 0:
            headers["X-Trace-ID"] = f"conform-trace-{n}"
        return headers

    def _send(self, target: Target, case, key, headers, phase, op):
        try:
            response = target.send(case, key, headers)
        except DailyQuotaExhausted:
            raise
        except Exception as exc:  # noqa: BLE001 - a connection error, or an in-process app that crashed
            self._transport_error(phase, op, case, exc)
            return None
        self.errors = 0
        return response

    def _transport_error(self, phase, op, case, exc) -> None:
        self.errors += 1
        exchange = Exchange(case.method, case.formatted_path, None, None, "")
        self.report.add(Finding(phase, op, "transport", "The request failed", f"{type(exc).__name__}: {exc}",
                                exchange))
        if self.errors >= MAX_TRANSPORT_ERRORS:
            self.abort = f"{self.errors} requests in a row failed; last: {type(exc).__name__}: {exc}"

    def check(self, phase, op, case, response, check_functions=None, recorder=None) -> list[Finding]:
        """Run the checks (default: all) on one answer and record what they find;
        `recorder` lets the stateful checks look at the scenario's earlier steps."""
        ctx = CheckContext(override=None, auth=None, headers=None,
                           config=self.schema.config.checks_config_for(operation=case.operation, phase=None),
                           transport_kwargs=self.target.transport_kwargs, recorder=recorder, response_checks=None,
                           auth_enforced_operations=self.enforced)
        check_functions = self.checks if check_functions is None else check_functions
        found = []
        if checks.is_sse(response):
            check_functions = [c for c in check_functions if c.__name__ not in checks.SKIPPED_FOR_STREAMS]
        for check in check_functions:
            try:
                check(ctx, response, case)
            except BaseExceptionGroup as group:
                found += [self._finding(phase, op, check.__name__, exc, response) for exc in group.exceptions]
            except AssertionError as exc:
                found.append(self._finding(phase, op, check.__name__, exc, response))
            except (requests.RequestException, OSError) as exc:  # a check's own probe request failed
                found.append(self._finding(phase, op, check.__name__, AssertionError(f"probe failed: {exc}"),
                                           response))
        return found

    def _finding(self, phase, op, name, exc, response) -> Finding:
        title = getattr(exc, "title", None) or name
        message = getattr(exc, "message", None) or str(exc)
        exchange = Exchange.of(response)
        text = response.content.decode("utf-8", "replace") if response.content else ""
        entry = self.baseline.match(op, name, response.status_code, text, message)
        finding = Finding(phase, op, name, title, message, exchange,
                          entry.id if entry else None, bool(entry and entry.expired(self.options.today)))
        if entry:
            self.seen[entry.id] += 1
        self.report.add(finding)
        return finding

    def _compare(self, phase, op, response, answer) -> None:
        exchange = Exchange.of(response)
        text = response.content.decode("utf-8", "replace") if response.content else ""
        for where, mine, theirs in compare(response, answer, self.options.compare):
            entry = self.baseline.match(op, "differential", response.status_code, text, "", where)
            self.report.add(Difference(phase, op, where, mine, theirs, exchange, entry.id if entry else None,
                                       bool(entry and entry.expired(self.options.today))))

    def _progress(self, text: str) -> None:
        if self.options.progress:
            self.options.progress(text)

    def _each(self, phase: str, ops: list):
        for i, op in enumerate(ops, 1):
            if self.abort:
                return
            self._progress(f"{phase} {i}/{len(ops)} {document.operation_id(op)}")
            yield op

    # ------------------------------------------------------------------ generated cases

    def _coverage(self) -> None:
        config = GenerationConfig()
        for op in self._each("coverage", self.operations):
            for case in self.schema.iter_coverage_cases(op, generation_modes=list(MODES), generation_config=config):
                if not _harmful(case):
                    self.exchange("coverage", case)

    def _fuzz(self) -> None:
        ops = [op for op in self.operations if self._allowed(op.method)]
        for op in self._each("fuzz", ops):
            for mode in MODES:
                self._hypothesis("fuzz", op.as_strategy(generation_mode=mode))

    def _known_ids(self) -> None:
        self._harvest()
        ops, fixed = [], {}
        for op in self.operations:
            op_id = document.operation_id(op)
            params = self._known_path(op, 0)
            if params is None or op_id in NEVER_WITH_KNOWN_IDS or not self._allowed(op.method):
                continue
            if not document.is_safe(op) and not self.target.is_fake():
                continue  # production's own resources are never written to by fuzzing
            ops.append(op)
            fixed[op_id] = params
        ops.sort(key=lambda op: op.method.upper() == "DELETE")  # deletions last
        for op in self._each("known-ids", ops):
            params = fixed[document.operation_id(op)]
            mirror = self._known_path(op, 1)
            for mode in MODES:
                self._hypothesis("known-ids", op.as_strategy(generation_mode=mode, path_parameters=params),
                                 mirror=mirror)
        if self.writes and self.target.is_fake():  # the fake's data back as its scenario has it
            for target in (self.target, self.reference):
                if target is not None:
                    target.reset()

    def _hypothesis(self, phase: str, strategy, mirror: dict | None = None) -> None:
        settings = hypothesis.settings(max_examples=self.options.max_examples, database=None, deadline=None,
                                       derandomize=False, phases=[Phase.generate], verbosity=Verbosity.quiet,
                                       suppress_health_check=list(HealthCheck), print_blob=False)

        @settings
        @hypothesis.seed(self.options.seed)
        @hypothesis.given(strategy)
        def example(case):
            if self.abort:
                return
            if _harmful(case):
                hypothesis.reject()
            reference_case = None
            if mirror is not None and self.reference is not None:
                reference_case = case.derive(keep_auth=True)
                reference_case.path_parameters = {**case.path_parameters, **mirror}
            try:
                self.exchange(phase, case, reference_case=reference_case)
            except DailyQuotaExhausted as exc:
                self.abort = str(exc)

        try:
            example()
        except Unsatisfiable:  # every draw was one the run never sends
            pass

    # ------------------------------------------------------------------ ids the target has

    def _harvest(self) -> None:
        """Ids of real resources, read from the target's lists (and the reference's)."""
        self._progress("known-ids: reading the target's lists")
        lists = {}
        for kind, op_id in (("workflow", "listWorkflows"), ("execution", "listExecutions"), ("agent", "listAgents"),
                            ("trigger", "listTriggers"), ("knowledge_base", "listKnowledgeBases"),
                            ("webhook", "listWebhooks")):
            lists[kind] = self._read(op_id, query={"per_page": 100})
        for side in (0, 1) if self.reference else (0,):
            items = {kind: (pair[side] if pair else None) for kind, pair in lists.items()}
            known = self.known[side]
            for kind in ("execution", "agent", "knowledge_base", "webhook"):
                if items[kind]:
                    known[kind] = items[kind][0]["id"]
            enabled = [t for t in items["trigger"] or () if t.get("enabled")]
            if enabled:
                known["trigger"] = enabled[0]["id"]
        self._pick_workflow(lists)
        if "agent" in self.known[0]:
            memory = self._read("listAgentMemory", path={"agentId": self.known[0]["agent"]},
                                mirror_path={"agentId": self.known[1].get("agent", "")})
            for side, items in enumerate(memory or ()):
                if items:
                    self.known[side]["memory_user"] = items[0]["user_id"]

    def _pick_workflow(self, lists) -> None:
        """A workflow the key's user owns: one that has run before, else one GET answers."""
        pair = lists.get("execution")
        workflows = lists.get("workflow")
        for side in (0, 1) if self.reference else (0,):
            ran = [e["workflow_id"] for e in (pair[side] if pair else None) or ()]
            listed = [w["id"] for w in (workflows[side] if workflows else None) or ()]
            for candidate in list(dict.fromkeys(ran + listed))[:chains.CANDIDATES]:
                answer = self._read_one("getWorkflow", {"id": candidate}, side)
                if answer is not None and answer.status_code == 200:
                    self.known[side]["workflow"] = candidate
                    break

    def _read(self, op_id: str, query=None, path=None, mirror_path=None):
        """GET a list on both sides: (target's items, reference's items) or None."""
        op = self._operation(op_id)
        case = op.Case(path_parameters=path or {}, query=query or {})
        mirror = op.Case(path_parameters=mirror_path or path or {}, query=query or {})
        sent = self.exchange("harvest", case, manual=True, reference_case=mirror)
        if sent is None:
            return None
        return tuple(_items(r) for r in sent)

    def _read_one(self, op_id: str, path: dict, side: int):
        op = self._operation(op_id)
        target = self.target if side == 0 else self.reference
        try:
            response = target.send(op.Case(path_parameters=path), target.api_key)
        except Exception:  # noqa: BLE001 - no workflow from this side, as if it had none
            return None
        if side == 0:
            self.report.count("harvest", op_id)
            self.check("harvest", op_id, op.Case(path_parameters=path), response, self.manual_checks)
        return response

    def _known_path(self, op, side: int) -> dict | None:
        params = {}
        for parameter in op.path_parameters:
            name = parameter.name
            kind = "memory_user" if name == "userId" else next(
                (k for prefix, k in PATH_KINDS if op.path.startswith(prefix)), None)
            value = self.known[side].get(kind) if kind else None
            if value is None:
                return None
            params[name] = value
        return params or None

    def _operation(self, op_id: str):
        if not self._by_id:
            self._by_id.update((document.operation_id(op), op) for op in document.operations(self.schema))
        return self._by_id[op_id]

    # ------------------------------------------------------------------ scopes

    def _scopes(self) -> None:
        if not self.target.readonly_key:
            self.report.notes.append("no read-only key given: the scope phase did not run")
            return
        answers = []
        ops = [op for op in self.operations if self._allowed(op.method)]
        for op in self._each("scopes", ops):
            params = {p.name: NIL_ID for p in op.path_parameters}
            case = op.Case(path_parameters=params)
            sent = self.exchange("scopes", case, readonly=True, manual=True)
            if sent is not None:
                answers.append((op, case, sent[0]))
        yours = None
        for _, _, response in answers:
            body = checks.body_of(response)
            if response.status_code == 403 and checks.kind(body) == "error":
                yours = (body["error"].get("details") or {}).get("your_scopes") or yours
        if yours is None:
            self.report.notes.append("the read-only key was refused nowhere: it holds every scope the probed "
                                     "operations need, so 403 details were not seen")
            return
        for op, case, response in answers:
            required = document.required_scopes(op)
            refused = not set(required) <= set(yours)
            if response.status_code == 403:
                self.report.refused.append(document.operation_id(op))
            if (response.status_code == 403) != refused:
                op_id = document.operation_id(op)
                message = (f"the read-only key (scopes {', '.join(yours)}) got {response.status_code}; "
                           f"the route requires {', '.join(required)}, so a 403 was {'' if refused else 'not '}due")
                self._finding("scopes", op_id, "scope_enforcement", AssertionError(message), response)

    # ------------------------------------------------------------------ chains

    def _chains(self) -> None:
        for name, steps in self._each_chain():
            result = ChainResult(name)
            self.report.chains.append(result)
            if not self.writes and any(document.raw_method(s.operation) not in document.SAFE_METHODS for s in steps):
                result.skipped = "writes are not allowed on this target"
                continue
            self._walk(steps, result)

    def _each_chain(self):
        names = [n for n in chains.CHAINS if self.options.chains is None or n in self.options.chains]
        for i, name in enumerate(names, 1):
            if self.abort:
                return
            self._progress(f"chains {i}/{len(names)} {name}")
            yield name, chains.CHAINS[name]

    def _walk(self, steps, result: ChainResult) -> None:
        first_items: list[int] = []

        def send(i, step, params_per_side):
            op = self._operation(step.operation)
            payload = {} if step.body is None else {"body": step.body, "media_type": "application/json"}
            cases = [op.Case(path_parameters=params, **payload) for params in params_per_side]
            sent = self.exchange("chains", cases[0], manual=True,
                                 reference_case=cases[1] if len(cases) > 1 else None)
            if sent is None:
                raise chains.Broken(f"{step.operation} was not sent")
            answers = [r for r in sent if r is not None]
            status = answers[0].status_code
            result.steps.append(ChainStep(step.operation, status, step.expect, step.accepts(status)))
            if i == 0:
                first_items.append(len(_items(answers[0]) or ()))
            return [chains.Previous(step.operation, params, r.status_code, checks.body_of(r))
                    for params, r in zip(params_per_side, answers)]

        try:
            if chains.walk(steps, send):
                result.completed = True
            elif first_items and first_items[0] == 0:
                result.skipped = f"{steps[0].operation} listed nothing to start from"
            else:
                result.failure = "no listed item led through the chain"
        except chains.Broken as exc:
            result.failure = str(exc)
        except KeyError as exc:  # a link the chain needs is missing from openapi.yaml
            result.failure = str(exc.args[0])

    # ------------------------------------------------------------------ baseline probes

    def _baseline(self) -> None:
        self._harvest()  # afresh: earlier phases may have deleted what the last harvest found
        entries = self.baseline.entries
        for i, entry in enumerate(entries, 1):
            if self.abort:
                return
            self._progress(f"baseline {i}/{len(entries)} {entry.id}")
            self.report.baseline.append(self._probe_entry(entry))

    def _probe_entry(self, entry: Entry) -> EntryStatus:
        if entry.expired(self.options.today):
            return EntryStatus(entry.id, "expired", f"expired on {entry.expires}: review it, then move the date",
                               self.seen[entry.id])
        if not entry.probes:
            return EntryStatus(entry.id, "not-probed", "the entry has no probe", self.seen[entry.id])
        if entry.fake_only and not self.target.is_fake():
            return EntryStatus(entry.id, "not-probed", "its probe is only ever sent to a FakeMaestro",
                               self.seen[entry.id])
        outcomes = [self._probe(entry, probe) for probe in entry.probes]
        if entry.fake_only and not self.target.reset():
            self.report.notes.append(f"{entry.id}: could not reset {self.target.name} after its probe")
        by_state = {state: [d for s, d in outcomes if s == state] for state in ("stale", "reproduced", "not-probed")}
        for state in ("stale", "reproduced", "not-probed"):  # one stale probe makes the entry stale
            if by_state[state]:
                skipped = [f"not probed: {d}" for d in by_state["not-probed"]] if state != "not-probed" else []
                return EntryStatus(entry.id, state, "; ".join(by_state[state] + skipped), self.seen[entry.id])
        raise AssertionError("an entry has at least one probe")

    def _probe(self, entry: Entry, probe) -> tuple[str, str]:
        unsafe = [s for s in probe if (s.get("method") or document.raw_method(s["operation"]))
                  not in document.SAFE_METHODS]
        if unsafe and not self.writes:
            return "not-probed", "its probe writes; writes are not allowed on this target"
        answers: list[object] = []
        verdict = None
        for step in [s for s in probe if not s.get("cleanup")]:
            try:
                response, findings = self._probe_step(step, answers)
            except _Missing as exc:
                return "not-probed", str(exc)
            answers.append(checks.body_of(response))
            if step.get("expect"):
                verdict = self._verdict(entry, step, response, findings)
        for step in [s for s in probe if s.get("cleanup")]:
            try:
                self._probe_step(step, answers)
            except _Missing:
                pass
        return verdict

    def _probe_step(self, step: dict, answers: list):
        op_id = step["operation"]
        method = (step.get("method") or document.raw_method(op_id)).upper()
        path_params = {k: _fill(v, self.known[0], answers) for k, v in (step.get("path") or {}).items()}
        query = {k: _fill(v, self.known[0], answers) for k, v in (step.get("query") or {}).items()}
        _, template = document.locate(op_id)
        path = re.sub(r"\{(\w+)\}", lambda m: requests.utils.quote(str(path_params.get(m[1], NIL_ID)), safe=""),
                      template)
        if query:
            path += "?" + requests.compat.urlencode(query)
        headers, body = {}, None
        if "raw_body" in step:
            body = str(step["raw_body"]).encode()
        elif "body" in step:
            body = json.dumps(_fill_all(step["body"], self.known[0], answers)).encode()
        if body is not None:
            headers["Content-Type"] = step.get("content_type", "application/json")
        self.sequence += 1
        headers.update(self._tracing(self.sequence))
        response = self.target.send_raw(method, path, headers, body)
        self.report.count("baseline", op_id)
        findings = []
        if method == document.raw_method(op_id):
            op = self._operation(op_id)
            case = op.Case(path_parameters=path_params, query=query)
            findings = self.check("baseline", op_id, case, response, self.manual_checks)
        return response, findings

    @staticmethod
    def _verdict(entry: Entry, step: dict, response, findings: list[Finding]) -> tuple[str, str]:
        text = response.content.decode("utf-8", "replace") if response.content else ""
        line = f"{step.get('method') or document.raw_method(step['operation'])} {step['operation']} -> " \
               f"{response.status_code}"
        if entry.message is not None:
            shown = any(f.baseline == entry.id for f in findings)
        else:
            shown = (entry.status is None or response.status_code == entry.status) and \
                    (entry.body is None or bool(entry.body.search(text)))
        if shown:
            return "reproduced", line
        return "stale", f"the probe no longer shows it: {line} {text[:200]}"

    # ------------------------------------------------------------------ cleaning up

    def _remember_cleanup(self, op: str, case, response, side: int) -> None:
        if op in CREATED and response.status_code in (200, 201):
            body = checks.body_of(response)
            created = body.get("data", {}).get("id") if isinstance(body, dict) else None
            if created:
                self.cleanups[(side, created)] = CREATED[op]
        if op in ("deleteWebhook", "deleteThread") and 200 <= response.status_code < 300:
            self.cleanups.pop((side, case.path_parameters.get("id")), None)

    def _clean_up(self) -> None:
        """Delete what the run created and did not delete itself (webhooks, threads)."""
        for (side, created), op_id in list(self.cleanups.items()):
            target = self.target if side == 0 else self.reference
            try:
                target.send(self._operation(op_id).Case(path_parameters={"id": created}), target.api_key)
            except (requests.RequestException, DailyQuotaExhausted):
                self.report.notes.append(f"could not delete {created} ({op_id}) on {target.name}")
        self.cleanups.clear()


class _Missing(Exception):
    pass


def _harmful(case) -> bool:
    """Requests the run never sends (see the module docstring)."""
    return (document.operation_id(case.operation) in ("executeWorkflow", "executeTrigger")
            and isinstance(case.body, dict) and isinstance(case.body.get("inputs"), str))


def _items(response):
    body = checks.body_of(response) if response is not None else None
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, list) else None


PLACEHOLDER = re.compile(r"\{(known\.(\w+)|step\.(\d+):([^}]*))\}")


def _fill(value, known: dict, answers: list):
    if not isinstance(value, str):
        return value

    def one(match):
        if match[2]:
            if match[2] not in known:
                raise _Missing(f"the target has no {match[2]} to probe with")
            return str(known[match[2]])
        index, pointer = int(match[3]), match[4]
        try:
            return str(chains._pointer(answers[index], pointer, match[0]))
        except (IndexError, chains.Unresolved):
            raise _Missing(f"probe step {index} gave nothing at {pointer}") from None

    whole = PLACEHOLDER.fullmatch(value)
    return one(whole) if whole else PLACEHOLDER.sub(one, value)


def _fill_all(value, known: dict, answers: list):
    if isinstance(value, dict):
        return {k: _fill_all(v, known, answers) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_all(v, known, answers) for v in value]
    return _fill(value, known, answers)

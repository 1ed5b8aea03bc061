"""A run's Report as Markdown (for people) and JUnit XML (for CI): verdict and totals,
new findings with an example request and answer, differences from the reference
fake, chains, the baseline entries' states, known defects seen, requests per
operation and phase."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from .results import Report

PHASE_COLUMNS = ("harvest", "coverage", "fuzz", "known-ids", "scopes", "chains", "baseline")


def verdict(report: Report) -> str:
    if report.ok:
        return "conformant"
    counts = [(len(report.new_findings), "new finding", "new findings"),
              (len(report.stale), "stale baseline entry", "stale baseline entries"),
              (len(report.new_differences), "difference", "differences"),
              (len(report.broken_chains), "broken chain", "broken chains")]
    parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
    if report.aborted:
        parts.insert(0, f"aborted ({report.aborted})")
    return "NOT conformant: " + "; ".join(parts)


def summary_lines(report: Report) -> list[str]:
    states = defaultdict(int)
    for status in report.baseline:
        states[status.state] += 1
    done = sum(1 for c in report.chains if c.completed)
    lines = [f"target: {report.target}"]
    if report.reference:
        lines.append(f"reference: {report.reference}")
    lines += [
        f"verdict: {verdict(report)}",
        f"requests: {report.requests}" + (f" ({report.skipped_unsafe} unsafe cases not sent)"
                                          if report.skipped_unsafe else ""),
        f"new findings: {len(report.new_findings)}; known production defects seen: "
        f"{sum(f.count for f in report.known_findings)} answers in {len(report.known_findings)} kinds",
        "baseline: " + (", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "not probed"),
    ]
    if report.reference:
        lines.append(f"differences: {len(report.new_differences)} new, "
                     f"{len(report.differences) - len(report.new_differences)} known")
    if report.chains:
        lines.append(f"chains: {done}/{len(report.chains)} completed")
    if report.waits:
        lines.append(f"paced by the rate limit: {len(report.waits)} pauses, {sum(report.waits):.0f} s")
    return lines


# ------------------------------------------------------------------ Markdown

def markdown(report: Report) -> str:
    out = ["# FakeMaestro conformance report", ""]
    out += [f"- {line}" for line in summary_lines(report)]
    out += ["", "Options: " + "; ".join(f"{k}: {v}" for k, v in report.options.items()), ""]
    if report.aborted:
        out += [f"**The run stopped early:** {report.aborted}", ""]
    out += _new_findings(report) + _differences(report) + _chains(report) + _baseline(report)
    out += _known(report) + _requests(report)
    if report.notes:
        out += ["## Notes", ""] + [f"- {note}" for note in report.notes] + [""]
    return "\n".join(out)


def _new_findings(report: Report) -> list[str]:
    out = ["## New findings", ""]
    if not report.new_findings:
        return out + ["None.", ""]
    for f in report.new_findings:
        expired = f" (baseline entry `{f.baseline}` has expired)" if f.expired else ""
        out += [f"### {f.operation}: `{f.check}` — {f.title}{expired}", "",
                f"{f.count} answer{'s' if f.count > 1 else ''} in phase {f.phase}. Example: "
                f"`{_code(f.exchange.line())}`", ""]
        if f.exchange.request_body:
            out += ["Request body:", "", "```", f.exchange.request_body, "```", ""]
        out += ["```", f.message.strip(), "```", "", "Answer:", "", "```", f.exchange.response_body or "(empty)",
                "```", ""]
    return out


def _differences(report: Report) -> list[str]:
    if report.reference is None:
        return []
    out = ["## Differences between the target and the fake", ""]
    if not report.differences:
        return out + ["None.", ""]
    out += ["| | operation | where | target | fake | count | example |", "|---|---|---|---|---|---|---|"]
    for d in report.differences:
        mark = "new" if d.is_new else f"known (`{d.baseline}`)"
        out.append(f"| {mark} | {d.operation} | {_cell(d.where)} | {_cell(d.target)} | {_cell(d.reference)} | "
                   f"{d.count} | `{_code(d.exchange.line())}` |")
    return out + [""]


def _chains(report: Report) -> list[str]:
    if not report.chains:
        return []
    out = ["## Stateful chains (openapi.yaml links)", "", "| chain | result | steps |", "|---|---|---|"]
    for c in report.chains:
        result = "completed" if c.completed else f"skipped: {c.skipped}" if c.skipped else f"**broken**: {c.failure}"
        steps = " → ".join(f"{s.operation} {s.status}{'' if s.ok else ' ✗'}" for s in c.steps)
        out.append(f"| {c.name} | {_cell(result)} | {_cell(steps)} |")
    return out + [""]


def _baseline(report: Report) -> list[str]:
    if not report.baseline:
        return []
    out = ["## Baseline entries (known production defects)", "",
           "| entry | state | findings covered | detail |", "|---|---|---|---|"]
    for s in report.baseline:
        state = f"**{s.state}**" if s.state in ("stale", "expired") else s.state
        out.append(f"| {s.entry} | {state} | {s.seen} | {_cell(s.detail)} |")
    return out + [""]


def _known(report: Report) -> list[str]:
    if not report.known_findings:
        return []
    out = ["## Known production defects seen", "", "| entry | operation | check | answers | example |",
           "|---|---|---|---|---|"]
    for f in sorted(report.known_findings, key=lambda f: (f.baseline, f.operation)):
        out.append(f"| {f.baseline} | {f.operation} | {f.check} | {f.count} | `{_code(f.exchange.line())}` |")
    return out + [""]


def _requests(report: Report) -> list[str]:
    phases = [p for p in PHASE_COLUMNS if any(p in row for row in report.per_operation.values())]
    out = ["## Requests per operation and phase", "", "| operation | " + " | ".join(phases) + " |",
           "|---|" + "---|" * len(phases)]
    for op, row in sorted(report.per_operation.items()):
        out.append(f"| {op} | " + " | ".join(str(row.get(p, "")) for p in phases) + " |")
    return out + [""]


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= 160 else text[:157] + "..."


# ------------------------------------------------------------------ JUnit XML

def junit(report: Report) -> str:
    root = ET.Element("testsuites", name="fakemaestro conform")
    _operations_suite(root, report)
    if report.reference is not None:
        _differences_suite(root, report)
    _chains_suite(root, report)
    _baseline_suite(root, report)
    if report.aborted:
        suite = _suite(root, "run")
        _failure(suite, _case(suite, "run", "completed"), "the run stopped early", report.aborted)
    for attribute in ("tests", "failures", "skipped"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in root)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _operations_suite(root, report: Report) -> None:
    cases = _per_operation_suite(root, report, "conformance", report.new_findings, lambda f: (
        f"[{f.check}] {f.title}",
        f"{f.count} answers, e.g. {f.exchange.line()}\n\n{f.message}\n\n{f.exchange.response_body}"))
    for op, case in cases.items():
        known = [f for f in report.known_findings if f.operation == op]
        requests = sum(report.per_operation.get(op, {}).values())
        ET.SubElement(case, "system-out").text = f"{requests} requests; known production defects: " + (
            ", ".join(f"{f.baseline} ({f.count})" for f in known) or "none")


def _differences_suite(root, report: Report) -> None:
    _per_operation_suite(root, report, "differential", report.new_differences, lambda d: (
        f"{d.where}: target {d.target}, fake {d.reference}", f"{d.count} times, e.g. {d.exchange.line()}"))


def _per_operation_suite(root, report: Report, name: str, items, failure) -> dict:
    """A suite with a case per operation the run exercised or an item names (sorted), each
    item a failure of its operation's case (`failure(item)` gives message and text)."""
    suite = _suite(root, name)
    by_op = defaultdict(list)
    for item in items:
        by_op[item.operation].append(item)
    cases = {}
    for op in sorted(set(report.per_operation) | set(by_op)):
        case = cases[op] = _case(suite, name, op)
        for item in by_op[op]:
            _failure(suite, case, *failure(item))
    return cases


def _chains_suite(root, report: Report) -> None:
    if not report.chains:
        return
    suite = _suite(root, "chains")
    for c in report.chains:
        case = _case(suite, "chains", c.name)
        steps = " -> ".join(f"{s.operation} {s.status}" for s in c.steps)
        if c.failure:
            _failure(suite, case, c.failure, steps)
        elif c.skipped:
            _skip(suite, case, c.skipped)
        ET.SubElement(case, "system-out").text = steps


def _baseline_suite(root, report: Report) -> None:
    if not report.baseline:
        return
    suite = _suite(root, "baseline")
    for s in report.baseline:
        case = _case(suite, "baseline", s.entry)
        if s.state in ("stale", "expired"):
            _failure(suite, case, f"{s.state} baseline entry", s.detail)
        elif s.state == "not-probed":
            _skip(suite, case, s.detail)
        else:
            ET.SubElement(case, "system-out").text = f"{s.detail}; {s.seen} findings covered"


def _suite(root, name: str):
    return ET.SubElement(root, "testsuite", name=name, tests="0", failures="0", skipped="0")


def _case(suite, classname: str, name: str):
    suite.set("tests", str(int(suite.get("tests")) + 1))
    return ET.SubElement(suite, "testcase", classname=f"fakemaestro.conform.{classname}", name=name)


def _failure(suite, case, message: str, text: str) -> None:
    if case.find("failure") is None:
        suite.set("failures", str(int(suite.get("failures")) + 1))
    ET.SubElement(case, "failure", message=message[:500]).text = text


def _skip(suite, case, message: str) -> None:
    suite.set("skipped", str(int(suite.get("skipped")) + 1))
    ET.SubElement(case, "skipped", message=message)



"""`fakemaestro conform`: the conformance run from the command line.

Importing this module needs nothing beyond the fake itself, so `--help` always works;
running asks for schemathesis (the `conform` extra) and says how to install it.
Exit status: 0 conformant, 1 not (a new finding or difference, a stale or expired
baseline entry, a broken chain, a run cut short), 2 a usage or setup problem.
"""
from __future__ import annotations

import argparse
import os
import sys

INSTALL_HINT = "fakemaestro conform needs schemathesis: pip install 'fakemaestro[conform]'"
COMPARE_MODES = ("values", "shape")


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "conform", help="fuzz an API (production or a fake) against openapi.yaml and report where it differs",
        description="Run the contract suite against TARGET: schemathesis's checks and FakeMaestro's own, "
                    "stateful chains through the document's links, the 403 details of a limited key and the "
                    "probes of the known-defects baseline. The run paces itself by the target's X-RateLimit-* "
                    "headers. A target that is not a FakeMaestro only gets GET and HEAD requests unless "
                    "--allow-writes. Exit status: 0 conformant, 1 not, 2 usage or setup problem.")
    parser.add_argument("--target", metavar="URL", default=os.environ.get("FAKEMAESTRO_TARGET_URL"),
                        help="base URL without /api/v1, e.g. https://api.flowmaestro.io "
                             "(default: $FAKEMAESTRO_TARGET_URL)")
    parser.add_argument("--api-key", metavar="KEY", default=os.environ.get("FAKEMAESTRO_TARGET_API_KEY"),
                        help="a key with every scope (default: $FAKEMAESTRO_TARGET_API_KEY)")
    parser.add_argument("--readonly-key", metavar="KEY", default=os.environ.get("FAKEMAESTRO_TARGET_READONLY_KEY"),
                        help="a key lacking some scopes, to check 403s and their details "
                             "(default: $FAKEMAESTRO_TARGET_READONLY_KEY)")
    writes = parser.add_mutually_exclusive_group()
    writes.add_argument("--read-only", action="store_true", help="send only GET and HEAD requests, even to a fake")
    writes.add_argument("--allow-writes", action="store_true",
                        help="send writes to a target that is not a fake too: it then creates (and deletes) "
                             "webhooks and threads and runs workflows, triggers and agents there")
    parser.add_argument("--max-examples", metavar="N", type=_positive, default=10,
                        help="generated cases per operation and generation mode (default 10)")
    parser.add_argument("--seed", metavar="N", type=int, default=0, help="seed of the generated cases (default 0)")
    parser.add_argument("--report", metavar="FILE", help="write the report as Markdown")
    parser.add_argument("--junit", metavar="FILE", help="write the report as JUnit XML")
    parser.add_argument("--differential", action="store_true",
                        help="also send every request to an in-process fake and report each difference in "
                             "status, headers and body")
    parser.add_argument("--scenario", metavar="FILE", action="append",
                        help="with --differential: the fake's scenario, mirroring the target's data "
                             "(repeatable; default: the embedded default scenario)")
    parser.add_argument("--compare", choices=COMPARE_MODES,
                        help="with --differential: compare normalized values or only key order and types "
                             "(default: values with --scenario, shape without)")
    parser.add_argument("--fake-key", metavar="NAME",
                        help="with --differential: the fake's key for --api-key (default: the scenario's key of "
                             "the same value, else 'bulk', else one holding every scope)")
    parser.add_argument("--fake-readonly-key", metavar="NAME",
                        help="with --differential: the fake's key for --readonly-key (default: the same value, "
                             "else 'read-only')")
    parser.add_argument("--phases", metavar="LIST",
                        help="comma-separated phases to run (default: all of coverage, fuzz, known-ids, scopes, "
                             "chains, baseline)")
    parser.add_argument("--operation", metavar="ID", action="append",
                        help="restrict generated cases to this operationId (repeatable)")
    parser.add_argument("--baseline", metavar="FILE", help="known-defects file (default: the packaged baseline.yaml)")
    parser.add_argument("--admin-token", metavar="TOKEN", help="the target fake's admin token, to reset it")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def main(args: argparse.Namespace) -> int:
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    from .baseline import Baseline, BaselineError
    from .report import junit, markdown, summary_lines
    from .runner import PHASES, Options, run

    problem = _usage_problem(args, PHASES)
    if problem:
        print(f"fakemaestro conform: {problem}", file=sys.stderr)
        return 2
    try:
        baseline = Baseline.load(args.baseline)
        target = _target(args)
        reference = _reference(args) if args.differential else None
    except (BaselineError, OSError, ValueError, KeyError) as exc:
        print(f"fakemaestro conform: {exc}", file=sys.stderr)
        return 2
    problem = _reachable(target)
    if problem:
        print(f"fakemaestro conform: {problem}", file=sys.stderr)
        return 2
    options = Options(
        max_examples=args.max_examples, seed=args.seed,
        writes=True if args.allow_writes else False if args.read_only else None,
        phases=tuple(args.phases.split(",")) if args.phases else PHASES,
        operations=frozenset(args.operation) if args.operation else None,
        compare=args.compare or ("values" if args.scenario else "shape"), baseline=baseline,
        progress=None if args.quiet else lambda text: print(f"conform: {text}", file=sys.stderr, flush=True))
    try:
        report = run(target, options, reference)
    finally:
        target.close()
        if reference is not None:
            reference.close()
    if args.report:
        _write(args.report, markdown(report))
    if args.junit:
        _write(args.junit, junit(report))
    print("\n".join(summary_lines(report)))
    problems = report.problems()
    for line in problems[:30]:
        print(f"  {line}")
    if len(problems) > 30:
        print(f"  ... and {len(problems) - 30} more (see --report)")
    return 0 if report.ok else 1


def _usage_problem(args, phases) -> str | None:
    if not args.target:
        return "give --target URL (or set FAKEMAESTRO_TARGET_URL)"
    if not args.api_key:
        return "give --api-key KEY (or set FAKEMAESTRO_TARGET_API_KEY)"
    if not args.target.startswith(("http://", "https://")):
        return f"--target must be an http(s) URL, got {args.target!r}"
    unknown = [p for p in (args.phases or "").split(",") if p and p not in phases]
    if unknown:
        return f"unknown phases {', '.join(unknown)}; phases: {', '.join(phases)}"
    if not args.differential and (args.scenario or args.compare or args.fake_key or args.fake_readonly_key):
        return "--scenario, --compare, --fake-key and --fake-readonly-key go with --differential"
    return None


def _target(args):
    from .target import Target
    return Target("target", args.api_key, base_url=args.target.rstrip("/").removesuffix("/api/v1"),
                  readonly_key=args.readonly_key, admin_token=args.admin_token)


def _reference(args):
    """The in-process fake the target is compared with, and its keys."""
    from ..app import create_app
    from ..scenario import load_scenario_files
    from ..scenario.defaults import default_scenario
    from .target import Target

    scenario = load_scenario_files(args.scenario) if args.scenario else default_scenario()
    app = create_app(scenario)
    keys = list(app.state.fake.store.keys.values())
    full = _pick(keys, args.fake_key, args.api_key, "bulk", every_scope=True)
    if full is None:
        raise ValueError("the fake's scenario has no key with every scope for --api-key (see --fake-key)")
    limited = _pick(keys, args.fake_readonly_key, args.readonly_key, "read-only") if args.readonly_key else None
    return Target("fake", full, app=app, readonly_key=limited)


def _pick(keys, name: str | None, raw: str | None, default_name: str, every_scope: bool = False) -> str | None:
    from ..http.scopes import ALL_SCOPES

    if name is not None:
        found = next((k for k in keys if k.name == name), None)
        if found is None:
            raise KeyError(f"the fake's scenario has no key named {name!r}; keys: {', '.join(k.name for k in keys)}")
        return found.raw
    for match in (lambda k: k.raw == raw, lambda k: k.name == default_name,
                  lambda k: every_scope and set(ALL_SCOPES) <= set(k.scopes)):
        found = next((k for k in keys if match(k)), None)
        if found is not None:
            return found.raw
    return None


def _reachable(target) -> str | None:
    import requests

    try:
        answer = target.session.get(f"{target.url}/api/v1/workflows?per_page=1",
                                    headers={"X-API-Key": target.api_key}, timeout=15)
    except requests.RequestException as exc:
        return f"cannot reach {target.url}: {exc}"
    if answer.status_code == 401:
        return f"{target.url} refuses --api-key (401: {answer.text[:200]})"
    return None


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)

"""The `fakemaestro` command: serve the fake, print its keys, check scenario files."""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from . import __version__
from .scenario import Scenario, ScenarioError, load_scenario_files
from .profile import PROFILES, QUIRKS
from .scenario.defaults import DEFAULT_SEED, default_scenario


def _quirk(text: str) -> tuple[str, bool]:
    name, sep, state = text.partition("=")
    if name not in QUIRKS:
        raise argparse.ArgumentTypeError(f"unknown quirk {name!r}; known quirks: {', '.join(QUIRKS)}")
    if not sep or state not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"expected {name}=on or {name}=off, got {text!r}")
    return name, state == "on"


def _scenario(args: argparse.Namespace) -> Scenario:
    if args.scenario:
        scenario = load_scenario_files(args.scenario)
        if args.seed is not None:
            scenario = Scenario({**scenario.data, "seed": args.seed}, scenario.source)
        return scenario
    return default_scenario(DEFAULT_SEED if args.seed is None else args.seed)


def _add_scenario_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", metavar="FILE", action="append",
                        help="scenario YAML file; repeat it to layer files, later ones extending and overriding "
                             "earlier ones (default: the embedded default scenario)")
    parser.add_argument("--seed", type=int, help="seed for generated data, ids and keys (overrides the scenario's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fakemaestro", description="A high-fidelity fake of the FlowMaestro public API v1.")
    parser.add_argument("--version", action="version", version=f"fakemaestro {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fake API with hypercorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000; 0 picks a free one)")
    serve.add_argument("--admin-token", metavar="TOKEN",
                       help="require this token on the admin API under /_fakemaestro/ (all but its health), as "
                            "'Authorization: Bearer TOKEN' or 'X-Admin-Token: TOKEN' (default: no token)")
    serve.add_argument("--profile", choices=PROFILES,
                       help="production: reproduce production's defects (the scenario's choice, else the "
                            "default); intended: the behaviour production means to have")
    serve.add_argument("--quirk", metavar="NAME=on|off", action="append", default=[], type=_quirk,
                       help="reproduce (on) or fix (off) one production defect, over the profile; repeatable; "
                            f"names: {', '.join(QUIRKS)}")
    _add_scenario_flags(serve)
    keys = commands.add_parser("keys", help="print the scenario's API keys by name")
    _add_scenario_flags(keys)
    keys.add_argument("--json", action="store_true", help='print {"name": "fm_live_..."} as JSON')
    check = commands.add_parser("check", help="validate scenario files without serving (exit 0 ok, 2 problems)",
                                description="Validate scenario files as `serve --scenario` would load them (later "
                                            "files extending earlier ones), without serving. Prints 'ok: FILES' "
                                            "and exits 0, or prints every problem as FILE:LINE:COL: PATH: MESSAGE "
                                            "on stderr and exits 2.")
    check.add_argument("files", metavar="FILE", nargs="+", help="scenario YAML file(s), in layering order")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args.files)
    if args.command == "serve" and args.admin_token is not None and not args.admin_token.strip():
        parser.error("--admin-token must not be empty")
    try:
        scenario = _scenario(args)
    except ScenarioError as exc:
        print(f"fakemaestro: {exc}", file=sys.stderr)
        return 2
    if args.command == "keys":
        return _keys(scenario, args.json)
    return _serve(scenario, args.host, args.port, args.admin_token, args.profile, dict(args.quirk))


def _check(files: list[str]) -> int:
    try:
        load_scenario_files(files)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    print(f"ok: {', '.join(files)}")
    return 0


def admin_warning(host: str, admin_token: str | None) -> str | None:
    """The warning for an admin API open to the network (None when there is nothing to say)."""
    if admin_token or _is_loopback(host):
        return None
    return (f"fakemaestro: warning: serving on {host} without --admin-token: anyone who can reach this address "
            "can use the admin API under /_fakemaestro/ (replace the scenario, read the API keys)")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _keys(scenario: Scenario, as_json: bool) -> int:
    names = scenario.key_names()
    if as_json:
        print(json.dumps(names, indent=2))
    else:
        width = max((len(n) for n in names), default=0)
        for name, raw in names.items():
            print(f"{name.ljust(width)}  {raw}")
    return 0


def _serve(scenario: Scenario, host: str, port: int, admin_token: str | None = None,
           profile: str | None = None, quirks: dict[str, bool] | None = None) -> int:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from .app import create_app

    app = create_app(scenario, admin_token=admin_token, profile=profile, quirks=quirks)
    sock = _listen(host, port)  # bound here so port 0 resolves before we print the URL
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.include_server_header = False  # production sends no Server header
    config.accesslog = None
    config.loglevel = "WARNING"
    bound_host, bound_port = sock.getsockname()[:2]
    fidelity = app.state.fake.fidelity
    switched = [f"{name}={'on' if fidelity.on(name) else 'off'}" for name in QUIRKS
                if fidelity.on(name) != (fidelity.profile == "production")]
    print(f"FakeMaestro serving {scenario.source}, profile {fidelity.profile}"
          + (f" (quirks {', '.join(switched)})" if switched else ""), flush=True)
    print(f"Base URL: http://{_url_host(bound_host)}:{bound_port}", flush=True)
    print("API keys:", flush=True)
    for key in app.state.fake.store.keys.values():
        print(f"  {key.name}: {key.raw}", flush=True)
    protection = "token required" if admin_token else "no token"
    print(f"Admin API: http://{_url_host(bound_host)}:{bound_port}/_fakemaestro/ ({protection})", flush=True)
    warning = admin_warning(host, admin_token)
    if warning:
        print(warning, file=sys.stderr, flush=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(app, config, shutdown_trigger=stop.wait)

    asyncio.run(run())
    try:
        sock.close()
    except OSError:  # hypercorn closes the descriptor it was given
        pass
    print("FakeMaestro stopped", flush=True)
    return 0


def _listen(host: str, port: int):
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

"""The `fakemaestro` command: serve the fake, print its keys, check scenario files.

Every `serve` flag (and `keys`'s --scenario and --seed) can also come from a FAKEMAESTRO_*
environment variable (ENVIRONMENT), for containers; a flag on the command line wins.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

from . import __version__
from .conform import command as conform
from .scenario import Scenario, ScenarioError, load_scenario_files
from .profile import PROFILES, QUIRKS
from .scenario.defaults import DEFAULT_SEED, default_scenario
from .serving import DEFAULT_SERVER, SERVERS, WORKERS_REFUSED, ServerMissing, check_installed

# variable -> (flag, attribute, commands); empty variables count as unset
ENVIRONMENT = {
    "FAKEMAESTRO_HOST": ("--host", "host", ("serve",)),
    "FAKEMAESTRO_PORT": ("--port", "port", ("serve",)),
    "FAKEMAESTRO_SCENARIO": ("--scenario", "scenario", ("serve", "keys")),
    "FAKEMAESTRO_SEED": ("--seed", "seed", ("serve", "keys")),
    "FAKEMAESTRO_PROFILE": ("--profile", "profile", ("serve",)),
    "FAKEMAESTRO_QUIRKS": ("--quirk", "quirk", ("serve",)),
    "FAKEMAESTRO_ADMIN_TOKEN": ("--admin-token", "admin_token", ("serve",)),
    "FAKEMAESTRO_SERVER": ("--server", "server", ("serve",)),
    "FAKEMAESTRO_WORKERS": ("--workers", "workers", ("serve",)),
}
SERVE_DEFAULTS = {"host": "127.0.0.1", "port": 8000, "server": DEFAULT_SERVER, "workers": 1}


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
    serve = commands.add_parser("serve", help="serve the fake API (hypercorn by default)",
                                epilog="Each flag can also be set by its environment variable: "
                                       + ", ".join(f"{flag} {var}" for var, (flag, _, _) in ENVIRONMENT.items())
                                       + " (FAKEMAESTRO_SCENARIO: files separated by commas or the path "
                                       "separator; FAKEMAESTRO_QUIRKS: NAME=on|off separated by commas or "
                                       "spaces). A flag given on the command line wins; --quirk flags "
                                       "apply over FAKEMAESTRO_QUIRKS.")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 8000; 0 picks a free one)")
    serve.add_argument("--server", choices=SERVERS,
                       help=f"ASGI server (default {DEFAULT_SERVER}, HTTP/1.1 and HTTP/2); uvicorn is faster, "
                            "HTTP/1.1 only, and needs the extra: pip install 'fakemaestro[fast]'")
    serve.add_argument("--workers", type=int, metavar="N",
                       help="server processes; only 1 (the default): the fake's state, clock and rate-limit "
                            "windows live in one process")
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
    conform.add_parser(commands)
    return parser


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "conform":
        return conform.main(args)
    if args.command == "check":
        return _check(args.files)
    apply_environment(args, parser, os.environ if environ is None else environ)
    if args.command == "serve":
        if args.workers < 1:
            parser.error(f"--workers must be 1 (got {args.workers})")
        if args.workers > 1:
            parser.error(WORKERS_REFUSED.format(n=args.workers))
        try:
            check_installed(args.server)
        except ServerMissing as exc:
            parser.error(str(exc))
    if args.command == "serve" and args.admin_token is not None and not args.admin_token.strip():
        parser.error("--admin-token must not be empty")
    try:
        scenario = _scenario(args)
    except ScenarioError as exc:
        print(f"fakemaestro: {exc}", file=sys.stderr)
        return 2
    if args.command == "keys":
        return _keys(scenario, args.json)
    return _serve(scenario, args.host, args.port, args.admin_token, args.profile, dict(args.quirk), args.server)


def apply_environment(args: argparse.Namespace, parser: argparse.ArgumentParser, environ) -> None:
    """Fill what the command line left unset from FAKEMAESTRO_* variables, then the defaults.
    A bad value is refused as its flag would be, naming the variable (exit 2)."""
    for var, (flag, dest, commands) in ENVIRONMENT.items():
        text = environ.get(var, "").strip()
        if args.command not in commands or not text:
            continue
        try:
            if dest == "quirk":  # the variable's switches first: --quirk flags apply over them
                args.quirk = [_quirk(item) for item in re.split(r"[,\s]+", text) if item] + args.quirk
            elif getattr(args, dest) is None:
                setattr(args, dest, _from_environment(dest, text))
        except (argparse.ArgumentTypeError, ValueError) as exc:
            parser.error(f"{var}={text!r} (as {flag}): {exc}")
    for dest, default in SERVE_DEFAULTS.items():
        if args.command == "serve" and getattr(args, dest) is None:
            setattr(args, dest, default)


def _from_environment(dest: str, text: str):
    if dest in ("port", "seed", "workers"):
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError("expected an integer")
        return int(text)
    if dest == "scenario":  # several files: commas or the OS path separator (":" here, ";" on Windows)
        return [part.strip() for part in re.split(f"[,{re.escape(os.pathsep)}]", text) if part.strip()]
    choices = {"profile": PROFILES, "server": SERVERS}.get(dest)
    if choices and text not in choices:
        raise ValueError(f"invalid choice {text!r} (choose from {', '.join(choices)})")
    return text


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
           profile: str | None = None, quirks: dict[str, bool] | None = None,
           server: str = DEFAULT_SERVER) -> int:
    from . import serving
    from .app import create_app

    app = create_app(scenario, admin_token=admin_token, profile=profile, quirks=quirks)
    sock = _listen(host, port)  # bound here so port 0 resolves before we print the URL
    bound_host, bound_port = sock.getsockname()[:2]
    fidelity = app.state.fake.fidelity
    switched = [f"{name}={'on' if fidelity.on(name) else 'off'}" for name in QUIRKS
                if fidelity.on(name) != (fidelity.profile == "production")]
    print(f"FakeMaestro serving {scenario.source}, profile {fidelity.profile}"
          + (f" (quirks {', '.join(switched)})" if switched else "")
          + ("" if server == DEFAULT_SERVER else f", on {server}"), flush=True)
    print(f"Base URL: http://{_url_host(bound_host)}:{bound_port}", flush=True)
    print("API keys:", flush=True)
    for key in app.state.fake.store.keys.values():
        print(f"  {key.name}: {key.raw}", flush=True)
    protection = "token required" if admin_token else "no token"
    print(f"Admin API: http://{_url_host(bound_host)}:{bound_port}/_fakemaestro/ ({protection})", flush=True)
    warning = admin_warning(host, admin_token)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    serving.run(app, sock, server)
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

"""The `fakemaestro` command: serve the fake, print its keys."""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from . import __version__
from .scenario import Scenario, ScenarioError, load_scenario_file
from .scenario.defaults import DEFAULT_SEED, default_scenario


def _scenario(args: argparse.Namespace) -> Scenario:
    if args.scenario:
        scenario = load_scenario_file(args.scenario)
        if args.seed is not None:
            scenario = Scenario({**scenario.data, "seed": args.seed}, scenario.source)
        return scenario
    return default_scenario(DEFAULT_SEED if args.seed is None else args.seed)


def _add_scenario_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", metavar="FILE", help="scenario YAML file (default: the embedded default scenario)")
    parser.add_argument("--seed", type=int, help="seed for generated data, ids and keys (overrides the scenario's)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fakemaestro", description="A high-fidelity fake of the FlowMaestro public API v1.")
    parser.add_argument("--version", action="version", version=f"fakemaestro {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fake API with hypercorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000; 0 picks a free one)")
    _add_scenario_flags(serve)
    keys = commands.add_parser("keys", help="print the scenario's API keys by name")
    _add_scenario_flags(keys)
    keys.add_argument("--json", action="store_true", help='print {"name": "fm_live_..."} as JSON')
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        scenario = _scenario(args)
    except ScenarioError as exc:
        print(f"fakemaestro: {exc}", file=sys.stderr)
        return 2
    if args.command == "keys":
        return _keys(scenario, args.json)
    return _serve(scenario, args.host, args.port)


def _keys(scenario: Scenario, as_json: bool) -> int:
    names = scenario.key_names()
    if as_json:
        print(json.dumps(names, indent=2))
    else:
        width = max((len(n) for n in names), default=0)
        for name, raw in names.items():
            print(f"{name.ljust(width)}  {raw}")
    return 0


def _serve(scenario: Scenario, host: str, port: int) -> int:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from .app import create_app

    app = create_app(scenario)
    sock = _listen(host, port)  # bound here so port 0 resolves before we print the URL
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.include_server_header = False  # production sends no Server header
    config.accesslog = None
    config.loglevel = "WARNING"
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"FakeMaestro serving {scenario.source}", flush=True)
    print(f"Base URL: http://{_url_host(bound_host)}:{bound_port}", flush=True)
    print("API keys:", flush=True)
    for key in app.state.fake.store.keys.values():
        print(f"  {key.name}: {key.raw}", flush=True)

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

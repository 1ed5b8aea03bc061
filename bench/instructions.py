"""Instructions per request, counted by valgrind's callgrind: the noise-free companion of
bench/run.py (a script, not a test).

Throughput on a shared machine moves by 10-30% from run to run; the number of
instructions a server executes for a request does not (within about 1%). For list
workflows and get execution, each server process (the ASGI server with FakeMaestro, or
with one of bench/run.py's two bare Starlette apps) runs under callgrind three times:
warm-up only, warm-up then N list requests, warm-up then N get requests, one keep-alive
connection, one request in flight (c=1). A request's count is the difference divided by N:
everything the server process does for it (parsing, the app, writing the answer, the event
loop), nothing the client does.

    python bench/instructions.py [--servers hypercorn,uvicorn] [--requests 600]

The ratio "bare / FakeMaestro" is the throughput ratio a CPU-bound server would reach when
every instruction cost the same; it ignores what counting cannot see (cache misses, the
kernel's part, waiting). Needs valgrind (Debian: apt install valgrind); under it, a server
runs about 50 times slower, so a run takes a few minutes.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/run.py: the same targets, baselines and server commands)

WARM = 20  # requests per target before anything is counted (caches, lazy imports)
COLLECTED = re.compile(r"Collected : (\d+)")


def count(argv: list[str], port: int, warm: list[bytes], measured: bytes | None, requests: int,
          out_dir: Path) -> int:
    """Instructions the server process runs from start to exit, having answered `warm`
    requests and then `requests` of `measured`."""
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/callgrind.%p",
                             *argv], cwd=run.ROOT, env=run.SERVER_ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        conn = _connect(port, proc)
        try:
            for raw in warm:
                for _ in range(WARM):
                    _request(conn, raw)
            for _ in range(requests if measured else 0):
                _request(conn, measured)
        finally:
            conn.close()
        proc.send_signal(signal.SIGINT)  # a clean stop: callgrind writes its totals at exit
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    found = COLLECTED.search(err)
    if not found:
        raise RuntimeError(f"{' '.join(argv)}: no callgrind totals: {err[-2000:]}")
    return int(found.group(1))


def _connect(port: int, proc: subprocess.Popen, timeout_s: float = 300) -> socket.socket:
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {proc.stderr.read()[-2000:]}")
        try:
            return socket.create_connection((run.HOST, port), timeout=timeout_s)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no server on port {port} after {timeout_s} s")


def _request(conn: socket.socket, raw: bytes) -> None:
    conn.sendall(raw)
    received = b""
    while b"\r\n\r\n" not in received:
        received += _recv(conn)
    head, _, body = received.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        raise RuntimeError(f"expected a 200, got {head[:200]!r}")
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += _recv(conn)


def _recv(conn: socket.socket) -> bytes:
    chunk = conn.recv(65536)
    if not chunk:
        raise RuntimeError("the server closed the connection")
    return chunk


def per_request(argv_for_port, targets: list[run.Target], requests: int, out_dir: Path) -> dict[str, float]:
    """{target name: instructions per request} for one app on one server."""
    warm = [t.raw() for t in targets]

    def one(measured: bytes | None) -> int:
        port = run.free_port()
        return count(argv_for_port(port), port, warm, measured, requests, out_dir)

    with ThreadPoolExecutor(max_workers=max(1, min(3, os.cpu_count() or 1))) as pool:
        base, *loaded = pool.map(one, [None, *warm])
    return {t.name: (total - base) / requests for t, total in zip(targets, loaded)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default=None, help="comma-separated (default: hypercorn, and uvicorn if installed)")
    parser.add_argument("--requests", type=int, default=600,
                        help="counted requests per target (default 600; at most 900: hypercorn ends a keep-alive "
                             "connection after 1000)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        print("bench/instructions.py needs valgrind on the PATH (Debian/Ubuntu: apt install valgrind)",
              file=sys.stderr)
        return 2
    if not 1 <= args.requests <= 900:
        parser.error("--requests must be between 1 and 900")
    sys.path.insert(0, str(run.ROOT))
    from fakemaestro import serving
    servers = args.servers.split(",") if args.servers else [
        s for s in serving.SERVERS if s == "hypercorn" or run._installed(s)]
    key = run._bulk_key()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fakemaestro-instructions-") as tmp:
        out_dir = Path(tmp)
        for server in servers:
            probe = run.Target("", "GET", "/api/v1/workflows", key).raw()
            fake = run.startup(lambda port: run.fake_argv(port, server), probe, 1)
            try:
                targets = run.discover(fake.port, key)[:2]  # list workflows, get execution
                routes = out_dir / f"routes-{server}.json"
                routes.write_text(json.dumps(run.bare_routes(fake.port, targets)))
            finally:
                fake.stop()
            apps = {"fakemaestro": lambda port: run.fake_argv(port, server)}
            for name, flags in run.BARE_APPS.items():
                apps[name] = functools.partial(run.bare_argv, server=server, routes_file=routes, flags=flags)
            counts = {}
            for name, argv in apps.items():
                counts[name] = per_request(argv, targets, args.requests, out_dir)
                print(f"  {server:<9} {name:<12} " + "  ".join(f"{t}: {n:,.0f}" for t, n in counts[name].items()),
                      flush=True)
            for t in targets:
                fake_n = counts["fakemaestro"][t.name]
                rows.append({"server": server, "request": t.name, "fakemaestro": fake_n,
                             **{name: counts[name][t.name] for name in run.BARE_APPS},
                             **{f"ratio_{name}": counts[name][t.name] / fake_n for name in run.BARE_APPS}})
    print()
    print("| server | request (c=1) | FakeMaestro | " + " | ".join(run.BARE_APPS) + " | "
          + " | ".join(f"{name} / FakeMaestro" for name in run.BARE_APPS) + " |")
    print("|---|---|--:|" + "--:|" * (2 * len(run.BARE_APPS)))
    for row in rows:
        print(f"| {row['server']} | {row['request']} | {row['fakemaestro']:,.0f} | "
              + " | ".join(f"{row[name]:,.0f}" for name in run.BARE_APPS) + " | "
              + " | ".join(f"{row['ratio_' + name]:.0%}" for name in run.BARE_APPS) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

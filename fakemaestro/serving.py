"""The ASGI servers `fakemaestro serve --server` can run the app on, on a socket the
CLI has already bound, until SIGINT or SIGTERM.

hypercorn is the default and the one the test suite runs against: it speaks HTTP/1.1
and HTTP/2 (h2c). uvicorn (the optional `fast` extra: uvicorn with uvloop and
httptools) is HTTP/1.1 only and faster per request (docs/sidecar.md has the numbers).
Both run one process: the fake's state lives in it (see WORKERS_REFUSED).
"""
from __future__ import annotations

import asyncio
import contextlib
import signal
import socket

SERVERS = ("hypercorn", "uvicorn")
DEFAULT_SERVER = "hypercorn"

WORKERS_REFUSED = (
    "--workers {n}: FakeMaestro runs in one process, and refuses more than one worker. Its whole "
    "state lives in that process's memory: the records (a workflow executed through one worker "
    "would be unknown to the others), the fake clock, the rate-limit windows (each worker would "
    "count apart, so a key would get N times its limit), fault-rule counters ('first: 2' would "
    "fire twice per worker) and the request journal. One process serves over a thousand requests "
    "a second (docs/sidecar.md); for more, run several fakes on different ports.")


class ServerMissing(RuntimeError):
    """The chosen server's package is not installed."""


def run(app, sock: socket.socket, server: str = DEFAULT_SERVER) -> None:
    """Serve `app` on the listening `sock` until SIGINT/SIGTERM; returns once stopped."""
    serve = {"hypercorn": _hypercorn, "uvicorn": _uvicorn}[server]
    with asyncio.Runner(loop_factory=_uvloop() if server == "uvicorn" else None) as runner:
        runner.run(_until_signalled(lambda stop: serve(app, sock, stop)))


def _uvloop():
    try:
        import uvloop
    except ImportError:  # the fast extra leaves it out where it does not build (Windows)
        return None
    return uvloop.new_event_loop


def check_installed(server: str) -> None:
    """Raise ServerMissing, with the install command, before anything is printed or bound."""
    if server == "uvicorn":
        try:
            import uvicorn  # noqa: F401
        except ImportError:
            raise ServerMissing("--server uvicorn needs the optional extra: pip install 'fakemaestro[fast]'") from None


async def _until_signalled(serve) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(stop)


async def _hypercorn(app, sock: socket.socket, stop: asyncio.Event) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.include_server_header = False  # production sends no Server header
    config.accesslog = None
    config.loglevel = "WARNING"
    await serve(app, config, shutdown_trigger=stop.wait)


async def _uvicorn(app, sock: socket.socket, stop: asyncio.Event) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # _until_signalled owns the signals (uvicorn would re-raise them)
            yield

    config = uvicorn.Config(app, server_header=False, access_log=False, log_level="warning",
                            lifespan="on", proxy_headers=False,
                            timeout_graceful_shutdown=5)  # open event streams must not hold the stop
    server = Server(config)
    watcher = asyncio.ensure_future(stop.wait())
    watcher.add_done_callback(lambda _: setattr(server, "should_exit", True))
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()

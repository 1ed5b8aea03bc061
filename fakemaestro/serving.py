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
import functools
import re
import signal
import socket
import types

from .http import fields
from .http.reasons import phrase

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


def hypercorn_config(sock: socket.socket):
    """hypercorn's settings for the fake (also fakemaestro.testing's): on `sock`, without the
    Server header production does not send, quiet; Node's reason phrases installed."""
    from hypercorn.config import Config

    use_node_reason_phrases()
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.include_server_header = False  # production sends no Server header
    config.accesslog = None
    config.loglevel = "WARNING"
    return config


async def _hypercorn(app, sock: socket.socket, stop: asyncio.Event) -> None:
    from hypercorn.asyncio import serve

    await serve(app, hypercorn_config(sock), shutdown_trigger=stop.wait)


async def _uvicorn(app, sock: socket.socket, stop: asyncio.Event) -> None:
    import uvicorn

    use_node_reason_phrases("uvicorn")

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


def use_node_reason_phrases(server: str = DEFAULT_SERVER) -> None:
    """Have `server` write production's status lines (`HTTP/1.1 200 OK`, Node's phrases,
    http/reasons.py). Neither server has a setting for it: hypercorn's HTTP/1.1 protocol
    builds h11 responses without a reason (so h11 writes `HTTP/1.1 200 `), and is given an
    h11 whose Response adds Node's; uvicorn looks its status lines up in tables, which get
    Node's phrases. Idempotent; HTTP/2 has no reason phrases.

    hypercorn's h11 also checks headers faster: those a stricter check passes skip h11's
    own validation (see _plainly_valid), the rest get h11's verdict."""
    if server == "uvicorn":
        _uvicorn_reasons()
        return
    import h11
    from hypercorn.protocol import h11 as hypercorn_h11

    if getattr(hypercorn_h11.h11, "fakemaestro_reasons", False):
        return
    shim = types.ModuleType("h11")
    shim.__dict__.update(vars(h11))

    def response(*, status_code: int, headers, reason: bytes = b"", **fields) -> h11.Response:
        reason = reason or _phrase(status_code)
        headers = headers if type(headers) is list else list(headers)  # read twice below
        if type(status_code) is int and _plainly_valid(headers):
            # h11 validates each header with two regular expressions (~9,000 instructions a
            # header, ~10% of a small answer with production's 14 headers)
            return h11.Response(status_code=status_code, headers=headers, reason=reason, _parsed=True, **fields)
        return h11.Response(status_code=status_code, headers=headers, reason=reason, **fields)

    shim.Response, shim.fakemaestro_reasons = response, True
    hypercorn_h11.h11 = shim


def _uvicorn_reasons() -> None:
    from uvicorn.protocols.http import h11_impl

    for status in h11_impl.STATUS_PHRASES:
        h11_impl.STATUS_PHRASES[status] = _phrase(status)
    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError:  # httptools not installed: uvicorn uses h11_impl
        return
    for status in httptools_impl.STATUS_LINE:
        httptools_impl.STATUS_LINE[status] = b"HTTP/1.1 %d %s\r\n" % (status, _phrase(status))


# A check stricter than h11's rules, done by C string methods rather than h11's two
# regular expressions per header: names are RFC 9110 tokens (the few a fake uses are
# remembered), values printable ASCII with spaces and tabs inside only. A header that
# fails it is not necessarily invalid: h11 then judges it.
_TOKEN = re.compile(fields.TOKEN.encode()).fullmatch
_VALUE_BYTES = bytes(range(0x21, 0x7F)) + b" \t\n"  # \n: the separator values are joined with
_valid_names: set[bytes] = set()


def _plainly_valid(headers: list) -> bool:
    """hypercorn hands h11 bytes only (it converts the app's headers with bytes())."""
    names = [name for name, _ in headers]
    if not _valid_names.issuperset(names):
        if not all(type(name) is bytes and _TOKEN(name) for name in names):
            return False
        if len(_valid_names) < 1024:
            _valid_names.update(names)
    values = b"\n".join([value for _, value in headers])
    return (values.count(b"\n") == len(headers) - 1  # no newline inside a value
            and not values.translate(None, _VALUE_BYTES)  # nothing but those bytes
            and not values.startswith((b" ", b"\t")) and not values.endswith((b" ", b"\t"))
            and b"\n " not in values and b" \n" not in values and b"\n\t" not in values and b"\t\n" not in values)


@functools.lru_cache(maxsize=None)  # hypercorn asks on every response
def _phrase(status: int) -> bytes:
    return phrase(status).encode("latin-1")

"""Running the demo shop API: the :class:`DemoServer` object, :func:`running` for tests, and the CLI entry."""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Iterable, Sequence
from types import FrameType, TracebackType
from typing import Any

from testdata_kit.demo._handler import DemoHttpServer
from testdata_kit.demo._routes import ADDRESSING, Settings
from testdata_kit.demo._schema import COLLECTIONS
from testdata_kit.demo._store import Store
from testdata_kit.errors import TestDataError
from testdata_kit.guard import is_loopback

__all__ = ["DEFAULT_HOST", "METHODS", "DemoServer", "RemoteHostError", "main", "running"]

DEFAULT_HOST = "127.0.0.1"
#: Methods the API answers; ``fail_methods`` must be drawn from these.
METHODS = ("GET", "POST", "PATCH", "DELETE")
# Long enough for an in-flight request with injected latency to finish before the database closes.
_JOIN_SECONDS = 5.0


class RemoteHostError(TestDataError, ValueError):
    """The demo API was asked to listen on a host other than loopback without ``allow_remote``."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"Refusing to listen on {host!r}: it is not a loopback address, so anyone who can reach this "
            f"machine could read and delete the demo data, and the API has no authentication. Use "
            f"--host {DEFAULT_HOST} (the default), or pass --allow-remote (allow_remote=True) if you mean it."
        )



def _methods(value: str | Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else [part for v in value for part in v.split(",")]
    chosen = frozenset(name.strip().upper() for name in names if name.strip())
    unknown = sorted(chosen - set(METHODS))
    if unknown or not chosen:
        raise ValueError(f"fail_methods {value!r} must name some of: {', '.join(METHODS)}")
    return chosen


class DemoServer:
    """The demo shop API on a loopback port, started in a background thread or served in the foreground.

    One object serves as a context manager (``with DemoServer() as server``) and as a ``start()``/``stop()``
    pair. The database lives as long as the server unless *db* names a file.

    :param host: interface to listen on; anything but loopback needs *allow_remote*.
    :param port: TCP port; 0 (the default) picks a free one, readable from :attr:`port` once started.
    :param latency_ms: milliseconds every non-admin request sleeps before it is handled.
    :param fail_rate: probability (0 to 1) that a non-admin request gets a 503 instead of being handled.
    :param fail_methods: methods the failures apply to (e.g. ``["DELETE"]`` or ``"DELETE,PATCH"``); None: all.
    :param seed: seed of the failure generator, so the same request sequence fails the same way.
    :param db: SQLite file, or ``":memory:"`` for a database private to this server.
    :param verbose: log every request to stderr.
    :param allow_remote: permit a non-loopback *host*.
    :param addressing: ``"path"`` (rows at ``/users/7``) or ``"query"`` (rows at ``/users?id=eq.7``, where a GET
        answers a list of 0 or 1 rows and ``/users/7`` is 404), as PostgREST does.
    :param array_bodies: answer a create with a one-element array ``[{...}]`` instead of the object.
    :param location_query: send ``Location: /users?id=eq.7`` on a create (always so with query addressing).
    :param empty_delete_204: answer 204 to a DELETE that matched nothing, instead of 404.
    :param fail_first_seconds: answer 503 to every request (of *fail_methods*) for this many seconds after the
        server starts, as an API that is restarting does.
    :param fail_after: make injected failures happen after the request was handled: the row is deleted (or
        created), and the answer is still a 503, as when a proxy times out after the backend committed.
    :param delete_delay_ms: answer a DELETE 204 at once but delete the row this many milliseconds later, as a
        server that deletes in the background does (Jupyter Server's terminals): a GET just after still finds it.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        latency_ms: float = 0,
        fail_rate: float = 0.0,
        fail_methods: str | Iterable[str] | None = None,
        seed: int | None = None,
        db: str = ":memory:",
        verbose: bool = False,
        allow_remote: bool = False,
        addressing: str = "path",
        array_bodies: bool = False,
        location_query: bool = False,
        empty_delete_204: bool = False,
        fail_first_seconds: float = 0.0,
        fail_after: bool = False,
        hang_rate: float = 0.0,
        hang_seconds: float = 2.0,
        delete_delay_ms: float = 0.0,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise RemoteHostError(host)
        _check_amount("fail_rate", fail_rate, "a probability between 0 and 1, e.g. 0.3", most=1.0)
        _check_amount("latency_ms", latency_ms, "zero or more milliseconds, e.g. 20")
        if addressing not in ADDRESSING:
            raise ValueError(f"addressing {addressing!r} must be one of: {', '.join(ADDRESSING)}")
        _check_amount("hang_rate", hang_rate, "a probability between 0 and 1, e.g. 0.1", most=1.0)
        _check_amount("hang_seconds", hang_seconds, "zero or more seconds, e.g. 2")
        _check_amount("delete_delay_ms", delete_delay_ms, "zero or more milliseconds, e.g. 50")
        _check_amount("fail_first_seconds", fail_first_seconds, "zero or more seconds, e.g. 1.5")
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port!r} must be between 0 (pick a free port) and 65535")
        self.host = host.strip("[]")
        self._requested_port = port
        self.db = db
        self.settings = Settings(
            float(latency_ms), float(fail_rate), _methods(fail_methods), seed, verbose, addressing,
            array_bodies, location_query, empty_delete_204, float(fail_first_seconds), fail_after,
            float(hang_rate), float(hang_seconds), float(delete_delay_ms),
        )
        self._http: DemoHttpServer | None = None
        self._store: Store | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = self.url if self._http else "stopped"
        return f"<DemoServer {state}>"

    @property
    def port(self) -> int:
        """The port the server listens on; only known once it is started."""
        return int(self._live_http().server_address[1])

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``"http://127.0.0.1:49152"``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def open(self) -> DemoServer:
        """Open the database and bind the socket without serving yet (what :meth:`start` does first)."""
        if self._http is not None:
            raise RuntimeError(f"{self!r} is already started; stop() it first")
        store = Store(self.db)
        try:
            self._http = DemoHttpServer((self.host, self._requested_port), store, self.settings)
        except BaseException:
            store.close()
            raise
        self._store = store
        return self

    def start(self) -> DemoServer:
        """Start serving in a daemon thread and return self; requests are accepted once this returns."""
        http = self.open()._live_http()
        self._thread = threading.Thread(
            target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="demo-api"
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :class:`KeyboardInterrupt`; then call :meth:`stop`."""
        if self._http is None:
            self.open()
        self._live_http().serve_forever(poll_interval=0.5)

    def stop(self) -> None:
        """Stop serving, close every connection and the listening socket, then close the database."""
        http, store, thread = self._http, self._store, self._thread
        self._http = self._store = self._thread = None
        if http is None:
            return
        if thread is not None:
            http.shutdown()
            thread.join()
        http.server_close()
        held = self.settings.hang_seconds if self.settings.hang_rate else 0.0
        http.close_connections(_JOIN_SECONDS + self.settings.latency_ms / 1000 + held)
        if store is not None:
            store.close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def counts(self) -> dict[str, int]:
        """Return the row count of every collection, read straight from the database."""
        self._live_http().finish_deletions()
        return self._live_store().counts()

    def deletions(self) -> list[dict[str, Any]]:
        """Return every deletion as ``{"collection", "id", "at"}``, in the order the server committed them."""
        self._live_http().finish_deletions()
        return self._live_store().deletions()

    def reset(self) -> dict[str, int]:
        """Delete every row and the deletion log; return the counts from before."""
        return self._live_store().reset()

    def backdate(self, collection: str, row_id: int, created_at: _dt.datetime) -> dict[str, Any]:
        """Set one row's ``created_at`` (aware, or naive meaning UTC) and return the row.

        :raises DemoApiError: with ``status`` 404 when the collection or row does not exist.
        """
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=_dt.timezone.utc)
        return self._live_store().backdate(collection, row_id, created_at)

    def _live_http(self) -> DemoHttpServer:
        if self._http is None:
            raise RuntimeError("The demo server is not started; call start() or use it in a with block")
        return self._http

    def _live_store(self) -> Store:
        self._live_http()
        assert self._store is not None
        return self._store


def running(
    latency_ms: float = 0,
    fail_rate: float = 0.0,
    fail_methods: str | Iterable[str] | None = None,
    seed: int | None = None,
    **options: Any,
) -> DemoServer:
    """Return a not yet started :class:`DemoServer` on a free loopback port, for ``with running() as server``.

    Same parameters as :class:`DemoServer`; the ``with`` block starts it and stops it, closing everything.
    """
    return DemoServer(latency_ms=latency_ms, fail_rate=fail_rate, fail_methods=fail_methods, seed=seed, **options)


def _check_amount(name: str, value: float, meaning: str, most: float = math.inf) -> None:
    # NaN compares false with everything and infinity sleeps forever: neither may pass a bounds check unnoticed.
    if not (math.isfinite(value) and 0 <= value <= most):
        raise ValueError(f"{name} {value!r} must be {meaning}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testdata_kit serve-demo",
        description="Serve the demo shop API (users, products, discounts, orders, tenants) until Ctrl-C "
        "or SIGTERM. Data lives in memory unless --db names a file.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--latency", type=float, default=0, metavar="MS", help="sleep MS milliseconds per request")
    parser.add_argument(
        "--fail-rate", type=float, default=0.0, metavar="P", help="answer 503 with probability P (0 to 1)"
    )
    parser.add_argument(
        "--fail-methods",
        action="append",
        metavar="METHODS",
        help=f"only fail these methods, comma-separated or repeated (from {', '.join(METHODS)}; default: all)",
    )
    parser.add_argument("--seed", type=int, help="seed of the failure generator, for reproducible failures")
    parser.add_argument("--db", default=":memory:", metavar="PATH", help="SQLite file (default: in memory)")
    parser.add_argument("--allow-remote", action="store_true", help="permit a --host other than loopback")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    odd = parser.add_argument_group("misbehaviours of real REST servers, for testing clients against them")
    odd.add_argument("--addressing", choices=ADDRESSING, default="path",
                     help="address rows as /users/7 (path, the default) or /users?id=eq.7 (query)")
    odd.add_argument("--array-bodies", action="store_true", help="answer a create with [{...}], not {...}")
    odd.add_argument("--location-query", action="store_true", help="send Location: /users?id=eq.7 on a create")
    odd.add_argument("--empty-delete-204", action="store_true",
                     help="answer 204 to a DELETE that matched nothing, instead of 404")
    odd.add_argument("--fail-first", type=float, default=0.0, metavar="SECONDS",
                     help="answer 503 to every request (of --fail-methods) for SECONDS after starting")
    odd.add_argument("--fail-after", action="store_true",
                     help="injected failures happen after the request was handled: the change is made, the "
                     "answer is 503")
    odd.add_argument("--hang-rate", type=float, default=0.0, metavar="P",
                     help="with probability P, handle a request (of --fail-methods) but answer only after "
                     "--hang-seconds, past a client's timeout")
    odd.add_argument("--hang-seconds", type=float, default=2.0, metavar="SECONDS",
                     help="how long --hang-rate holds an answer back (default: %(default)s)")
    odd.add_argument("--delete-delay", type=float, default=0.0, metavar="MS",
                     help="answer a DELETE 204 at once, but delete the row MS milliseconds later")
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo API in the foreground until SIGINT or SIGTERM; return 0 after a clean shutdown."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        server = DemoServer(
            host=args.host,
            port=args.port,
            latency_ms=args.latency,
            fail_rate=args.fail_rate,
            fail_methods=args.fail_methods,
            seed=args.seed,
            db=args.db,
            verbose=args.verbose,
            allow_remote=args.allow_remote,
            addressing=args.addressing,
            array_bodies=args.array_bodies,
            location_query=args.location_query,
            empty_delete_204=args.empty_delete_204,
            fail_first_seconds=args.fail_first,
            fail_after=args.fail_after,
            hang_rate=args.hang_rate,
            hang_seconds=args.hang_seconds,
            delete_delay_ms=args.delete_delay,
        )
    except ValueError as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    folder = os.path.dirname(os.path.abspath(args.db))
    if args.db != ":memory:" and not os.path.isdir(folder):
        print(f"{parser.prog}: error: --db {args.db!r}: the folder {folder} does not exist; create it, or name a "
              f"file in an existing folder (or leave --db out to keep the data in memory).", file=sys.stderr)
        return 2
    try:
        server.open()
    except sqlite3.Error as error:
        print(f"{parser.prog}: error: --db {args.db!r} cannot be opened as a SQLite database ({error}); check that "
              f"it is a SQLite file this user may write, or leave --db out to keep the data in memory.",
              file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{parser.prog}: error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        print(f"Demo API listening on {server.url}", flush=True)
        print(f"Collections: {', '.join(COLLECTIONS)}. Stop with Ctrl-C.", file=sys.stderr, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

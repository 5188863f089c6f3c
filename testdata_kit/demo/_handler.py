"""HTTP side of the demo API: reading requests and writing answers, injected latency and failures, connection tracking.

Routing a request to the store lives in :mod:`testdata_kit.demo._routes`; :data:`ADDRESSING`, :class:`Settings`,
:class:`Response` and :func:`dispatch` are importable from here too.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testdata_kit.demo._routes import ADDRESSING, TENANT_HEADER, Response, Settings, dispatch
from testdata_kit.demo._schema import DemoApiError
from testdata_kit.demo._store import Store

__all__ = ["ADDRESSING", "DemoHttpServer", "Response", "Settings", "dispatch"]

_MAX_BODY = 1 << 20


class DemoHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests; HTTP/1.1 with keep-alive, every body sized by Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "testdata-kit-demo/1"
    # Headers and body leave in one segment (handle_one_request flushes the buffer): written separately,
    # Nagle plus the client's delayed ACK cost 40 ms per keep-alive request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: DemoHttpServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _handle(self) -> None:
        try:
            raw = self._read_body()
        except DemoApiError as error:
            # The body's extent is unknown, so the connection cannot carry another request.
            self.close_connection = True
            self._send(Response(error.status, error.body(), error.headers))
            return
        settings = self.server.settings
        self.server.finish_deletions()
        # Admin endpoints are the tests' measuring instruments: they are never slowed down or failed.
        if not self.path.startswith("/_admin"):
            if settings.latency_ms:
                time.sleep(settings.latency_ms / 1000)  # outside the store's lock, so requests overlap
            if self.server.should_fail(self.command):
                if settings.fail_after:
                    # Like a proxy that times out after the backend committed: the change is made, the answer lost.
                    with contextlib.suppress(Exception):
                        dispatch(self.server.store, self.command, self.path, raw, self.headers.get(TENANT_HEADER),
                                 settings, self.server.delete_later)
                    self._send(Response(503, {"error": "Injected failure after the request was handled; retry"}))
                    return
                message = "Injected failure; nothing was changed, retry"
                self._send(Response(503, {"error": message}))
                return
        try:
            response = dispatch(self.server.store, self.command, self.path, raw, self.headers.get(TENANT_HEADER),
                                settings, self.server.delete_later)
        except DemoApiError as error:
            response = Response(error.status, error.body(), error.headers)
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            response = Response(500, {"error": f"internal error: {type(error).__name__}: {error}"})
        if not self.path.startswith("/_admin") and self.server.should_hang(self.command):
            # Handled, then answered too late: the client's timeout fires after the change was made.
            time.sleep(settings.hang_seconds)
        self._send(response)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise DemoApiError(411, "Chunked request bodies are not supported; send Content-Length")
        raw_length = self.headers.get("Content-Length", "0")
        if not raw_length.strip().isdigit():
            raise DemoApiError(400, f"Content-Length: {raw_length!r} is not a byte count")
        length = int(raw_length)
        if length > _MAX_BODY:
            raise DemoApiError(413, f"The request body has {length} bytes; the limit is {_MAX_BODY}")
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in (response.headers or {}).items():
            self.send_header(key, value)
        if response.status == 204:
            # RFC 9110 forbids Content-Length on 204; clients know it has no body.
            self.end_headers()
            return
        data = json.dumps(response.payload).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The stdlib answers unknown methods (501) and unparsable requests through here: answer in JSON
        # like every other error, close (the body, if any, was not read), and flush the buffered writer,
        # which the stdlib does not do on these paths, so the client would otherwise wait forever.
        self.close_connection = True
        text = message or self.responses.get(code, (f"HTTP {code}",))[0]
        self._send(Response(code, {"error": text}, {"Connection": "close"}))
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.settings.verbose:
            super().log_message(format, *args)


class DemoHttpServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, so :meth:`close_connections` ends them all."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops the connections that a concurrent teardown opens at once, and a
    # dropped connection waits a second to retry; real servers listen with 128 or more.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], store: Store, settings: Settings) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.store = store
        self.settings = settings
        self._rng = random.Random(settings.seed)
        self.started = time.monotonic()
        self._rng_lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._connections_lock = threading.Lock()
        # Deletions answered but not done yet: (due time, collection, id, tenant), applied by the first request
        # (or count) after their time, so that no timer thread outlives the server.
        self._late: list[tuple[float, str, int, int | None]] = []
        self._late_lock = threading.Lock()
        super().__init__(address, DemoHandler)

    def delete_later(self, name: str, row_id: int, tenant: int | None) -> None:
        """Delete one row ``delete_delay_ms`` from now (a row already due to go is not queued twice)."""
        with self._late_lock:
            if not any(entry[1:] == (name, row_id, tenant) for entry in self._late):
                self._late.append((time.monotonic() + self.settings.delete_delay_ms / 1000, name, row_id, tenant))

    def finish_deletions(self) -> None:
        """Apply the deletions whose delay has passed; one the store refuses then (a new reference) is dropped."""
        if not self._late:
            return
        now = time.monotonic()
        with self._late_lock:
            due = [entry for entry in self._late if entry[0] <= now]
            self._late = [entry for entry in self._late if entry[0] > now]
        for _, name, row_id, tenant in due:
            with contextlib.suppress(DemoApiError):  # gone already, or referenced again meanwhile
                self.store.delete(name, row_id, tenant)

    def should_fail(self, method: str) -> bool:
        """Whether this request gets an injected 503: always during the first ``fail_first_seconds``, then as
        drawn from the seeded generator."""
        settings = self.settings
        if settings.fail_methods is not None and method not in settings.fail_methods:
            return False
        if settings.fail_first_seconds and time.monotonic() - self.started < settings.fail_first_seconds:
            return True
        if settings.fail_rate <= 0:
            return False
        with self._rng_lock:
            return self._rng.random() < settings.fail_rate

    def should_hang(self, method: str) -> bool:
        """Draw from the seeded generator whether this request's answer is held back ``hang_seconds``."""
        settings = self.settings
        if settings.hang_rate <= 0 or (settings.fail_methods is not None and method not in settings.fail_methods):
            return False
        with self._rng_lock:
            return self._rng.random() < settings.hang_rate

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), daemon=True, name="demo-api-connection"
        )
        with self._connections_lock:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(threading.current_thread(), None)

    def close_connections(self, timeout: float) -> None:
        """Shut down every open client connection (idle keep-alives included) and wait for their threads.

        :param timeout: seconds to wait for each connection's thread.
        """
        with self._connections_lock:
            open_now = list(self._connections.items())
        for _, connection in open_now:
            with contextlib.suppress(OSError):  # the client may have closed it already
                connection.shutdown(socket.SHUT_RDWR)
        for thread, _ in open_now:
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is normal for a test server; only real bugs get a traceback.
        if isinstance(sys.exc_info()[1], OSError) and not self.settings.verbose:
            return
        super().handle_error(request, client_address)

"""A local HTTP server in a background thread, started and stopped cleanly: the simulators' base."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


class BackgroundServer:
    """Serves `handler_class` on host:port (0 picks a free port) until stop().

    The handler reaches this object as `self.server.simulator`. `_stopping` is set on stop() so a
    handler deliberately answering late can wake up instead of holding the shutdown.
    """

    name = "simulator"

    def __init__(
        self, *, handler_class: type[TrackedHandler], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.handler_class = handler_class
        self.host = host
        self._requested_port = port
        self._stopping = threading.Event()
        self._server: _TrackingServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _TrackingServer((self.host, self._requested_port), self.handler_class)
        self._server.simulator = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{self.name.lower().replace(' ', '-')}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"The {self.name} is not running; call start() first.")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _TrackingServer(ThreadingHTTPServer):
    daemon_threads = True
    simulator: Any

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a slow answer closes its end: expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            logger.debug("connection from %s ended early", client_address)
        else:
            logger.exception("simulator failed answering %s", client_address)

    def close_connections(self) -> None:
        # Kept-alive connections would otherwise go on being served after stop().
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class TrackedHandler(BaseHTTPRequestHandler):
    """A keep-alive handler whose connections the server can cut on stop().

    Every method goes to `_serve`, which answers what the simulated API allows. The simulator
    behind it offers `reset()`, `inject_fault(**options)`, `pending_faults()` and `clear_faults()`
    to the control endpoints under /simulator/.
    """

    server: _TrackingServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a client that keeps the connection
    # open waits out its delayed ACK (40 ms on Linux) for every small answer. Real APIs don't.
    disable_nagle_algorithm = True
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        super().finish()

    def _serve(self) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        logging.getLogger(type(self).__module__).info("%s %s", self.address_string(), format % args)

    def extra_headers(self) -> dict[str, str]:
        """Headers the simulated API puts on every answer."""
        return {}

    def _send_json(
        self, status: int, body: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> None:
        encoded = json.dumps(body, separators=(",", ":")).encode("utf-8")
        self._send(status, encoded, content_type="application/json", headers=headers)

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**self.extra_headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self) -> bytes:
        """The request body; ValueError for a length this server won't read."""
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        size = int(length)
        if size < 0 or size > MAX_BODY_BYTES:
            raise ValueError("Unacceptable Content-Length.")
        return self.rfile.read(size)

    def _control(self, path: str, body: bytes) -> None:
        """Test and demo hooks, without credentials: inject, list or clear faults; reset all."""
        simulator = self.server.simulator
        if path == "/simulator/reset" and self.command == "POST":
            simulator.reset()
            self._send_json(200, {"reset": True})
        elif path == "/simulator/faults" and self.command == "POST":
            options = json_or_none(body)
            if not isinstance(options, dict):
                self._send_json(400, {"error": "Send a JSON object with at least a 'kind'."})
                return
            try:
                fault = simulator.inject_fault(**options)
            except (TypeError, ValueError) as problem:
                self._send_json(400, {"error": str(problem)})
                return
            self._send_json(201, {"fault": asdict(fault)})
        elif path == "/simulator/faults" and self.command == "GET":
            self._send_json(200, {"faults": [asdict(f) for f in simulator.pending_faults()]})
        elif path == "/simulator/faults" and self.command == "DELETE":
            simulator.clear_faults()
            self._send_json(200, {"faults": []})
        else:
            self._send_json(404, {"error": "Unknown simulator control."})


def json_or_none(body: bytes) -> Any:
    """The body parsed as JSON, or None when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None

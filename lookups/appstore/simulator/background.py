"""A local HTTP server in a background thread, started and stopped cleanly: the simulators' base."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

logger = logging.getLogger(__name__)


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

    Every method goes to `_serve`, which answers what the simulated API allows.
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

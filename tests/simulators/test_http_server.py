"""The simulators' HTTP server: started on a free port, bodies read within a limit, kept-alive
connections cut on stop, and JSON read without trusting it."""

from __future__ import annotations

import pytest
import requests

from lookups.simulators.http_server import (
    MAX_BODY_BYTES,
    BackgroundServer,
    TrackedHandler,
    json_or_none,
)


class Echo(TrackedHandler):
    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError as refused:
            self._send_json(413, {"error": str(refused)})
            return
        self._send_json(200, {"method": self.command, "path": self.path, "length": len(body)})


@pytest.fixture
def echo():
    with BackgroundServer(handler_class=Echo) as server:
        yield server


def test_it_answers_on_a_free_port_every_method_it_serves(echo):
    with requests.Session() as session:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            answer = session.request(method, f"{echo.url}/x", data=b"abc", timeout=5)
            assert answer.json() == {"method": method, "path": "/x", "length": 3}
    assert echo.port > 0


def test_a_body_over_the_limit_is_not_read(echo):
    headers = {"Content-Length": str(MAX_BODY_BYTES + 1)}
    answer = requests.post(f"{echo.url}/x", headers=headers, data=b"", timeout=5)
    assert answer.status_code == 413


def test_stop_cuts_a_kept_alive_connection_and_a_stopped_server_has_no_port():
    server = BackgroundServer(handler_class=Echo).start()
    url = f"{server.url}/x"
    session = requests.Session()
    assert session.get(url, timeout=5).status_code == 200

    server.stop()

    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=2)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.port


@pytest.mark.parametrize(
    ("body", "parsed"),
    [(b'{"a": 1}', {"a": 1}), (b"not json", None), (b"\xff\xfe", None), (b"[1]", [1])],
)
def test_json_is_read_or_none(body, parsed):
    assert json_or_none(body) == parsed

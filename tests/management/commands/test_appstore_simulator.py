"""`manage.py appstore_simulator`: the local App Store alone, serving Apple's API with the demo
data until Ctrl-C, and saying how to point the desk at it."""

from __future__ import annotations

import signal
import subprocess
import threading

import requests

from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.manage_process import free_port, local_environment, manage

READY = "Faults: POST /simulator/faults, reset: POST /simulator/reset. Ctrl-C stops."


def test_it_serves_the_demo_until_ctrl_c_and_says_how_to_reach_it(tmp_path):
    port = free_port()
    simulator = manage(
        "appstore_simulator",
        "--port",
        str(port),
        environment={**local_environment(tmp_path), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in simulator.stdout:
            lines.append(line)
            if line.strip() == READY:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(60), "".join(lines)
        # Apple's API wants a bearer token: refused without one, as Apple refuses.
        answer = requests.get(
            f"http://127.0.0.1:{port}/inApps/v1/lookup/{ORDER_OFFER_CODE}", timeout=10
        )
        assert answer.status_code == 401
    finally:
        simulator.send_signal(signal.SIGINT)
        simulator.wait(timeout=30)
        reader.join(timeout=10)

    output = "".join(lines)
    assert f"App Store simulator listening on http://127.0.0.1:{port}" in output
    assert f"APPSTORE_BASE_URL=http://127.0.0.1:{port}" in output
    assert f"  {ORDER_OFFER_CODE}  " in output
    assert "Stopping the App Store simulator." in output
    assert (tmp_path / "appstore-simulator-root.pem").exists()

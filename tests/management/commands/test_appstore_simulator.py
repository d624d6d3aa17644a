"""`manage.py appstore_simulator`: the local App Store alone, serving Apple's API with the demo
data until Ctrl-C, and saying how to point the desk at it."""

from __future__ import annotations

import signal
import subprocess
import time

import requests

from lookups.simulators.demo_data import ORDER_OFFER_CODE
from tests.fixtures.manage_process import free_port, local_environment, manage


def test_it_serves_the_demo_until_ctrl_c_and_says_how_to_reach_it(tmp_path):
    port = free_port()
    simulator = manage(
        "appstore_simulator",
        "--port",
        str(port),
        environment=local_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        give_up = time.monotonic() + 60
        while True:
            assert simulator.poll() is None, simulator.stdout.read()
            try:
                # Apple's API wants a bearer token: refused without one, as Apple refuses.
                answer = requests.get(
                    f"http://127.0.0.1:{port}/inApps/v1/lookup/{ORDER_OFFER_CODE}", timeout=2
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < give_up, "the simulator never answered"
                time.sleep(0.2)
        assert answer.status_code == 401
    finally:
        simulator.send_signal(signal.SIGINT)
        output, _ = simulator.communicate(timeout=30)

    assert f"App Store simulator listening on http://127.0.0.1:{port}" in output
    assert f"APPSTORE_BASE_URL=http://127.0.0.1:{port}" in output
    assert f"  {ORDER_OFFER_CODE}  " in output
    assert output.rstrip().endswith("Stopping the App Store simulator.")
    assert (tmp_path / "appstore-simulator-root.pem").exists()

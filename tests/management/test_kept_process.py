"""`serve_demo`'s worker is kept running: a worker that dies is started again."""

from __future__ import annotations

import sys
import time

from lookups.management.kept_process import KeptProcess


def test_a_process_that_dies_is_started_again_until_stopped(tmp_path):
    marks = tmp_path / "starts"
    # Each run leaves a mark and dies at once, as a worker killed by an outage would.
    command = [sys.executable, "-c", f"open({str(marks)!r}, 'a').write('x')"]
    kept = KeptProcess(command, first_wait=0.1, max_wait=0.2)

    kept.start()
    deadline = time.monotonic() + 30
    while not (marks.exists() and len(marks.read_text()) >= 3):
        assert time.monotonic() < deadline, "the process was not started again"
        time.sleep(0.05)
    kept.stop()
    starts = kept.starts
    time.sleep(0.5)

    assert kept.starts == starts >= 3, "nothing is started once it is stopped"


def test_stopping_ends_a_running_process():
    kept = KeptProcess([sys.executable, "-c", "import time; time.sleep(60)"])
    kept.start()

    kept.stop(timeout=10)

    assert kept.process.poll() is not None and kept.starts == 1

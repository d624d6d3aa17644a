"""A child process kept running: started again, after a short wait, whenever it exits."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Sequence


class KeptProcess:
    """Runs `command` and starts it again each time it exits, until `stop()`.

    A process that keeps dying is started again at most every `max_wait` seconds (the wait
    doubles from `first_wait`), so a broken setup doesn't spin. `on_start` hears each new pid.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        first_wait: float = 1.0,
        max_wait: float = 30.0,
        on_start: Callable[[subprocess.Popen], None] | None = None,
    ) -> None:
        self.command = list(command)
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.on_start = on_start
        self.starts = 0
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._launch()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM lets it finish the task in hand; one that hangs is killed."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _launch(self) -> None:
        self.process = subprocess.Popen(self.command)  # noqa: S603 - the caller's own command
        self.starts += 1
        if self.on_start is not None:
            self.on_start(self.process)

    def _watch(self) -> None:
        wait = self.first_wait
        while not self._stopping.is_set():
            assert self.process is not None
            if self.process.poll() is None:
                self._stopping.wait(0.2)
                continue
            if self._stopping.wait(wait):
                return
            wait = min(wait * 2, self.max_wait)
            self._launch()

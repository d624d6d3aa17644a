"""What the server side of a load run did: its own time per page, and who used the CPU.

A time taken by the load generator is the answer's whole trip: its own turn on the CPU, the
wait in gunicorn's queue, the desk's work. On a two-core machine shared with other work, the
first two can outweigh the third. So a run also reads gunicorn's access log (the time from the
request read to the answer written, per request) and counts the CPU seconds of each process
taking part, and of the whole machine, over the measured window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

# gunicorn's access log line, as `ACCESS_LOG_OPTIONS` asks for it: method, path?query, status,
# and the request's time in microseconds.
ACCESS_LOG_FORMAT = "%(m)s %(U)s?%(q)s %(s)s %(D)s"
_LINE = re.compile(r"^(\S+) (\S*) (\d{3}) (\d+)$")


def access_log_options(path: Path) -> list[str]:
    return ["--access-logfile", str(path), "--access-logformat", ACCESS_LOG_FORMAT]


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    query: str
    status: int
    ms: float


def read_access_log(path: Path, offset: int = 0) -> list[Served]:
    """The requests gunicorn logged from byte `offset` on."""
    served = []
    with path.open("rb") as log:
        log.seek(offset)
        for raw in log:
            match = _LINE.match(raw.decode("utf-8", "replace").strip())
            if match is None:
                continue
            method, target, status, micros = match.groups()
            where, _, query = target.partition("?")
            served.append(Served(method, where, query, int(status), int(micros) / 1000))
    return served


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def server_times(
    served: Iterable[Served], page_of: Callable[[Served], str | None]
) -> dict[str, dict[str, float]]:
    """p50 and p95 of the server's own time, in ms, per page (`page_of` names a request's)."""
    by_page: dict[str, list[float]] = {}
    for request in served:
        if (page := page_of(request)) is not None:
            by_page.setdefault(page, []).append(request.ms)
    return {
        page: {
            "requests": len(times),
            "p50": round(percentile(times, 0.5), 1),
            "p95": round(percentile(times, 0.95), 1),
        }
        for page, times in by_page.items()
    }


@dataclass
class CpuMeter:
    """CPU seconds of named groups of processes, and of the whole machine, between two reads.

    A group is a function giving its processes' IDs at the moment (gunicorn's workers, the
    database's backends for this run); a process seen at the start or the end counts.
    """

    groups: dict[str, Callable[[], Iterable[int]]]
    _start: dict[str, dict[int, float]] = field(default_factory=dict)
    _machine_start: float = 0.0

    def start(self) -> None:
        self._start = {name: _cpu_of(pids()) for name, pids in self.groups.items()}
        self._machine_start = _machine_busy()

    def stop(self) -> dict[str, float]:
        """CPU seconds used since `start`, per group; `machine` for all, `other` for the rest."""
        used: dict[str, float] = {}
        for name, pids in self.groups.items():
            now = _cpu_of(pids())
            before = self._start.get(name, {})
            # A process gone since the start is not counted for the window: its last read is
            # lost with it.
            used[name] = round(
                sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items()), 2
            )
        used["machine"] = round(_machine_busy() - self._machine_start, 2)
        used["other"] = round(used["machine"] - sum(used[name] for name in self.groups), 2)
        return used


def process_tree(pid: int) -> list[int]:
    """`pid` and its children, as they are now (gunicorn's master and its workers)."""
    try:
        parent = psutil.Process(pid)
        return [pid, *(child.pid for child in parent.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def _cpu_of(pids: Iterable[int]) -> dict[int, float]:
    seconds = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[pid] = times.user + times.system
    return seconds


def _machine_busy() -> float:
    # Guest time is counted in user time already, idle and iowait are not work.
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in _BUSY)


_BUSY = ("user", "nice", "system", "irq", "softirq", "steal")

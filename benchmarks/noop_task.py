"""A task that does nothing, for measuring the queue itself (benchmarks/tasks_throughput.py)."""

from __future__ import annotations

from django.tasks import task


@task()
def noop() -> None:
    return None

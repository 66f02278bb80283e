"""The asyncmq benchmark task (task id ``benchmarks.tasks.noop``)."""

from __future__ import annotations

from asyncmq.tasks import task
from benchmarks.recorder import record


@task(queue="bench")
async def noop(stamp: float = 0.0) -> None:
    """Do nothing but count; `stamp` > 0 is the enqueue wall time of a latency sample."""
    record(stamp)

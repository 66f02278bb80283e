"""asyncmq (this checkout) on any backend URL; `python -m` this module is the worker."""

from __future__ import annotations

import os

from asyncmq.backends import from_url
from asyncmq.queues import Queue
from benchmarks.targets import Producer
from benchmarks.tasks import noop

TASK_ID = "benchmarks.tasks.noop"


class AsyncmqProducer(Producer):
    """Adds through `Queue.add` / `Queue.add_bulk`."""

    bulk = True

    def __init__(self, url: str) -> None:
        self.queue = Queue("bench", backend=from_url(url))

    async def add(self, stamp: float) -> None:
        await self.queue.add(TASK_ID, args=[stamp])

    async def add_bulk(self, stamps: list[float]) -> None:
        await self.queue.add_bulk([{"task_id": TASK_ID, "args": [s]} for s in stamps])

    async def aclose(self) -> None:
        await self.queue.backend.aclose()


async def setup(url: str) -> None:
    """Nothing to prepare: backends create their storage on first use."""


async def open_producer(url: str) -> Producer:
    """A producer on a fresh backend connection, connected now as the peers' producers are,
    so the add figures leave out connecting (and PostgreSQL's schema check)."""
    producer = AsyncmqProducer(url)
    await producer.queue.is_paused()
    return producer


def main() -> None:
    """The worker: one Queue.start() at BENCH_CONCURRENCY."""
    assert noop.id == TASK_ID  # registers the task in this process
    backend = from_url(os.environ["BENCH_URL"])
    Queue("bench", backend=backend, concurrency=int(os.environ["BENCH_CONCURRENCY"])).start()


if __name__ == "__main__":
    main()

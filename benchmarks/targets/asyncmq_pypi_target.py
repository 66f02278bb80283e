"""The older, unrelated PyPI project `asyncmq`, in its own venv; `python -m` this is the worker.

Its documented worker command reads the backend from a settings module; a script calling the
same `Queue.start()` keeps the URL in one place.
"""

from __future__ import annotations

import os
from typing import Any

from asyncmq.queues import Queue
from asyncmq.tasks import task
from benchmarks.recorder import record
from benchmarks.targets import Producer

TASK_ID = f"{__name__}.job"


@task(queue="bench")
async def job(stamp: float) -> None:
    record(stamp)


def backend(url: str) -> Any:
    if url.startswith("redis"):
        from asyncmq.backends.redis import RedisBackend

        return RedisBackend(url)
    from asyncmq.backends.postgres import PostgresBackend

    # Small pools: the server allows 100 connections for everyone on this machine.
    return PostgresBackend(dsn=url, pool_options={"min_size": 1, "max_size": 4})


class PypiProducer(Producer):
    bulk = True  # its add_bulk loops over add() (says its docstring); measured anyway

    def __init__(self, url: str) -> None:
        self.url = url
        self.queue = Queue("bench", backend=backend(url))

    async def add(self, stamp: float) -> None:
        await self.queue.add(TASK_ID, args=[stamp])

    async def add_bulk(self, stamps: list[float]) -> None:
        await self.queue.add_bulk([{"task_id": TASK_ID, "args": [s]} for s in stamps])

    async def aclose(self) -> None:
        if self.url.startswith("postgres"):
            await self.queue.backend.close()


async def setup(url: str) -> None:
    if url.startswith("postgres"):
        from asyncmq.core.utils.postgres import install_or_drop_postgres_backend

        await install_or_drop_postgres_backend(url)


async def open_producer(url: str) -> Producer:
    producer = PypiProducer(url)
    if url.startswith("postgres"):
        # Connect before concurrent adds, which would each race to create a pool.
        await producer.queue.backend.connect()
    return producer


if __name__ == "__main__":
    url = os.environ["BENCH_URL"]
    Queue("bench", backend=backend(url), concurrency=int(os.environ["BENCH_CONCURRENCY"])).start()

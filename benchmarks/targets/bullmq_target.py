"""BullMQ's Python package; `python -m` this module is the worker (BullMQ has no CLI)."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from bullmq import Queue, Worker

from benchmarks.recorder import record
from benchmarks.targets import Producer


async def process(job: Any, token: str) -> None:
    record(job.data["stamp"])


class BullmqProducer(Producer):
    bulk = True

    def __init__(self, url: str) -> None:
        self.queue = Queue("bench", {"connection": url})

    async def add(self, stamp: float) -> None:
        await self.queue.add("job", {"stamp": stamp})

    async def add_bulk(self, stamps: list[float]) -> None:
        await self.queue.addBulk([{"name": "job", "data": {"stamp": s}} for s in stamps])

    async def aclose(self) -> None:
        await self.queue.close()


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    return BullmqProducer(url)


async def work() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    opts = {
        "connection": os.environ["BENCH_URL"],
        "concurrency": int(os.environ["BENCH_CONCURRENCY"]),
    }
    worker = Worker("bench", process, opts)
    await stop.wait()
    await worker.close()


if __name__ == "__main__":
    asyncio.run(work())

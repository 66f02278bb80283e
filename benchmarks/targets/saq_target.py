"""saq: worker `saq benchmarks.targets.saq_target.settings`."""

from __future__ import annotations

import os
from typing import Any

from saq import Queue

from benchmarks.recorder import record
from benchmarks.targets import Producer

URL = os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/15")


async def job(ctx: Any, *, stamp: float) -> None:
    record(stamp)


settings = {
    "queue": Queue.from_url(URL, name="bench"),
    "functions": [job],
    "concurrency": int(os.environ.get("BENCH_CONCURRENCY", "10")),
}


class SaqProducer(Producer):
    def __init__(self, url: str) -> None:
        self.queue = Queue.from_url(url, name="bench")

    async def add(self, stamp: float) -> None:
        await self.queue.enqueue("job", stamp=stamp)

    async def aclose(self) -> None:
        await self.queue.disconnect()


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    producer = SaqProducer(url)
    await producer.queue.connect()
    return producer

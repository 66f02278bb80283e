"""streaq: worker `streaq run benchmarks.targets.streaq_target:worker`."""

from __future__ import annotations

import os

from streaq import Worker

from benchmarks.recorder import record
from benchmarks.targets import Producer

worker = Worker(
    redis_url=os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/15"),
    queue_name="bench",
    concurrency=int(os.environ.get("BENCH_CONCURRENCY", "10")),
)


@worker.task()
async def job(stamp: float) -> None:
    record(stamp)


class StreaqProducer(Producer):
    bulk = True

    async def add(self, stamp: float) -> None:
        await job.enqueue(stamp)

    async def add_bulk(self, stamps: list[float]) -> None:
        await worker.enqueue_many([job.enqueue(s) for s in stamps])

    async def aclose(self) -> None:
        await worker.__aexit__(None, None, None)


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    await worker.__aenter__()
    return StreaqProducer()

"""taskiq + taskiq-redis: worker `taskiq worker benchmarks.targets.taskiq_target:broker`."""

from __future__ import annotations

import os

from taskiq_redis import ListQueueBroker

from benchmarks.recorder import record
from benchmarks.targets import Producer

URL = os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/15")
broker = ListQueueBroker(URL, queue_name="bench")


@broker.task
async def job(stamp: float) -> None:
    record(stamp)


class TaskiqProducer(Producer):
    async def add(self, stamp: float) -> None:
        await job.kiq(stamp)

    async def aclose(self) -> None:
        await broker.shutdown()


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    assert url == URL, "the broker is built at import from BENCH_URL"
    await broker.startup()
    return TaskiqProducer()

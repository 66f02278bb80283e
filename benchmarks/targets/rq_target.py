"""rq: worker `rq worker --worker-class rq.worker.SimpleWorker bench` (one job at a time)."""

from __future__ import annotations

from redis import Redis
from rq import Queue

from benchmarks.recorder import record
from benchmarks.targets import Producer


def job(stamp: float) -> None:
    record(stamp)


class RqProducer(Producer):
    bulk = True
    blocking = True

    def __init__(self, url: str) -> None:
        self.queue = Queue("bench", connection=Redis.from_url(url))

    def add_blocking(self, stamp: float) -> None:
        self.queue.enqueue(job, stamp)

    async def add_bulk(self, stamps: list[float]) -> None:
        self.queue.enqueue_many([Queue.prepare_data(job, (s,)) for s in stamps])


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    return RqProducer(url)

"""dramatiq: worker `dramatiq benchmarks.targets.dramatiq_target --processes 1 --threads 10`."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from benchmarks.recorder import record
from benchmarks.targets import Producer

dramatiq.set_broker(RedisBroker(url=os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/15")))


@dramatiq.actor(queue_name="bench")
def job(stamp: float) -> None:
    record(stamp)


class DramatiqProducer(Producer):
    blocking = True

    def add_blocking(self, stamp: float) -> None:
        job.send(stamp)


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    return DramatiqProducer()

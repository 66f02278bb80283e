"""huey: worker `huey_consumer benchmarks.targets.huey_target.huey -k thread -w 10`."""

from __future__ import annotations

import os

from huey import RedisHuey

from benchmarks.recorder import record
from benchmarks.targets import Producer

huey = RedisHuey("bench", url=os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/15"))


@huey.task()
def job(stamp: float) -> None:
    record(stamp)


class HueyProducer(Producer):
    blocking = True

    def add_blocking(self, stamp: float) -> None:
        job(stamp)


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    return HueyProducer()

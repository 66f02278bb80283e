"""celery: worker `celery -A benchmarks.targets.celery_target worker --pool threads -Q bench`."""

from __future__ import annotations

import os

from celery import Celery

from benchmarks.recorder import record
from benchmarks.targets import Producer

app = Celery("bench", broker=os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/15"))
app.conf.task_default_queue = "bench"
app.conf.broker_connection_retry_on_startup = True


@app.task(name="job")
def job(stamp: float) -> None:
    record(stamp)


class CeleryProducer(Producer):
    blocking = True

    def add_blocking(self, stamp: float) -> None:
        job.delay(stamp)


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    return CeleryProducer()

"""procrastinate: worker `procrastinate --app ...procrastinate_target.app worker`."""

from __future__ import annotations

import os

from procrastinate import App, PsycopgConnector

from benchmarks.recorder import record
from benchmarks.targets import Producer

# libpq wants postgresql://; the pool stays small (the server allows 100 connections in all).
app = App(
    connector=PsycopgConnector(
        conninfo=os.environ.get("BENCH_URL", ""),
        min_size=1,
        max_size=4,
    )
)


@app.task(queue="bench", name="job")
async def job(stamp: float) -> None:
    record(stamp)


class ProcrastinateProducer(Producer):
    bulk = True

    async def add(self, stamp: float) -> None:
        await job.defer_async(stamp=stamp)

    async def add_bulk(self, stamps: list[float]) -> None:
        await job.batch_defer_async(*({"stamp": s} for s in stamps))

    async def aclose(self) -> None:
        await app.close_async()


async def setup(url: str) -> None:
    async with app.open_async():
        await app.schema_manager.apply_schema_async()


async def open_producer(url: str) -> Producer:
    await app.open_async()
    return ProcrastinateProducer()

"""awa (awa-pg); `python -m` this module is the worker (`AsyncClient.start`, as its docs show)."""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from typing import Any

from awa import AsyncClient

from benchmarks.recorder import record
from benchmarks.targets import Producer


@dataclass
class Bench:
    stamp: float


class AwaProducer(Producer):
    bulk = True

    def __init__(self, url: str) -> None:
        self.client = AsyncClient(url, max_connections=4)

    async def add(self, stamp: float) -> None:
        await self.client.insert(Bench(stamp), queue="bench")

    async def add_bulk(self, stamps: list[float]) -> None:
        await self.client.insert_many_copy([Bench(s) for s in stamps], queue="bench")

    async def aclose(self) -> None:
        await self.client.close()


async def setup(url: str) -> None:
    client = AsyncClient(url, max_connections=1)
    await client.migrate()
    await client.close()


async def open_producer(url: str) -> Producer:
    return AwaProducer(url)


async def work() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # Its default pool (10): with 4 connections at a concurrency of 10 awa 0.6.9 stalls for good
    # after about a thousand jobs (jobs stay `running`).
    client = AsyncClient(os.environ["BENCH_URL"])

    @client.task(Bench, queue="bench")
    async def handle(job: Any) -> None:
        record(job.args.stamp)

    await client.start([("bench", int(os.environ["BENCH_CONCURRENCY"]))])
    await stop.wait()
    await client.shutdown()
    await client.close()


if __name__ == "__main__":
    asyncio.run(work())

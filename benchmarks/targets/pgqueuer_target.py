"""pgqueuer: worker `pgq run benchmarks.targets.pgqueuer_target:create_pgqueuer`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from pgqueuer import AsyncpgDriver, Job, PgQueuer, Queries

from benchmarks.recorder import record
from benchmarks.targets import Producer


@asynccontextmanager
async def create_pgqueuer() -> AsyncIterator[PgQueuer]:
    connection = await asyncpg.connect(os.environ["BENCH_URL"])
    pgq = PgQueuer(AsyncpgDriver(connection))

    @pgq.entrypoint("job", concurrency_limit=int(os.environ["BENCH_CONCURRENCY"]))
    async def job(job: Job) -> None:
        record(float(job.payload or b"0"))

    try:
        yield pgq
    finally:
        await connection.close()


class PgqueuerProducer(Producer):
    bulk = True

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.queries = Queries(AsyncpgDriver(connection))

    async def add(self, stamp: float) -> None:
        await self.queries.enqueue("job", repr(stamp).encode())

    async def add_bulk(self, stamps: list[float]) -> None:
        payloads: list[bytes | None] = [repr(s).encode() for s in stamps]
        await self.queries.enqueue(["job"] * len(stamps), payloads, [0] * len(stamps))

    async def aclose(self) -> None:
        await self.connection.close()


async def setup(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await Queries(AsyncpgDriver(connection)).install()
    finally:
        await connection.close()


async def open_producer(url: str) -> Producer:
    return PgqueuerProducer(await asyncpg.connect(url))

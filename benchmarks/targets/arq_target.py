"""arq: worker `arq benchmarks.targets.arq_target.WorkerSettings`."""

from __future__ import annotations

import os
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from benchmarks.recorder import record
from benchmarks.targets import Producer

URL = os.environ.get("BENCH_URL", "redis://127.0.0.1:6379/15")


async def job(ctx: dict[str, Any], stamp: float) -> None:
    record(stamp)


class WorkerSettings:
    functions = [job]
    redis_settings = RedisSettings.from_dsn(URL)
    max_jobs = int(os.environ.get("BENCH_CONCURRENCY", "10"))


class ArqProducer(Producer):
    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    async def add(self, stamp: float) -> None:
        await self.pool.enqueue_job("job", stamp)

    async def aclose(self) -> None:
        await self.pool.aclose()


async def setup(url: str) -> None:
    pass


async def open_producer(url: str) -> Producer:
    return ArqProducer(await create_pool(RedisSettings.from_dsn(url)))

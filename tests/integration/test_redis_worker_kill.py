"""A worker process killed with SIGKILL mid-job: once its lease runs out, a second worker
process runs the job again, and the job completes exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from redis.asyncio import Redis

from asyncmq.backends.redis import RedisBackend
from asyncmq.jobs import JobState
from asyncmq.queues import Queue
from asyncmq.tasks import task

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30.0


@task(queue="kill")
async def first_run_hangs(url: str, counter: str) -> str:
    """Counts its starts and finishes in Redis; the first run never finishes by itself."""
    async with Redis.from_url(url) as redis:
        if await redis.incr(f"{counter}:started") == 1:
            await anyio.sleep(3600)
        await redis.incr(f"{counter}:finished")
    return "done"


def work(url: str, prefix: str, queue: str) -> None:
    """A worker process: one queue, a one-second lease, a fast scanner."""

    async def main() -> None:
        backend = RedisBackend(url, prefix=prefix)
        await Queue(queue, backend=backend, concurrency=1, scan_interval=0.1, lease=1.0).run()

    anyio.run(main)


def _worker(url: str, prefix: str, queue: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    code = "from tests.integration.test_redis_worker_kill import work; "
    code += f"work({url!r}, {prefix!r}, {queue!r})"
    with log.open("ab") as stderr:
        return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stderr=stderr)


def _read(log: Path) -> str:
    return log.read_text() if log.exists() else ""


async def _until(predicate: Callable[[], Awaitable[bool]], what: str, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not await predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {_read(log)}"
        await anyio.sleep(0.05)


@pytest.mark.anyio
async def test_a_killed_workers_job_completes_once(
    servers: object, queue_name: str, tmp_path: Path
) -> None:
    _, url = servers.url("redis")  # type: ignore[attr-defined]
    prefix = f"t{uuid.uuid4().hex[:12]}"
    counter = f"{prefix}:counter"
    backend = RedisBackend(url, prefix=prefix)
    redis = Redis.from_url(url)
    workers: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "workers.log"
    try:
        queue = Queue(queue_name, backend=backend)
        job_id = await queue.add(first_run_hangs, args=[url, counter])

        async def count(what: str) -> int:
            return int(await redis.get(f"{counter}:{what}") or 0)

        async def started_once() -> bool:
            return await count("started") == 1

        async def completed() -> bool:
            job = await backend.get_job(queue_name, job_id)
            return job is not None and job.state is JobState.COMPLETED

        workers.append(_worker(url, prefix, queue_name, log))
        await _until(started_once, "the first worker to start the job", log)
        workers[0].kill()
        workers[0].wait()
        workers.append(_worker(url, prefix, queue_name, log))
        await _until(completed, "the second worker to complete the job", log)
        job = await backend.get_job(queue_name, job_id)
        assert job is not None
        assert (await count("started"), await count("finished")) == (2, 1)
        assert (job.result, job.stalls, job.attempts) == ("done", 1, 2)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
        await backend.obliterate(queue_name)
        await redis.delete(f"{counter}:started", f"{counter}:finished")
        await redis.aclose()
        await backend.aclose()

"""A Redis server killed and restarted mid-use: a blocked wait returns, calls made while it is
down are retried until it is back, and a claim whose reply was lost is not orphaned."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.to_thread
import pytest

from asyncmq.backends.base import Completion, Lease
from asyncmq.backends.redis import RedisBackend
from asyncmq.jobs import Job, JobState
from tests.servers import Unavailable, free_port, required
from tests.servers.redis import spawn

T0 = 1_700_000_000.0
# Durable across a SIGKILL, so the restarted server has the jobs again.
DURABLE = ("--appendonly", "yes", "--appendfsync", "always")


class _Server:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = spawn(self.workdir, self.port, *DURABLE)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    found = _Server(tmp_path)
    try:
        found.start()
    except Unavailable as exc:
        if required():
            pytest.fail(f"redis backend unavailable: {exc} (ASYNCMQ_REQUIRE_BACKENDS=1)")
        pytest.skip(f"redis backend unavailable: {exc}")
    yield found
    found.kill()


@pytest.mark.anyio
async def test_the_backend_carries_on_across_a_restart(server: _Server) -> None:
    queue = "restarted"
    url = f"redis://127.0.0.1:{server.port}/0"
    async with RedisBackend(url, prefix=f"t{uuid.uuid4().hex[:12]}") as backend:
        await backend.enqueue(queue, [Job("tests.noop", id=i, created_at=T0) for i in "abc"], T0)
        (held,) = (await backend.claim(queue, 1, lease=30, token="t1", now=T0)).jobs
        await backend.wait_for_jobs(queue, 0.01)  # eat the claim's own wake-up

        # A worker blocked on the server sees the connection drop and returns.
        woke: list[float] = []

        async def wait() -> None:
            started = time.monotonic()
            await backend.wait_for_jobs(queue, 30.0)
            woke.append(time.monotonic() - started)

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            await anyio.sleep(0.2)
            server.kill()
        assert woke and woke[0] < 5.0

        # Calls made while the server is down wait for it (retry with backoff), then work;
        # the scripts are loaded again on the fresh server (NOSCRIPT fallback).
        async def restart() -> None:
            await anyio.sleep(0.5)
            await anyio.to_thread.run_sync(server.start)

        async with anyio.create_task_group() as tg:
            tg.start_soon(restart)
            done = await backend.complete(queue, [Completion(Lease(held.id, "t1"), 1)], T0 + 1)
            assert done == [True]
            claimed = await backend.claim(queue, 1, lease=30, token="t2", now=T0 + 2)
        assert [j.id for j in claimed.jobs] == ["b"]
        counts = await backend.counts(queue)
        assert (counts[JobState.COMPLETED], counts[JobState.ACTIVE]) == (1, 1)

        # A claim whose reply is lost is retried and gets back the same job.
        args = [repr(T0 + 3), 1, repr(T0 + 33), "t3", "", "", 30000, ""]
        first = await backend._call("claim", queue, args, retry=False)
        args[-1] = "1"
        replay = await backend._call("claim", queue, args, retry=False)
        assert [row[0] for row in first[1:]] == [row[0] for row in replay[1:]] == [b"c"]
        await backend.obliterate(queue)

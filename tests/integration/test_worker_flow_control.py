"""The worker stops claiming while too many finished jobs wait to be settled."""

from __future__ import annotations

import time
from collections.abc import Sequence

import anyio
import anyio.lowlevel
import pytest

from asyncmq import worker
from asyncmq.backends.base import Completion
from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.jobs import Job, JobState
from asyncmq.worker import WorkerPool
from tests.integration import tasks, wait_until

pytestmark = pytest.mark.anyio


class StalledSettles(InMemoryBackend):
    """Completions wait until ``release`` is set, as on a store that has fallen behind."""

    def __init__(self) -> None:
        super().__init__()
        self.release = anyio.Event()

    async def complete(self, queue: str, items: Sequence[Completion], now: float) -> list[bool]:
        await self.release.wait()
        return await super().complete(queue, items, now)


async def test_claims_wait_for_settles_that_fall_behind(queue_name: str) -> None:
    backend = StalledSettles()
    total = worker._MAX_UNSETTLED + 600
    jobs = [Job(tasks.add.id, args=[i, 1], queue=queue_name) for i in range(total)]
    await backend.enqueue(queue_name, jobs, 0.0)
    pool = WorkerPool(queue_name, backend, concurrency=20, lease=30)

    async def active() -> int:
        return (await backend.counts(queue_name))[JobState.ACTIVE]

    async with anyio.create_task_group() as tg:
        tg.start_soon(pool.run)
        try:
            await wait_until(lambda: _at_least(active, worker._MAX_UNSETTLED))
            await anyio.sleep(0.2)  # time for a claim loop that does not wait to take more
            # Every finished job but one unsent batch is held; nothing more was claimed.
            assert await active() <= worker._MAX_UNSETTLED + pool.concurrency
            assert (await backend.counts(queue_name))[JobState.WAITING] >= 600 - pool.concurrency
        finally:
            backend.release.set()  # else the pool's shutdown would wait on its settles
        await wait_until(lambda: _at_least(_completed(backend, queue_name), total), timeout=20)
        tg.cancel_scope.cancel()


async def _at_least(count: object, n: int) -> bool:
    return await count() >= n  # type: ignore[operator, no-any-return]


def _completed(backend: InMemoryBackend, queue: str) -> object:
    async def count() -> int:
        return (await backend.counts(queue))[JobState.COMPLETED]

    return count


async def test_the_feed_hands_items_over_in_order_and_ends_when_closed() -> None:
    feed: worker._Feed[int] = worker._Feed()
    got: dict[str, list[int]] = {"a": [], "b": []}

    async def consume(name: str) -> None:
        while (item := await feed.get()) is not None:
            got[name].append(item)
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume, "a")
        tg.start_soon(consume, "b")
        await anyio.sleep(0.01)
        for i in range(100):
            feed.put(i)
        await anyio.sleep(0.01)
        feed.put(100)
        feed.close()
    assert sorted(got["a"] + got["b"]) == list(range(101))
    assert got["a"] == sorted(got["a"]) and got["b"] == sorted(got["b"])
    assert got["a"] and got["b"]  # both took part
    assert feed.take(5) == []


async def test_a_cancelled_feed_waiter_passes_its_wake_up_on() -> None:
    feed: worker._Feed[str] = worker._Feed()
    taken: list[str | None] = []

    got = anyio.Event()

    async def wait(scope: anyio.CancelScope) -> None:
        with scope:
            taken.append(await feed.get())
            got.set()

    first, second = anyio.CancelScope(), anyio.CancelScope()
    async with anyio.create_task_group() as tg:
        tg.start_soon(wait, first)
        await anyio.sleep(0.01)
        tg.start_soon(wait, second)
        await anyio.sleep(0.01)
        first.cancel()  # the first waiter is cancelled, and before it runs...
        feed.put("x")  # ...put() sets its wake-up: it must pass that on to the second
        with anyio.fail_after(2):
            await got.wait()
    assert taken == ["x"]


async def test_finished_jobs_keep_their_leases_while_settles_lag(queue_name: str) -> None:
    backend = StalledSettles()
    jobs = [Job(tasks.add.id, args=[i, 1], queue=queue_name) for i in range(30)]
    await backend.enqueue(queue_name, jobs, time.time())
    pool = WorkerPool(queue_name, backend, concurrency=10, lease=0.6)  # heartbeat: 0.2 s

    async def completed() -> int:
        return (await backend.counts(queue_name))[JobState.COMPLETED]

    async with anyio.create_task_group() as tg:
        tg.start_soon(pool.run)
        try:
            await anyio.sleep(1.5)  # finished and held unsettled for over two leases
            # The scanner of any worker would now hand back jobs whose lease ran out.
            assert await backend.requeue_expired(queue_name, time.time(), max_stalls=5) == 0
        finally:
            backend.release.set()
        await wait_until(lambda: _at_least(completed, 30))
        tg.cancel_scope.cancel()
    stored = [await backend.get_job(queue_name, j.id) for j in jobs]
    assert all(j is not None and j.attempts == 1 and j.stalls == 0 for j in stored)


async def test_finished_jobs_settled_at_once_need_no_renewal(queue_name: str) -> None:
    backend = InMemoryBackend()
    jobs = [Job(tasks.add.id, args=[i, 1], queue=queue_name) for i in range(200)]
    await backend.enqueue(queue_name, jobs, time.time())
    pool = WorkerPool(queue_name, backend, concurrency=10, lease=30)
    async with anyio.create_task_group() as tg:
        tg.start_soon(pool.run)
        await wait_until(lambda: _at_least(_completed(backend, queue_name), 200))
        assert pool._unsettled_leases == {}
        tg.cancel_scope.cancel()

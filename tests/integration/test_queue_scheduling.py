"""Rate limits, repeatables and retention, end to end on every backend."""

from __future__ import annotations

import uuid

import anyio
import pytest

from asyncmq.backends.base import BaseBackend
from asyncmq.jobs import JobState
from tests.integration import running, tasks, wait_until
from tests.integration.test_queue_basics import make_queue

pytestmark = pytest.mark.anyio


async def test_rate_limit_caps_starts(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, concurrency=10, rate_limit=4, rate_interval=1.0)
    await queue.add_bulk([{"task_id": tasks.record.id, "args": [token, i]} for i in range(10)])
    async with running(queue):
        await wait_until(lambda: _count(token, 6), timeout=15)
    # Claim instants (started_at is the `now` of the claim that took the job) follow the
    # bucket's arithmetic exactly, unlike task start times, which carry scheduling noise.
    running_or_done = [j for s in ("active", "completed") for j in await queue.list_jobs(s)]
    starts = sorted(j.started_at for j in running_or_done if j.started_at is not None)
    assert len(starts) >= 6
    # a full bucket of 4, then one token every 0.25 s
    assert starts[4] - starts[0] >= 0.25 - 1e-6
    assert len([t for t in starts if t - starts[0] < 0.5 - 1e-6]) <= 5


async def _count(token: str, n: int) -> bool:
    return len(tasks.calls[token]) >= n


async def test_rate_limit_zero_blocks(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, rate_limit=0)
    await queue.add(tasks.record, args=[token, 1])
    async with running(queue):
        await anyio.sleep(0.5)
    assert tasks.calls[token] == []
    assert (await queue.queue_stats())["waiting"] == 1


async def test_repeatable_fires_each_tick_once(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    first = make_queue(backend, queue_name)
    second = make_queue(backend, queue_name)  # a second scheduler on the same queue
    key = await first.add_repeatable(tasks.record, every=0.4, args=[token, "tick"])
    assert await second.add_repeatable(tasks.record, every=0.4, args=[token, "tick"]) == key
    assert [r.key for r in await first.list_repeatables()] == [key]
    async with running(first, second):
        await wait_until(lambda: _count(token, 3), timeout=15)
        assert await first.pause_repeatable(key)
        await anyio.sleep(0.5)
        paused_at = len(tasks.calls[token])
        await anyio.sleep(0.9)
    assert len(tasks.calls[token]) <= paused_at + 1
    done = await first.list_jobs(JobState.COMPLETED, limit=1000)
    ids = [j.id for j in done]
    assert len(ids) == len(set(ids)) == len(tasks.calls[token])
    assert all(i.startswith(f"repeat:{key}:") for i in ids)
    assert await first.remove_repeatable(key)
    assert await first.list_repeatables() == []


async def test_add_repeatable_validates(backend: BaseBackend, queue_name: str) -> None:
    queue = make_queue(backend, queue_name)
    with pytest.raises(ValueError, match="exactly one"):
        await queue.add_repeatable(tasks.record, every=1, cron="* * * * *")
    with pytest.raises(ValueError, match="cron"):
        await queue.add_repeatable(tasks.record, cron="not a cron")
    with pytest.raises(TypeError, match="delay"):
        await queue.add_repeatable(tasks.record, every=1, delay=5)
    with pytest.raises(ValueError, match="no 'task_id'"):
        await queue.add_bulk([{"args": [1]}])
    key = await queue.add_repeatable(tasks.record, cron="*/5 * * * *", args=["x"])
    (rep,) = await queue.list_repeatables()
    assert (rep.key, rep.cron, rep.job["args"]) == (key, "*/5 * * * *", ["x"])


async def test_retention_removes_finished_jobs(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, remove_on_complete=2, remove_on_fail=True)
    ids = await queue.add_bulk([{"task_id": tasks.record.id, "args": [token, i]} for i in range(5)])
    failing = await queue.add(tasks.explode, args=["gone"])
    async with running(queue):

        async def trimmed() -> bool:
            stats = await queue.queue_stats()
            settled = stats["waiting"] == stats["active"] == 0
            return settled and stats["completed"] == 2 and stats["failed"] == 0

        await wait_until(lambda: _count(token, 5))
        await wait_until(trimmed)
    assert await queue.get_job(failing) is None
    kept = await queue.list_jobs(JobState.COMPLETED)
    assert {j.id for j in kept} <= set(ids) and len(kept) == 2


async def test_admin_calls(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    soon = await queue.delay({"task_id": tasks.record.id, "args": [token]}, queue.clock() + 0.2)
    later = await queue.enqueue_delayed({"task_id": tasks.record.id, "args": [token]}, 4e9)
    now_id = await queue.delay({"task_id": tasks.record.id, "args": [token]})
    assert [j.id for j in await queue.get_due_delayed()] == []
    await anyio.sleep(0.3)  # due now, but no scanner runs to promote it
    assert {j.id for j in await queue.list_delayed()} == {soon, later}
    assert [j.id for j in await queue.get_due_delayed()] == [soon]
    assert await queue.remove_delayed(later)
    assert not await queue.remove_delayed(now_id)
    assert await queue.remove_job(now_id)
    assert await queue.get_job(now_id) is None
    assert await queue.drain() == 1
    async with running(queue):
        done = await queue.add(tasks.record, args=[token, 1])
        await queue.result(done, timeout=10)
    assert await queue.clean("completed") == 1
    await queue.add(tasks.record, args=[token, 2])
    assert await queue.obliterate() == 1
    assert sum((await queue.queue_stats()).values()) == 0

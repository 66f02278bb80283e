"""Producing, running and inspecting jobs end to end, on every backend."""

from __future__ import annotations

import uuid

import anyio
import pytest

from asyncmq.backends.base import BaseBackend
from asyncmq.errors import JobFailedError, SerializationError
from asyncmq.jobs import JobState
from asyncmq.queues import Queue
from tests.integration import running, tasks, wait_until

pytestmark = pytest.mark.anyio


def make_queue(backend: BaseBackend, name: str, **options: object) -> Queue:
    options.setdefault("scan_interval", 0.1)
    options.setdefault("lease", 3.0)
    return Queue(name, backend=backend, **options)  # type: ignore[arg-type]


async def test_jobs_run_and_return_results(backend: BaseBackend, queue_name: str) -> None:
    queue = make_queue(backend, queue_name)
    async with running(queue):
        by_id = await queue.add("tests.integration.tasks.add", args=[1, 2])
        by_function = await queue.add(tasks.add, kwargs={"a": 3, "b": 4})
        threaded = await queue.add(tasks.multiply, args=[6, 7])
        assert await queue.result(by_id, timeout=10) == 3
        assert await queue.result(by_function, timeout=10) == 7
        assert await queue.result(threaded, timeout=10) == 42
    job = await queue.get_job(by_id)
    assert job is not None
    assert (job.state, job.attempts, job.result) == (JobState.COMPLETED, 1, 3)
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    stats = await queue.queue_stats()
    assert stats["completed"] == 3
    assert set(stats) == {s.value for s in JobState}


async def test_task_enqueue_returns_the_id(backend: BaseBackend, queue_name: str) -> None:
    job_id = await tasks.add.enqueue(1, 1, backend=backend)
    delayed_id = await tasks.add.enqueue(2, 2, backend=backend, delay=60)
    assert isinstance(job_id, str) and isinstance(delayed_id, str)
    queue = make_queue(backend, tasks.add.queue)
    delayed = await queue.get_job(delayed_id)
    assert delayed is not None and delayed.state is JobState.DELAYED
    assert delayed.kwargs == {} and delayed.args == [2, 2]
    assert tasks.add.func is not None
    assert await tasks.add(2, 3) == 5
    await queue.obliterate()


async def test_priority_orders_the_work(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, concurrency=1)
    await queue.pause()
    for value, priority in (("low", 9), ("high", 1), ("mid", 5), ("high2", 1)):
        await queue.add(tasks.record, args=[token, value], priority=priority)
    async with running(queue):
        await anyio.sleep(0.3)
        assert tasks.calls[token] == []  # paused
        await queue.resume()
        await wait_until(lambda: _count(token, 4))
    assert [v for v, _ in tasks.calls[token]] == ["high", "high2", "mid", "low"]


async def _count(token: str, n: int) -> bool:
    return len(tasks.calls[token]) >= n


async def test_delay_holds_a_job_back(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    async with running(queue):
        added = anyio.current_time()
        job_id = await queue.add(tasks.record, args=[token, "late"], delay=0.5)
        assert (await queue.get_job(job_id)).state is JobState.DELAYED  # type: ignore[union-attr]
        assert [j.id for j in await queue.list_delayed()] == [job_id]
        await queue.result(job_id, timeout=10)
    ((_, started),) = tasks.calls[token]
    assert started - added >= 0.45


async def test_retries_with_backoff_then_success(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    async with running(queue):
        job_id = await queue.add(
            tasks.flaky,
            args=[token, 2],
            retries=3,
            backoff={"kind": "exponential", "base": 0.1, "cap": 1.0},
        )
        assert await queue.result(job_id, timeout=15) == "recovered"
    job = await queue.get_job(job_id)
    assert job is not None and job.attempts == 3
    first, second, third = tasks.calls[token]
    assert second - first >= 0.09  # base 0.1
    assert third - second >= 0.19  # doubled


async def test_exhausted_retries_fail_with_the_error(backend: BaseBackend, queue_name: str) -> None:
    queue = make_queue(backend, queue_name)
    async with running(queue):
        job_id = await queue.add(tasks.explode, args=["kaboom"], retries=1)
        with pytest.raises(JobFailedError, match="kaboom"):
            await queue.result(job_id, timeout=10)
    job = await queue.get_job(job_id)
    assert job is not None and job.error is not None
    assert (job.state, job.attempts) == (JobState.FAILED, 2)
    assert (job.error.type, job.error.message) == ("ValueError", "kaboom")
    assert "raise ValueError(message)" in job.error.traceback
    assert [j.id for j in await queue.list_jobs("failed")] == [job_id]
    assert await queue.retry_job(job_id)
    assert (await queue.get_job(job_id)).state is JobState.WAITING  # type: ignore[union-attr]


async def test_unknown_task_fails_that_job_only(backend: BaseBackend, queue_name: str) -> None:
    queue = make_queue(backend, queue_name)
    async with running(queue):
        bad = await queue.add("no.such.task", args=[1])
        good = await queue.add(tasks.add, args=[1, 1])
        with pytest.raises(JobFailedError, match=r"no\.such\.task"):
            await queue.result(bad, timeout=10)
        assert await queue.result(good, timeout=10) == 2


async def test_unserialisable_argument_is_refused(backend: BaseBackend, queue_name: str) -> None:
    queue = make_queue(backend, queue_name)
    with pytest.raises(TypeError, match="'when'") as info:
        await queue.add(tasks.record, args=["t"], kwargs={"when": object()})
    assert isinstance(info.value, SerializationError)
    with pytest.raises(TypeError, match="positional argument 1"):
        await queue.add(tasks.record, args=["t", {1, 2}])
    assert sum((await queue.queue_stats()).values()) == 0


async def test_a_bad_job_in_a_bulk_call_stores_none_of_it(
    backend: BaseBackend, queue_name: str
) -> None:
    """On PostgreSQL the jobs of a large call are built while they are copied: a bad one
    far into the batch aborts the COPY, and the connection serves the next call."""
    queue = make_queue(backend, queue_name)
    specs = [{"task_id": tasks.record.id, "args": ["t", i]} for i in range(1500)]
    specs[1234] = {"task_id": tasks.record.id, "args": ["t", float("inf")]}
    with pytest.raises(SerializationError, match=r"add_bulk\(\) job 1234: positional argument 1"):
        await queue.add_bulk(specs)
    assert sum((await queue.queue_stats()).values()) == 0
    ids = await queue.add_bulk(specs[:1000])
    assert len(set(ids)) == 1000
    assert (await queue.queue_stats())["waiting"] == 1000


async def test_ttl_expires_unstarted_jobs(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    await queue.pause()
    job_id = await queue.add(tasks.record, args=[token, "x"], ttl=0.2)
    await anyio.sleep(0.4)
    async with running(queue):
        await queue.resume()
        with pytest.raises(JobFailedError, match="expired"):
            await queue.result(job_id, timeout=10)
    assert tasks.calls[token] == []
    assert (await queue.queue_stats())["expired"] == 1


async def test_concurrency_bounds_parallel_jobs(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, concurrency=3)
    async with running(queue):
        ids = await queue.add_bulk([{"task_id": tasks.concurrent.id, "args": [token]}] * 12)
        for job_id in ids:
            await queue.result(job_id, timeout=15)
    assert max(tasks.calls[f"{token}:max"]) == 3


async def test_progress_is_visible_while_running(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    async with running(queue):
        job_id = await queue.add(tasks.progressing, args=[token])
        await wait_until(lambda: _count(token, 1))
        job = await queue.get_job(job_id)
        assert job is not None and (job.state, job.progress) == (JobState.ACTIVE, 50)
        await queue.result(job_id, timeout=10)
    job = await queue.get_job(job_id)
    assert job is not None and job.progress == 100

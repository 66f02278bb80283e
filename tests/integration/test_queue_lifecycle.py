"""Cancellation, timeouts, dependencies, flows, stalls and graceful stop, on every backend."""

from __future__ import annotations

import uuid

import anyio
import pytest

from asyncmq.backends.base import BaseBackend
from asyncmq.errors import JobFailedError
from asyncmq.flow import FlowProducer
from asyncmq.jobs import Job, JobState
from asyncmq.queues import Queue
from tests.integration import running, tasks, wait_until
from tests.integration.test_queue_basics import make_queue

pytestmark = pytest.mark.anyio


async def _state(queue: Queue, job_id: str) -> JobState:
    job = await queue.get_job(job_id)
    assert job is not None
    return job.state


async def test_cancel_a_waiting_or_delayed_job(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    await queue.pause()
    waiting = await queue.add(tasks.record, args=[token, "w"])
    delayed = await queue.add(tasks.record, args=[token, "d"], delay=0.2)
    assert await queue.cancel_job(waiting)
    assert await queue.cancel_job(delayed)
    assert await queue.is_job_cancelled(waiting)
    async with running(queue):
        await queue.resume()
        await anyio.sleep(0.6)
    assert tasks.calls[token] == []
    assert (await queue.queue_stats())["cancelled"] == 2


async def test_cancel_a_running_job(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    async with running(queue):
        job_id = await queue.add(tasks.sleepy, args=[token, 30])
        await wait_until(lambda: _has(token, "started"))
        assert await queue.cancel_job(job_id)
        await wait_until(lambda: _has(token, "cancelled"))
        with pytest.raises(JobFailedError, match="cancelled"):
            await queue.result(job_id, timeout=5)
    assert await _state(queue, job_id) is JobState.CANCELLED


async def _has(token: str, what: str) -> bool:
    return what in tasks.calls[token]


async def test_timeout_cancels_the_attempt(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    async with running(queue):
        job_id = await queue.add(tasks.sleepy, args=[token, 30], timeout=0.2, retries=1)
        with pytest.raises(JobFailedError, match="timeout"):
            await queue.result(job_id, timeout=10)
    job = await queue.get_job(job_id)
    assert job is not None and job.error is not None
    assert (job.state, job.attempts, job.error.type) == (JobState.FAILED, 2, "JobTimeoutError")
    assert tasks.calls[token].count("cancelled") == 2


async def test_dependencies_run_in_order(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, concurrency=4)
    async with running(queue):
        first = await queue.add(tasks.record, args=[token, "a"], delay=0.3)
        ids = await queue.add_bulk(
            [
                {"task_id": tasks.record.id, "args": [token, "b"], "depends_on": [first]},
                {"task_id": tasks.record.id, "args": [token, "c"], "depends_on": [first]},
            ]
        )
        last = await queue.add(tasks.record, args=[token, "d"], depends_on=ids)
        assert await _state(queue, last) is JobState.WAITING_CHILDREN
        await queue.result(last, timeout=10)
    order = [v for v, _ in tasks.calls[token]]
    assert order[0] == "a" and order[-1] == "d" and sorted(order[1:3]) == ["b", "c"]


async def test_a_failed_dependency_fails_its_dependents(
    backend: BaseBackend, queue_name: str
) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    async with running(queue):
        parent = await queue.add(tasks.explode, args=["parent broke"])
        child = await queue.add(tasks.record, args=[token], depends_on=[parent])
        grandchild = await queue.add(tasks.record, args=[token], depends_on=[child])
        with pytest.raises(JobFailedError, match=parent):
            await queue.result(child, timeout=10)
        with pytest.raises(JobFailedError, match=child):
            await queue.result(grandchild, timeout=10)
    assert tasks.calls[token] == []


async def test_flow_producer_adds_a_graph(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    root = Job(tasks.record.id, args=[token, "root"])
    leaf = Job(tasks.record.id, args=[token, "leaf"], depends_on=[root.id])
    ids = await FlowProducer(backend).add_flow(queue_name, [leaf, root])
    assert ids == [leaf.id, root.id]
    assert await _state(queue, leaf.id) is JobState.WAITING_CHILDREN
    async with running(queue):
        await queue.result(leaf.id, timeout=10)
    assert [v for v, _ in tasks.calls[token]] == ["root", "leaf"]
    specs = [
        {"task_id": tasks.flaky.id, "args": [token, 0], "job_id": "spec", "retries": 4},
        {"task_id": tasks.add.id, "args": [1, 2], "depends_on": ["spec"], "priority": 1},
    ]
    spec_ids = await FlowProducer(backend).add_flow(queue_name, specs)
    assert spec_ids[0] == "spec"
    stored = await queue.get_job(spec_ids[1])
    assert stored is not None and (stored.priority, stored.depends_on) == (1, ["spec"])
    with pytest.raises(ValueError, match="no 'task_id'"):
        await FlowProducer(backend).add_flow(queue_name, [{"args": [1]}])
    cyclic = [Job("x", id="a", depends_on=["b"]), Job("x", id="b", depends_on=["a"])]
    with pytest.raises(ValueError, match="cycle"):
        await FlowProducer(backend).add_flow(queue_name, cyclic)
    assert await queue.get_job("a") is None


async def test_a_dead_workers_job_is_recovered(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, lease=0.5)
    job_id = await queue.add(tasks.record, args=[token, "once"])
    # A worker claims the job and dies without a word.
    now = queue.clock()
    claimed = await backend.claim(queue_name, 1, lease=0.5, token="dead", now=now)
    assert [j.id for j in claimed.jobs] == [job_id]
    async with running(queue):
        assert await queue.result(job_id, timeout=10) == "once"
    job = await queue.get_job(job_id)
    assert job is not None and (job.stalls, job.attempts) == (1, 2)
    assert len(tasks.calls[token]) == 1


async def test_graceful_stop_finishes_running_jobs(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, grace_period=10)
    async with running(queue):
        job_id = await queue.add(tasks.sleepy, args=[token, 0.5])
        await wait_until(lambda: _has(token, "started"))
    assert tasks.calls[token] == ["started", "finished"]
    assert await _state(queue, job_id) is JobState.COMPLETED


async def test_stop_hands_back_what_outlives_the_grace(
    backend: BaseBackend, queue_name: str
) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name, grace_period=0.2)
    async with running(queue):
        job_id = await queue.add(tasks.sleepy, args=[token, 30])
        await wait_until(lambda: _has(token, "started"))
    assert tasks.calls[token] == ["started", "cancelled"]
    job = await queue.get_job(job_id)
    assert job is not None and job.state is JobState.WAITING
    assert job.lease_token is None


async def test_pause_stops_new_work(backend: BaseBackend, queue_name: str) -> None:
    token = uuid.uuid4().hex
    queue = make_queue(backend, queue_name)
    async with running(queue):
        await queue.pause()
        assert await queue.is_paused()
        job_id = await queue.add(tasks.record, args=[token, 1])
        await anyio.sleep(0.4)
        assert tasks.calls[token] == []
        await queue.resume()
        await queue.result(job_id, timeout=10)

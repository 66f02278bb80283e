"""Inspection and admin calls: list, count, cancel, retry_job, remove, clean, drain, obliterate."""

from __future__ import annotations

import pytest

from asyncmq.backends.base import BaseBackend, Completion, Failure
from asyncmq.jobs import JobError, JobState
from tests.conformance import T0, claim_one, job, lease_of

pytestmark = pytest.mark.anyio


async def _finish(backend: BaseBackend, queue: str, n: int, *, fail: bool = False) -> list[str]:
    await backend.enqueue(queue, [job(queue) for _ in range(n)], T0)
    ids = []
    for i in range(n):
        active = await claim_one(backend, queue, token=f"t{i}")
        if fail:
            await backend.fail(queue, [Failure(lease_of(active), JobError("E", "x"))], T0 + i)
        else:
            await backend.complete(queue, [Completion(lease_of(active), i)], T0 + i)
        ids.append(active.id)
    return ids


async def test_list_jobs_pages(backend: BaseBackend, queue_name: str) -> None:
    for i in range(7):
        await backend.enqueue(queue_name, [job(queue_name, id=f"j{i}")], T0)
    first = await backend.list_jobs(queue_name, JobState.WAITING, offset=0, limit=3)
    rest = await backend.list_jobs(queue_name, JobState.WAITING, offset=3, limit=10)
    assert [j.id for j in first + rest] == [f"j{i}" for i in range(7)]
    assert await backend.list_jobs(queue_name, JobState.FAILED) == []


async def test_finished_jobs_list_newest_first(backend: BaseBackend, queue_name: str) -> None:
    ids = await _finish(backend, queue_name, 3)
    listed = await backend.list_jobs(queue_name, JobState.COMPLETED)
    assert [j.id for j in listed] == ids[::-1]


async def test_cancel_an_unstarted_job(backend: BaseBackend, queue_name: str) -> None:
    waiting, delayed = job(queue_name), job(queue_name, run_at=T0 + 60)
    child = job(queue_name, depends_on=[waiting.id])
    await backend.enqueue(queue_name, [waiting, delayed, child], T0)
    assert await backend.cancel(queue_name, waiting.id, T0 + 1)
    assert await backend.cancel(queue_name, delayed.id, T0 + 1)
    assert not await backend.cancel(queue_name, waiting.id, T0 + 2)
    assert not await backend.cancel(queue_name, "no-such-job", T0 + 2)
    stored = await backend.get_job(queue_name, waiting.id)
    assert stored is not None and stored.state is JobState.CANCELLED
    assert (await backend.claim(queue_name, 5, lease=30, token="t", now=T0 + 100)).jobs == []
    assert (await backend.promote_due(queue_name, T0 + 100)).count == 0
    stored_child = await backend.get_job(queue_name, child.id)
    assert stored_child is not None and stored_child.state is JobState.FAILED
    assert (await backend.counts(queue_name))[JobState.CANCELLED] == 2


async def test_cancel_a_running_job_fences_its_worker(
    backend: BaseBackend, queue_name: str
) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    active = await claim_one(backend, queue_name)
    assert await backend.cancel(queue_name, active.id, T0 + 1)
    assert await backend.extend_lease(queue_name, [lease_of(active)], T0 + 60) == [False]
    assert await backend.complete(queue_name, [Completion(lease_of(active), 1)], T0 + 2) == [False]
    assert await backend.requeue_expired(queue_name, T0 + 100, max_stalls=1) == 0
    stored = await backend.get_job(queue_name, active.id)
    assert stored is not None and stored.state is JobState.CANCELLED


async def test_retry_job_reruns_a_failed_job(backend: BaseBackend, queue_name: str) -> None:
    (failed_id,) = await _finish(backend, queue_name, 1, fail=True)
    assert await backend.retry_job(queue_name, failed_id, T0 + 5)
    stored = await backend.get_job(queue_name, failed_id)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.error) == (JobState.WAITING, 0, None)
    assert not await backend.retry_job(queue_name, failed_id, T0 + 5)
    again = await claim_one(backend, queue_name, now=T0 + 6, token="again")
    assert (again.id, again.attempts) == (failed_id, 1)


async def test_remove_deletes_and_cascades(backend: BaseBackend, queue_name: str) -> None:
    parent = job(queue_name)
    child = job(queue_name, depends_on=[parent.id])
    await backend.enqueue(queue_name, [parent, child], T0)
    assert await backend.remove(queue_name, parent.id, T0 + 1)
    assert not await backend.remove(queue_name, parent.id, T0 + 1)
    assert await backend.get_job(queue_name, parent.id) is None
    stored = await backend.get_job(queue_name, child.id)
    assert stored is not None and stored.error is not None
    assert stored.state is JobState.FAILED
    assert parent.id in stored.error.message
    counts = await backend.counts(queue_name)
    assert (counts[JobState.WAITING], counts[JobState.FAILED]) == (0, 1)


async def test_clean_by_age_and_by_count(backend: BaseBackend, queue_name: str) -> None:
    ids = await _finish(backend, queue_name, 6)  # finished at T0 .. T0+5
    assert await backend.clean(queue_name, JobState.COMPLETED, finished_before=T0 + 2) == 2
    assert await backend.get_job(queue_name, ids[0]) is None
    assert await backend.clean(queue_name, JobState.COMPLETED, keep_last=3) == 1
    left = await backend.list_jobs(queue_name, JobState.COMPLETED)
    assert [j.id for j in left] == ids[:2:-1]
    assert (await backend.counts(queue_name))[JobState.COMPLETED] == 3
    assert await backend.clean(queue_name, JobState.COMPLETED, keep_last=0, limit=2) == 2
    assert (await backend.counts(queue_name))[JobState.COMPLETED] == 1
    with pytest.raises(ValueError):
        await backend.clean(queue_name, JobState.WAITING, keep_last=0)


async def test_drain_removes_unstarted_jobs(backend: BaseBackend, queue_name: str) -> None:
    await _finish(backend, queue_name, 1)
    first = job(queue_name)
    jobs = [first, job(queue_name, run_at=T0 + 50), job(queue_name, depends_on=[first.id])]
    await backend.enqueue(queue_name, jobs, T0)
    assert await backend.drain(queue_name) == 3
    counts = await backend.counts(queue_name)
    assert counts[JobState.COMPLETED] == 1
    assert sum(counts.values()) == 1


async def test_obliterate_removes_everything(backend: BaseBackend, queue_name: str) -> None:
    await _finish(backend, queue_name, 2)
    await backend.enqueue(queue_name, [job(queue_name), job(queue_name, run_at=T0 + 9)], T0)
    await backend.pause(queue_name)
    assert queue_name in await backend.list_queues()
    assert await backend.obliterate(queue_name) == 4
    assert sum((await backend.counts(queue_name)).values()) == 0
    assert not await backend.is_paused(queue_name)
    assert queue_name not in await backend.list_queues()

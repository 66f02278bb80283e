"""complete, retry and fail: fenced by the lease token, with the dependency rules."""

from __future__ import annotations

import pytest

from asyncmq.backends.base import (
    DEPENDENCY_FAILED,
    BaseBackend,
    Completion,
    Failure,
    Lease,
    Retrial,
)
from asyncmq.jobs import JobError, JobState
from tests.conformance import T0, claim_one, job, lease_of

pytestmark = pytest.mark.anyio

BOOM = JobError("ValueError", "boom", "Traceback ...")


async def test_complete_stores_the_result(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    active = await claim_one(backend, queue_name)
    result = {"ok": True, "items": [1, 2.5, "x"]}
    assert await backend.complete(queue_name, [Completion(lease_of(active), result)], T0 + 1) == [
        True
    ]
    stored = await backend.get_job(queue_name, active.id)
    assert stored is not None
    assert (stored.state, stored.result, stored.finished_at) == (JobState.COMPLETED, result, T0 + 1)
    assert stored.lease_token is None
    counts = await backend.counts(queue_name)
    assert (counts[JobState.ACTIVE], counts[JobState.COMPLETED]) == (0, 1)


async def test_stale_token_settles_change_nothing(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    active = await claim_one(backend, queue_name, token="right")
    stale = Lease(active.id, "wrong")
    assert await backend.complete(queue_name, [Completion(stale, 1)], T0) == [False]
    assert await backend.retry(queue_name, [Retrial(stale, BOOM, T0)], T0) == [False]
    assert await backend.fail(queue_name, [Failure(stale, BOOM)], T0) == [False]
    assert await backend.extend_lease(queue_name, [stale], T0 + 99) == [False]
    assert await backend.update_progress(queue_name, stale, 50) is False
    stored = await backend.get_job(queue_name, active.id)
    assert stored is not None
    assert (stored.state, stored.result, stored.error) == (JobState.ACTIVE, None, None)
    assert (stored.lease_until, stored.progress) == (T0 + 30, None)
    unknown = Lease("no-such-job", "right")
    assert await backend.complete(queue_name, [Completion(unknown, 1)], T0) == [False]


async def test_a_job_is_settled_once(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    lease = lease_of(await claim_one(backend, queue_name))
    assert await backend.complete(queue_name, [Completion(lease, 1)], T0) == [True]
    assert await backend.complete(queue_name, [Completion(lease, 2)], T0) == [False]
    assert await backend.fail(queue_name, [Failure(lease, BOOM)], T0) == [False]
    stored = await backend.get_job(queue_name, lease.job_id)
    assert stored is not None and (stored.state, stored.result) == (JobState.COMPLETED, 1)


async def test_complete_in_batches(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name) for _ in range(5)], T0)
    claimed = (await backend.claim(queue_name, 5, lease=30, token="t", now=T0)).jobs
    items = [Completion(lease_of(j), i) for i, j in enumerate(claimed)]
    items.insert(2, Completion(Lease(claimed[0].id, "stale"), -1))
    assert await backend.complete(queue_name, items, T0) == [True, True, False, True, True, True]
    assert (await backend.counts(queue_name))[JobState.COMPLETED] == 5


async def test_extend_lease_moves_the_deadline(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    active = await claim_one(backend, queue_name)
    assert await backend.extend_lease(queue_name, [lease_of(active)], T0 + 100) == [True]
    assert await backend.requeue_expired(queue_name, T0 + 50, max_stalls=1) == 0
    stored = await backend.get_job(queue_name, active.id)
    assert stored is not None and stored.lease_until == T0 + 100


async def test_progress_is_stored(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    active = await claim_one(backend, queue_name)
    assert await backend.update_progress(queue_name, lease_of(active), {"done": 3, "of": 4})
    stored = await backend.get_job(queue_name, active.id)
    assert stored is not None and stored.progress == {"done": 3, "of": 4}


async def test_retry_goes_back_waiting_or_delayed(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name, id="a"), job(queue_name, id="b")], T0)
    a, b = (await backend.claim(queue_name, 2, lease=30, token="t", now=T0)).jobs
    assert await backend.retry(
        queue_name, [Retrial(lease_of(a), BOOM, T0), Retrial(lease_of(b), BOOM, T0 + 5)], T0
    ) == [True, True]
    stored_a = await backend.get_job(queue_name, "a")
    stored_b = await backend.get_job(queue_name, "b")
    assert stored_a is not None and stored_b is not None
    assert (stored_a.state, stored_b.state) == (JobState.WAITING, JobState.DELAYED)
    assert stored_a.error == BOOM
    assert stored_b.run_at == T0 + 5
    assert stored_a.lease_token is None
    again = await claim_one(backend, queue_name, now=T0 + 1, token="t2")
    assert (again.id, again.attempts) == ("a", 2)


async def test_fail_keeps_the_error(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    active = await claim_one(backend, queue_name)
    assert await backend.fail(queue_name, [Failure(lease_of(active), BOOM)], T0 + 3) == [True]
    stored = await backend.get_job(queue_name, active.id)
    assert stored is not None
    assert (stored.state, stored.error, stored.finished_at) == (JobState.FAILED, BOOM, T0 + 3)
    failed = await backend.list_jobs(queue_name, JobState.FAILED)
    assert [j.id for j in failed] == [active.id]


async def test_dependents_are_released_when_all_complete(
    backend: BaseBackend, queue_name: str
) -> None:
    a, b = job(queue_name, id="a"), job(queue_name, id="b")
    child = job(queue_name, id="child", depends_on=["a", "b"])
    late = job(queue_name, id="late", depends_on=["a"], run_at=T0 + 100)
    await backend.enqueue(queue_name, [a, b, child, late], T0)
    first, second = (await backend.claim(queue_name, 2, lease=30, token="t", now=T0)).jobs
    await backend.complete(queue_name, [Completion(lease_of(first), None)], T0 + 1)
    stored = await backend.get_job(queue_name, "child")
    assert stored is not None and stored.state is JobState.WAITING_CHILDREN
    stored_late = await backend.get_job(queue_name, "late")
    assert stored_late is not None and stored_late.state is JobState.DELAYED
    await backend.complete(queue_name, [Completion(lease_of(second), None)], T0 + 2)
    stored = await backend.get_job(queue_name, "child")
    assert stored is not None and stored.state is JobState.WAITING
    assert [
        j.id for j in (await backend.claim(queue_name, 5, lease=30, token="u", now=T0)).jobs
    ] == ["child"]


async def test_concurrent_completions_release_a_dependent_once(
    backend: BaseBackend, queue_name: str
) -> None:
    import anyio

    parents = [job(queue_name, id=f"p{i}") for i in range(10)]
    child = job(queue_name, id="child", depends_on=[p.id for p in parents])
    await backend.enqueue(queue_name, [*parents, child], T0)
    claimed = (await backend.claim(queue_name, 10, lease=30, token="t", now=T0)).jobs
    async with anyio.create_task_group() as tg:
        for j in claimed:
            tg.start_soon(backend.complete, queue_name, [Completion(lease_of(j), None)], T0)
    counts = await backend.counts(queue_name)
    assert counts[JobState.WAITING] == 1
    got = (await backend.claim(queue_name, 5, lease=30, token="u", now=T0)).jobs
    assert [j.id for j in got] == ["child"]


async def test_failure_cascades_to_dependents(backend: BaseBackend, queue_name: str) -> None:
    root = job(queue_name, id="root")
    mid = job(queue_name, id="mid", depends_on=["root"])
    leaf = job(queue_name, id="leaf", depends_on=["mid"])
    other = job(queue_name, id="other")
    await backend.enqueue(queue_name, [root, other, mid, leaf], T0)
    active = await claim_one(backend, queue_name)
    assert active.id == "root"
    await backend.fail(queue_name, [Failure(lease_of(active), BOOM)], T0 + 1)
    for name, dep in (("mid", "root"), ("leaf", "mid")):
        stored = await backend.get_job(queue_name, name)
        assert stored is not None and stored.error is not None
        assert stored.state is JobState.FAILED
        assert stored.error.type == DEPENDENCY_FAILED
        assert dep in stored.error.message
    assert (await backend.counts(queue_name))[JobState.FAILED] == 3

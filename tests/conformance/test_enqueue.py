from __future__ import annotations

import pytest

from asyncmq.backends.base import DEPENDENCY_FAILED, BaseBackend, Completion, Failure
from asyncmq.backoff import Backoff
from asyncmq.jobs import JobState
from tests.conformance import T0, claim_one, job, lease_of

pytestmark = pytest.mark.anyio


async def test_enqueue_stores_the_producer_fields(backend: BaseBackend, queue_name: str) -> None:
    given = job(
        queue_name,
        args=[1, "two", {"three": [3.0]}],
        kwargs={"k": None, "u": "é"},
        priority=2,
        retries=3,
        backoff=Backoff("exponential", 0.5, 10.0, 0.1),
        ttl=60.0,
        timeout=5.0,
    )
    assert await backend.enqueue(queue_name, [given], T0) == [given.id]
    stored = await backend.get_job(queue_name, given.id)
    assert stored is not None
    assert stored.state is JobState.WAITING
    assert (stored.task_id, stored.args, stored.kwargs) == (given.task_id, given.args, given.kwargs)
    assert (stored.priority, stored.retries, stored.ttl, stored.timeout) == (2, 3, 60.0, 5.0)
    assert stored.backoff == given.backoff
    assert stored.created_at == T0
    assert stored.queue == queue_name
    assert stored.attempts == 0


async def test_backend_kept_fields_start_fresh(backend: BaseBackend, queue_name: str) -> None:
    given = job(queue_name, state=JobState.COMPLETED, attempts=4, result=1, lease_token="x")
    await backend.enqueue(queue_name, [given], T0)
    stored = await backend.get_job(queue_name, given.id)
    assert stored is not None
    assert (stored.state, stored.attempts, stored.result, stored.lease_token) == (
        JobState.WAITING,
        0,
        None,
        None,
    )


async def test_enqueue_is_idempotent_by_id(backend: BaseBackend, queue_name: str) -> None:
    first = job(queue_name, id="fixed", args=[1])
    await backend.enqueue(queue_name, [first], T0)
    claimed = await claim_one(backend, queue_name)
    again = job(queue_name, id="fixed", args=[2])
    assert await backend.enqueue(queue_name, [again], T0 + 1) == ["fixed"]
    stored = await backend.get_job(queue_name, "fixed")
    assert stored is not None
    assert stored.args == [1]
    assert stored.state is JobState.ACTIVE
    assert stored.lease_token == claimed.lease_token
    assert (await backend.counts(queue_name))[JobState.ACTIVE] == 1


async def test_future_run_at_lands_delayed(backend: BaseBackend, queue_name: str) -> None:
    later = job(queue_name, run_at=T0 + 10)
    due = job(queue_name, run_at=T0)
    await backend.enqueue(queue_name, [later, due], T0)
    assert (await backend.get_job(queue_name, later.id)).state is JobState.DELAYED  # type: ignore[union-attr]
    assert (await backend.get_job(queue_name, due.id)).state is JobState.WAITING  # type: ignore[union-attr]


async def test_unmet_dependencies_wait_for_children(backend: BaseBackend, queue_name: str) -> None:
    parent = job(queue_name)
    child = job(queue_name, depends_on=[parent.id])
    await backend.enqueue(queue_name, [parent, child], T0)
    assert (await backend.get_job(queue_name, child.id)).state is JobState.WAITING_CHILDREN  # type: ignore[union-attr]
    counts = await backend.counts(queue_name)
    assert counts[JobState.WAITING] == 1
    assert counts[JobState.WAITING_CHILDREN] == 1


async def test_completed_dependency_counts_as_met(backend: BaseBackend, queue_name: str) -> None:
    parent = job(queue_name)
    await backend.enqueue(queue_name, [parent], T0)
    active = await claim_one(backend, queue_name)
    assert await backend.complete(queue_name, [Completion(lease_of(active), 1)], T0) == [True]
    child = job(queue_name, depends_on=[parent.id])
    await backend.enqueue(queue_name, [child], T0 + 1)
    assert (await backend.get_job(queue_name, child.id)).state is JobState.WAITING  # type: ignore[union-attr]


async def test_missing_dependency_fails_the_job(backend: BaseBackend, queue_name: str) -> None:
    child = job(queue_name, depends_on=["no-such-job"])
    await backend.enqueue(queue_name, [child], T0)
    stored = await backend.get_job(queue_name, child.id)
    assert stored is not None
    assert stored.state is JobState.FAILED
    assert stored.error is not None
    assert stored.error.type == DEPENDENCY_FAILED
    assert "no-such-job" in stored.error.message


async def test_failed_dependency_fails_a_new_dependent(
    backend: BaseBackend, queue_name: str
) -> None:
    parent = job(queue_name)
    await backend.enqueue(queue_name, [parent], T0)
    active = await claim_one(backend, queue_name)
    from asyncmq.jobs import JobError

    await backend.fail(queue_name, [Failure(lease_of(active), JobError("E", "boom"))], T0)
    child = job(queue_name, depends_on=[parent.id])
    await backend.enqueue(queue_name, [child], T0 + 1)
    stored = await backend.get_job(queue_name, child.id)
    assert stored is not None and stored.error is not None
    assert stored.state is JobState.FAILED
    assert parent.id in stored.error.message


async def test_counts_has_every_state(backend: BaseBackend, queue_name: str) -> None:
    counts = await backend.counts(queue_name)
    assert set(counts) == set(JobState)
    assert all(v == 0 for v in counts.values())

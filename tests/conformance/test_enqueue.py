from __future__ import annotations

import pytest

from asyncmq.backends.base import DEPENDENCY_FAILED, BaseBackend, Completion, Failure
from asyncmq.backoff import Backoff
from asyncmq.jobs import Job, JobState
from tests.conformance import T0, claim_one, job, lease_of

pytestmark = pytest.mark.anyio

CONTEXT = {"vars": {"user": "u1", "n": [1, 2]}, "trace": {"traceparent": "00-..."}}
# Keys MongoDB would read as paths or operators, and what COPY's text format escapes.
ODD_CONTEXT = {"vars": {"a.b": "tab\there\\back\nline\r", "$k": "é"}, "trace": {}}


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


async def _stored_everywhere(backend: BaseBackend, queue: str, count: int) -> dict[str, Job]:
    """The queue's jobs as get_job, list_jobs and claim return them, checked to agree."""
    listed = await backend.list_jobs(queue, JobState.WAITING, limit=count + 1)
    assert len(listed) == count
    claimed: list[Job] = []
    while len(claimed) < count:
        got = await backend.claim(queue, 500, lease=30.0, token="tok", now=T0)
        assert got.jobs, (len(claimed), count)
        claimed += got.jobs
    fetched = [await backend.get_job(queue, j.id) for j in listed]
    seen = {}
    for way in (listed, claimed, fetched):
        found = {j.id: (j.hard_timeout, j.context) for j in way if j is not None}
        assert len(found) == count
        seen = seen or found
        assert found == seen
    return {j.id: j for j in claimed}


async def test_enqueue_stores_hard_timeout_and_context(
    backend: BaseBackend, queue_name: str
) -> None:
    given = job(queue_name, hard_timeout=7.5, context=CONTEXT)
    await backend.enqueue(queue_name, [given], T0)
    stored = await _stored_everywhere(backend, queue_name, 1)
    assert (stored[given.id].hard_timeout, stored[given.id].context) == (7.5, CONTEXT)


async def test_hard_timeout_and_context_default_to_none_and_empty(
    backend: BaseBackend, queue_name: str
) -> None:
    given = job(queue_name)
    await backend.enqueue(queue_name, [given], T0)
    stored = await _stored_everywhere(backend, queue_name, 1)
    assert (stored[given.id].hard_timeout, stored[given.id].context) == (None, {})


async def test_a_batch_stores_hard_timeout_and_context(
    backend: BaseBackend, queue_name: str
) -> None:
    """1,200 jobs (PostgreSQL's COPY path from 10): runs sharing one context dict, set and
    default values interleaved, and a context with keys and characters that need care."""
    contexts: list[dict[str, object]] = [CONTEXT, {}, ODD_CONTEXT]
    given = [
        job(
            queue_name,
            hard_timeout=7.5 if i % 2 == 0 else None,
            context=contexts[i % 3] if i % 100 < 97 else {"i": i},
        )
        for i in range(1200)
    ]
    await backend.enqueue(queue_name, given, T0)
    stored = await _stored_everywhere(backend, queue_name, len(given))
    for j in given:
        assert (stored[j.id].hard_timeout, stored[j.id].context) == (j.hard_timeout, j.context)


async def test_a_batch_with_dependencies_stores_hard_timeout_and_context(
    backend: BaseBackend, queue_name: str
) -> None:
    parent = job(queue_name, hard_timeout=1.0, context=CONTEXT)
    child = job(queue_name, depends_on=[parent.id], hard_timeout=7.5, context=ODD_CONTEXT)
    await backend.enqueue(queue_name, [parent, child], T0)
    waiting_children = await backend.list_jobs(queue_name, JobState.WAITING_CHILDREN)
    assert [(j.hard_timeout, j.context) for j in waiting_children] == [(7.5, ODD_CONTEXT)]
    active = await claim_one(backend, queue_name)
    assert (active.hard_timeout, active.context) == (1.0, CONTEXT)
    assert await backend.complete(queue_name, [Completion(lease_of(active), None)], T0) == [True]
    released = await claim_one(backend, queue_name)
    assert (released.id, released.hard_timeout, released.context) == (child.id, 7.5, ODD_CONTEXT)

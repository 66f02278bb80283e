"""promote_due and requeue_expired: idempotent, safe to run from many processes."""

from __future__ import annotations

import pytest

from asyncmq.backends.base import STALLED, BaseBackend, Completion
from asyncmq.jobs import JobState
from tests.conformance import T0, claim_one, job, lease_of

pytestmark = pytest.mark.anyio


async def test_promote_due_moves_due_jobs(backend: BaseBackend, queue_name: str) -> None:
    jobs = [job(queue_name, id=f"d{i}", run_at=T0 + i) for i in (1, 2, 3)]
    await backend.enqueue(queue_name, jobs, T0)
    promoted = await backend.promote_due(queue_name, T0 + 2)
    assert (promoted.count, promoted.next_run_at) == (2, T0 + 3)
    again = await backend.promote_due(queue_name, T0 + 2)
    assert (again.count, again.next_run_at) == (0, T0 + 3)
    waiting = await backend.list_jobs(queue_name, JobState.WAITING)
    assert [j.id for j in waiting] == ["d1", "d2"]
    last = await backend.promote_due(queue_name, T0 + 10)
    assert (last.count, last.next_run_at) == (1, None)


async def test_delayed_jobs_are_listed_by_run_at(backend: BaseBackend, queue_name: str) -> None:
    jobs = [job(queue_name, id=f"d{i}", run_at=T0 + 10 - i) for i in range(3)]
    await backend.enqueue(queue_name, jobs, T0)
    listed = await backend.list_jobs(queue_name, JobState.DELAYED)
    assert [j.id for j in listed] == ["d2", "d1", "d0"]


async def test_killed_workers_jobs_come_back(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    lost = await claim_one(backend, queue_name, token="dead")
    assert await backend.requeue_expired(queue_name, T0 + 29, max_stalls=1) == 0
    assert await backend.requeue_expired(queue_name, T0 + 30, max_stalls=1) == 1
    assert await backend.requeue_expired(queue_name, T0 + 30, max_stalls=1) == 0
    stored = await backend.get_job(queue_name, lost.id)
    assert stored is not None
    assert (stored.state, stored.stalls, stored.lease_token) == (JobState.WAITING, 1, None)
    again = await claim_one(backend, queue_name, now=T0 + 31, token="alive")
    assert again.id == lost.id
    # the dead worker wakes up: its settle is stale and changes nothing
    assert await backend.complete(queue_name, [Completion(lease_of(lost), "late")], T0 + 32) == [
        False
    ]
    assert await backend.complete(queue_name, [Completion(lease_of(again), "ok")], T0 + 32) == [
        True
    ]
    final = await backend.get_job(queue_name, lost.id)
    assert final is not None and final.result == "ok"


async def test_too_many_stalls_fail_the_job(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    now = T0
    for _ in range(2):
        await claim_one(backend, queue_name, now=now)
        now += 30
        assert await backend.requeue_expired(queue_name, now, max_stalls=1) == 1
    stored = (await backend.list_jobs(queue_name, JobState.FAILED))[0]
    assert stored.stalls == 2
    assert stored.error is not None and stored.error.type == STALLED
    assert stored.finished_at == now


async def test_maintain_is_safe_at_any_time(backend: BaseBackend, queue_name: str) -> None:
    await backend.maintain(queue_name, T0)  # an unknown queue
    await backend.enqueue(queue_name, [job(queue_name, id=f"m{i}") for i in range(30)], T0)
    for i in range(3):
        taken = (await backend.claim(queue_name, 10, lease=30, token="t", now=T0 + i)).jobs
        await backend.complete(queue_name, [Completion(lease_of(j), i) for j in taken], T0 + i)
        await backend.maintain(queue_name, T0 + 2 * i)
    counts = await backend.counts(queue_name)
    assert counts[JobState.COMPLETED] == 30
    stored = await backend.get_job(queue_name, "m25")
    assert stored is not None and stored.result == 2


async def test_the_scanner_lets_the_backend_maintain(queue_name: str) -> None:
    from asyncmq.backends.inmemory import InMemoryBackend
    from asyncmq.scheduler import Scanner

    seen: list[tuple[str, float]] = []

    class Spy(InMemoryBackend):
        async def maintain(self, queue: str, now: float) -> None:
            seen.append((queue, now))

    scanner = Scanner(queue_name, Spy(), interval=1, max_stalls=1, clock=lambda: T0)
    await scanner.scan()
    assert seen == [(queue_name, T0)]

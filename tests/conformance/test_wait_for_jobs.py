from __future__ import annotations

import time

import anyio
import pytest

from asyncmq.backends.base import BaseBackend, Completion, Retrial
from asyncmq.jobs import JobError
from tests.conformance import T0, claim_one, job, lease_of

pytestmark = pytest.mark.anyio


async def test_an_enqueue_wakes_a_waiting_worker(backend: BaseBackend, queue_name: str) -> None:
    woke_after: list[float] = []

    async def waiter() -> None:
        started = time.monotonic()
        await backend.wait_for_jobs(queue_name, 10.0)
        woke_after.append(time.monotonic() - started)

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.sleep(0.3)
        await backend.enqueue(queue_name, [job(queue_name)], T0)
    assert woke_after and woke_after[0] < 5.0


async def test_wait_returns_after_the_timeout(backend: BaseBackend, queue_name: str) -> None:
    started = time.monotonic()
    with anyio.fail_after(5):
        await backend.wait_for_jobs(queue_name, 0.2)
    assert time.monotonic() - started < 4.0


async def _woken_by(backend: BaseBackend, queue_name: str, action: object) -> float:
    woke_after: list[float] = []

    async def waiter() -> None:
        started = time.monotonic()
        await backend.wait_for_jobs(queue_name, 10.0)
        woke_after.append(time.monotonic() - started)

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.sleep(0.3)
        await action()  # type: ignore[operator]
    return woke_after[0]


async def test_released_dependents_and_retries_wake_workers(
    backend: BaseBackend, queue_name: str
) -> None:
    parent = job(queue_name)
    child = job(queue_name, depends_on=[parent.id])
    await backend.enqueue(queue_name, [parent, child], T0)
    active = await claim_one(backend, queue_name)

    async def complete() -> None:
        await backend.complete(queue_name, [Completion(lease_of(active), None)], T0)

    assert await _woken_by(backend, queue_name, complete) < 5.0
    again = await claim_one(backend, queue_name, token="t2")
    assert again.id == child.id

    async def retry() -> None:
        error = JobError("E", "x")
        await backend.retry(queue_name, [Retrial(lease_of(again), error, T0)], T0)

    assert await _woken_by(backend, queue_name, retry) < 5.0


async def test_wait_and_claim_gets_the_job_to_this_worker(
    backend: BaseBackend, queue_name: str
) -> None:
    """Whether or not the store claims as the wait ends, the job ends up claimed once, by
    the waiter's token, carrying an instant no earlier than the wait's start."""
    got: list[object] = []

    async def waiter() -> None:
        claimed = await backend.wait_and_claim(
            queue_name, 5, timeout=10.0, lease=30, token="w", now=T0
        )
        got.append(claimed)

    added = job(queue_name)
    with anyio.fail_after(8):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(0.2)
            await backend.enqueue(queue_name, [added], T0)
    (claimed,) = got
    taken = list(claimed.jobs)  # type: ignore[attr-defined]
    if not taken:  # the store only waits: the worker claims next
        taken = (await backend.claim(queue_name, 5, lease=30, token="w", now=T0 + 1)).jobs
    assert [j.id for j in taken] == [added.id]
    stored = await backend.get_job(queue_name, added.id)
    assert stored is not None and stored.attempts == 1 and stored.lease_token == "w"
    assert stored.started_at is not None and T0 <= stored.started_at < T0 + 5
    assert (await backend.claim(queue_name, 5, lease=30, token="x", now=T0 + 2)).jobs == []


async def test_wait_and_claim_times_out_claiming_nothing(
    backend: BaseBackend, queue_name: str
) -> None:
    with anyio.fail_after(5):
        claimed = await backend.wait_and_claim(
            queue_name, 5, timeout=0.2, lease=30, token="w", now=T0
        )
    assert claimed.jobs == []


async def test_a_cancelled_wait_and_claim_leaves_nothing_claimed(
    backend: BaseBackend, queue_name: str
) -> None:
    # Warm up the store's waiting connection, so the cancel lands after the wait is sent.
    await backend.wait_and_claim(queue_name, 5, timeout=0.05, lease=30, token="warm", now=T0)
    added = job(queue_name)
    await backend.enqueue(queue_name, [added], T0)  # the wake-up is there before the wait
    with anyio.CancelScope() as scope:
        scope.cancel()
        await backend.wait_and_claim(queue_name, 5, timeout=5.0, lease=30, token="c", now=T0)
    stored = await backend.get_job(queue_name, added.id)
    assert stored is not None
    assert (stored.state.value, stored.attempts, stored.lease_token) == ("waiting", 0, None)
    taken = (await backend.claim(queue_name, 5, lease=30, token="t", now=T0)).jobs
    assert [j.id for j in taken] == [added.id]

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

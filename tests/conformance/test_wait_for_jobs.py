from __future__ import annotations

import time

import anyio
import pytest

from asyncmq.backends.base import BaseBackend
from tests.conformance import T0, job

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

from __future__ import annotations

import pytest

from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.queues import Queue
from asyncmq.testing import FakeClock, run_until_idle
from tests.integration import tasks

pytestmark = pytest.mark.anyio


async def test_run_until_idle_processes_everything_due() -> None:
    clock = FakeClock(start=1_000.0)
    queue = Queue("helpers", backend=InMemoryBackend(), clock=clock, scan_interval=0.05)
    now_ids = [await queue.add(tasks.add, args=[i, i]) for i in range(5)]
    later = await queue.add(tasks.add, args=[0, 0], delay=60)
    stats = await run_until_idle(queue, timeout=10)
    assert (stats["completed"], stats["delayed"]) == (5, 1)
    assert [await queue.result(i, timeout=1) for i in now_ids] == [0, 2, 4, 6, 8]
    clock.advance(61)
    stats = await run_until_idle(queue, timeout=10)
    assert stats["completed"] == 6
    assert await queue.result(later, timeout=1) == 0

"""Helpers for testing code that uses asyncmq: a controllable clock and running a queue's
worker until its work is done."""

from __future__ import annotations

import time

import anyio

from asyncmq.queues import Queue


class FakeClock:
    """A clock for ``Queue(clock=...)``: time stands still until :meth:`advance` moves it."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def run_until_idle(
    queue: Queue, *, timeout: float = 30.0, poll: float = 0.01
) -> dict[str, int]:
    """Run ``queue``'s worker until nothing is waiting, active or due, then stop it and return
    ``queue_stats()``. Jobs delayed into the future (by the queue's clock) are left delayed.
    Raises ``TimeoutError`` if work remains after ``timeout`` seconds."""
    with anyio.fail_after(timeout):
        async with anyio.create_task_group() as tg:
            tg.start_soon(queue.run)
            while True:
                if await _idle(queue):
                    tg.cancel_scope.cancel()
                    break
                await anyio.sleep(poll)
    return await queue.queue_stats()


async def _idle(queue: Queue) -> bool:
    stats = await queue.queue_stats()
    if stats["waiting"] or stats["active"]:
        return False
    if stats["delayed"]:
        return not await queue.get_due_delayed()
    return True

"""End-to-end tests of Queue.run() on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio

from asyncmq.queues import Queue


@asynccontextmanager
async def running(*queues: Queue) -> AsyncIterator[None]:
    """Run the queues' workers for the duration of the block."""
    async with anyio.create_task_group() as tg:
        for queue in queues:
            tg.start_soon(queue.run)
        yield
        tg.cancel_scope.cancel()


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Poll an async predicate until it is true; fail after ``timeout`` seconds."""
    with anyio.fail_after(timeout):
        while True:
            if await predicate():
                return
            await anyio.sleep(interval)

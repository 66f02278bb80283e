"""Quickstart: define a task, enqueue jobs, run a worker, read results (in-memory backend)."""

from __future__ import annotations

import anyio

from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.queues import Queue
from asyncmq.tasks import task


@task(queue="emails", retries=2, backoff=0.1)
async def send_welcome(user_id: int) -> str:
    return f"welcome mail sent to user {user_id}"


async def main() -> None:
    queue = Queue("emails", backend=InMemoryBackend(), concurrency=5)
    first = await queue.add(send_welcome, args=[1])
    second = await send_welcome.enqueue(2, backend=queue.backend, priority=1)
    after_both = await queue.add(send_welcome, args=[3], depends_on=[first, second])
    async with anyio.create_task_group() as tg:
        tg.start_soon(queue.run)
        print(await queue.result(after_both, timeout=10))
        tg.cancel_scope.cancel()
    print(await queue.queue_stats())


if __name__ == "__main__":
    anyio.run(main)

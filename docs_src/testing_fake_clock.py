"""Testing with a fake clock: a job delayed by an hour runs as soon as the clock says so."""

from __future__ import annotations

import anyio

from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.queues import Queue
from asyncmq.tasks import task
from asyncmq.testing import FakeClock, run_until_idle


@task(queue="emails")
async def send_reminder(user_id: int) -> str:
    return f"reminded {user_id}"


async def main() -> None:
    clock = FakeClock(start=1_000_000.0)
    queue = Queue("emails", backend=InMemoryBackend(), clock=clock, scan_interval=0.05)
    job_id = await queue.add(send_reminder, args=[7], delay=3600)
    stats = await run_until_idle(queue, timeout=10)
    print("before the hour:", stats["delayed"], "delayed")
    clock.advance(3601)
    await run_until_idle(queue, timeout=10)
    print("after the hour:", await queue.result(job_id, timeout=1))


if __name__ == "__main__":
    anyio.run(main)

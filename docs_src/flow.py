"""A flow: fetch two sources in parallel, merge them, then publish; added in one call."""

from __future__ import annotations

import anyio

from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.flow import FlowProducer
from asyncmq.jobs import Job
from asyncmq.queues import Queue
from asyncmq.tasks import task


@task(queue="etl")
async def fetch(source: str) -> str:
    return f"rows from {source}"


@task(queue="etl")
async def merge() -> str:
    return "merged"


@task(queue="etl")
async def publish() -> str:
    return "published"


async def main() -> None:
    backend = InMemoryBackend()
    left, right = Job(fetch.id, args=["crm"]), Job(fetch.id, args=["billing"])
    merged = Job(merge.id, depends_on=[left.id, right.id])
    published = Job(publish.id, depends_on=[merged.id])
    await FlowProducer(backend).add_flow("etl", [published, merged, left, right])
    queue = Queue("etl", backend=backend)
    async with anyio.create_task_group() as tg:
        tg.start_soon(queue.run)
        print(await queue.result(published.id, timeout=10))
        tg.cancel_scope.cancel()
    for job in (left, right, merged, published):
        done = await queue.get_job(job.id)
        assert done is not None
        print(job.task_id, done.state.value, done.finished_at)


if __name__ == "__main__":
    anyio.run(main)

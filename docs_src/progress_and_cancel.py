"""A long task reports progress; the producer watches it and cancels it."""

from __future__ import annotations

import anyio

from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.jobs import JobState
from asyncmq.queues import Queue
from asyncmq.tasks import report_progress, task


@task(queue="reports")
async def build_report(pages: int) -> str:
    for page in range(1, pages + 1):
        await anyio.sleep(0.05)
        await report_progress({"page": page, "of": pages})
    return "report.pdf"


async def main() -> None:
    queue = Queue("reports", backend=InMemoryBackend())
    job_id = await queue.add(build_report, args=[1000])
    async with anyio.create_task_group() as tg:
        tg.start_soon(queue.run)
        while (job := await queue.get_job(job_id)) is None or job.progress is None:
            await anyio.sleep(0.05)
        print("progress:", job.progress)
        await queue.cancel_job(job_id)
        while (
            job := await queue.get_job(job_id)
        ) is not None and job.state is not JobState.CANCELLED:
            await anyio.sleep(0.05)
        tg.cancel_scope.cancel()
    print("state:", job.state.value if job else None)


if __name__ == "__main__":
    anyio.run(main)

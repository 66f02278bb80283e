"""Tasks of the demo: importing this module registers them in the worker."""

from __future__ import annotations

import random
import time

import anyio

from asyncmq.tasks import current_job, task


@task(queue="demo")
async def resize_image(image_id: int) -> dict[str, int]:
    await anyio.sleep(random.uniform(0.001, 0.01))
    return {"image": image_id, "width": 640}


@task(queue="demo")
def render_report(report_id: int) -> str:
    time.sleep(0.005)  # sync code runs in a worker thread
    return f"report-{report_id}.pdf"


@task(queue="demo", retries=2, backoff=0.5)
async def flaky_upload(file_id: int) -> str:
    if current_job().job.attempts == 1:
        raise ConnectionError(f"upload of file {file_id} dropped (it works on retry)")
    return f"uploaded {file_id}"


@task(queue="demo")
async def summarize(count: int) -> str:
    return f"summary of {count} uploads"


@task(queue="demo")
async def heartbeat() -> float:
    return time.time()

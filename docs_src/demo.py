"""The `make demo` walk-through: this process produces jobs while a separate worker process
(started with the `asyncmq worker` command) runs them; both share the default backend, an
SQLite file, so no server is needed."""

from __future__ import annotations

import os
import random
import signal
import sys
import time

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from asyncmq.queues import Queue
from asyncmq.settings import settings
from docs_src import demo_tasks

console = Console()


async def produce(queue: Queue) -> list[str]:
    """About a thousand jobs: mixed priorities, delays, retries, a dependency, a repeatable."""
    bulk = [
        {"task_id": demo_tasks.resize_image.id, "args": [n], "priority": random.choice((1, 5, 9))}
        for n in range(939)
    ]
    ids = await queue.add_bulk(bulk)
    for n in range(50):
        ids.append(await queue.add(demo_tasks.render_report, args=[n], delay=random.uniform(1, 3)))
    uploads = [await queue.add(demo_tasks.flaky_upload, args=[n], priority=1) for n in range(10)]
    ids += uploads
    ids.append(await queue.add(demo_tasks.summarize, args=[len(uploads)], depends_on=uploads))
    await queue.add_repeatable(demo_tasks.heartbeat, every=1.0)
    return ids


async def main() -> None:
    queue = Queue("demo")
    console.print(f"[bold]asyncmq demo[/] on [cyan]{settings.backend_url}[/] (the default backend)")
    await queue.obliterate()
    command = [sys.executable, "-m", "asyncmq.cli", "worker", "demo"]
    command += ["--app", "docs_src.demo_tasks", "--concurrency", "20"]
    env = {**os.environ, "ASYNCMQ_SCAN_INTERVAL": "0.2"}
    async with await anyio.open_process(command, env=env, stdout=None, stderr=None) as worker:
        console.print(f"started a worker process (pid {worker.pid}): asyncmq worker demo")
        try:
            started = time.monotonic()
            ids = await produce(queue)
            console.print(f"enqueued {len(ids)} jobs from this process (pid {os.getpid()})")
            await watch(queue, len(ids))
            elapsed = time.monotonic() - started
        finally:
            worker.send_signal(signal.SIGTERM)
            with anyio.fail_after(60):
                await worker.wait()
    await report(queue, ids, elapsed)
    await queue.obliterate()
    await queue.backend.aclose()


async def watch(queue: Queue, total: int) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        done = bar.add_task("processing", total=total)
        while True:
            stats = await queue.queue_stats()
            finished = stats["completed"] + stats["failed"] - await ticks(queue)
            bar.update(done, completed=min(finished, total))
            if finished >= total:
                return
            await anyio.sleep(0.1)


async def ticks(queue: Queue) -> int:
    """Completed heartbeat ticks are extra work on top of the jobs we count."""
    done = await queue.list_jobs("completed", limit=10_000)
    return sum(1 for job in done if job.id.startswith("repeat:"))


async def report(queue: Queue, ids: list[str], elapsed: float) -> None:
    stats = await queue.queue_stats()
    table = Table(title=f"queue 'demo' after {elapsed:.1f}s")
    table.add_column("state")
    table.add_column("jobs", justify="right")
    for state, count in stats.items():
        table.add_row(state, str(count))
    console.print(table)
    summary = await queue.get_job(ids[-1])
    upload = await queue.get_job(ids[-2])
    if summary is not None and upload is not None:
        console.print(f"flaky upload: {upload.attempts} attempts, result {upload.result!r}")
        console.print(f"dependent job ran after the uploads: {summary.result!r}")
    console.print(f"heartbeat repeatable fired {await ticks(queue)} times")


if __name__ == "__main__":
    anyio.run(main)

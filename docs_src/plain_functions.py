"""Enqueue plain functions FastApp-style, with the request's context, and let a worker run them.

Both sides use the default backend (the SQLite file ``asyncmq.db`` in the working directory).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import anyio

from asyncmq import Queue, context, enqueue
from docs_src.audit_tasks import audit_action, build_report, request_id


async def handle_request(job_ids: list[str]) -> None:
    """What a request handler does: set the context, enqueue, return at once."""
    context.set("user_id", 42)
    context.set("locale", "pt_BR")
    request_id.set("req-7f3a")
    job_ids.append(await enqueue(audit_action, action="login"))
    job_ids.append(await enqueue(build_report, "r-1", __soft_timeout_s=300, __hard_timeout_s=600))
    soon = datetime.now(timezone.utc) + timedelta(seconds=1)
    job_ids.append(await enqueue(audit_action, action="reminder", __run_at=soon))


async def main() -> None:
    job_ids: list[str] = []
    # The request runs in a task of its own, as in a web server: its context stays there.
    async with anyio.create_task_group() as tg:
        tg.start_soon(handle_request, job_ids)
    assert context.get("user_id") is None

    # The worker may import plain functions of docs_src.audit_tasks (as `--app` allows).
    worker = Queue("default", concurrency=5, imports=["docs_src.audit_tasks"])
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        for job_id in job_ids:
            print(await worker.result(job_id, timeout=10))
        tg.cancel_scope.cancel()


if __name__ == "__main__":
    anyio.run(main)

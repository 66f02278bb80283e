"""One attempt of a job: find its task, restore its context, run it under its soft timeout, and
decide what follows (complete, retry after the backoff, or fail). The worker pool and the
inline driver both run jobs through here."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio

from asyncmq.backends.base import Completion, Failure, Lease, Retrial
from asyncmq.errors import SerializationError, UnknownTaskError
from asyncmq.functions import resolve_task
from asyncmq.jobs import Job, JobError
from asyncmq.propagation import restored
from asyncmq.serializers import check_value
from asyncmq.tasks import JobContext, Task, _current

Settle = Completion | Retrial | Failure
Report = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Attempt:
    """How one attempt ended: ``error`` is None when it returned ``result``. ``task`` is None
    when the job named no task this process may run."""

    task: Task[Any, Any] | None
    result: Any = None
    error: JobError | None = None


async def attempt(
    job: Job,
    *,
    imports: frozenset[str],
    scope: anyio.CancelScope,
    report: Report,
    limiter: anyio.CapacityLimiter | None = None,
) -> Attempt:
    """Run ``job`` once inside ``scope``, which this sets to the soft timeout's deadline.

    A scope cancelled from outside (not by the deadline) leaves ``error`` None and
    ``scope.cancelled_caught`` set: the caller knows why it cancelled.
    """
    try:
        task = resolve_task(job.task_id, imports)
    except UnknownTaskError as exc:
        return Attempt(None, error=JobError.from_exception(exc))
    timeout = job.timeout if job.timeout is not None else task.timeout
    if timeout is not None:
        scope.deadline = anyio.current_time() + timeout
    result: Any = None
    error: JobError | None = None
    with scope:
        try:
            result = await _call(task, job, report, limiter)
            check_value(result, "the task's result")
        except SerializationError as exc:
            error = JobError("SerializationError", str(exc))
        except Exception as exc:
            error = JobError.from_exception(exc, traceback.format_exc())
    if scope.cancelled_caught and error is None and anyio.current_time() >= scope.deadline:
        error = JobError("JobTimeoutError", f"job exceeded its timeout of {timeout}s")
    return Attempt(task, result, error)


async def _call(
    task: Task[Any, Any], job: Job, report: Report, limiter: anyio.CapacityLimiter | None
) -> Any:
    token = _current.set(JobContext(job, report))
    try:
        with restored(job.context, job_id=job.id, task_id=job.task_id):
            if task.is_async:
                return await task.func(*job.args, **job.kwargs)
            call = partial(task.func, *job.args, **job.kwargs)
            # Context variables (the job's restored context included) follow into the thread.
            return await anyio.to_thread.run_sync(call, abandon_on_cancel=True, limiter=limiter)
    finally:
        _current.reset(token)


def settle_for(job: Job, lease: Lease, outcome: Attempt, now: float) -> Settle:
    """Complete, retry at ``now`` plus the backoff while retries are left, or fail."""
    if outcome.error is None:
        return Completion(lease, outcome.result)
    if outcome.task is not None and job.can_retry():
        backoff = job.backoff or outcome.task.backoff
        delay = backoff.delay(job.attempts - job.stalls) if backoff else 0.0
        return Retrial(lease, outcome.error, now + delay)
    return Failure(lease, outcome.error)

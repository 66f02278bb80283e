"""One attempt of a job: find its task, restore its context, run it under its soft timeout, and
decide what follows (complete, retry after the backoff, or fail). The worker pool and the
inline driver both run jobs through here."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, NamedTuple

import anyio

from asyncmq.backends.base import Completion, Failure, Lease, Retrial
from asyncmq.errors import SerializationError, UnknownTaskError
from asyncmq.functions import resolve_task
from asyncmq.jobs import Job, JobError
from asyncmq.propagation import is_clean, restored
from asyncmq.serializers import check_value
from asyncmq.tasks import JobContext, Task, _current

Settle = Completion | Retrial | Failure
Report = Callable[[Any], Awaitable[None]]


class Attempt(NamedTuple):
    """How one attempt ended: ``error`` is None when it returned ``result``. ``task`` is None
    when the job named no task this process may run. ``exception`` is what the task (or the
    lookup of it) raised, for a caller that re-raises it; None after a timeout."""

    task: Task[Any, Any] | None
    result: Any = None
    error: JobError | None = None
    exception: Exception | None = None


async def attempt(
    job: Job,
    *,
    imports: frozenset[str],
    scope: anyio.CancelScope,
    report: Report,
    limiter: anyio.CapacityLimiter | None = None,
    offload_sync: bool = True,
) -> Attempt:
    """Run ``job`` once inside ``scope``, which this sets to the soft timeout's deadline.

    A scope cancelled from outside (not by the deadline) leaves ``error`` None and
    ``scope.cancelled_caught`` set: the caller knows why it cancelled. A sync task function
    runs in a worker thread, or with ``offload_sync=False`` in the calling thread (keeping its
    thread-locals), where the soft timeout is noticed only once the function returns.
    """
    try:
        task = resolve_task(job.task_id, imports)
    except UnknownTaskError as exc:
        return Attempt(None, error=JobError.from_exception(exc), exception=exc)
    timeout = job.timeout if job.timeout is not None else task.timeout
    if timeout is not None:
        scope.deadline = anyio.current_time() + timeout
    result: Any = None
    error: JobError | None = None
    raised: Exception | None = None
    with scope:
        try:
            result = await _call(task, job, report, limiter, offload_sync)
            check_value(result, "the task's result")
        except SerializationError as exc:
            error, raised = JobError("SerializationError", str(exc)), exc
        except Exception as exc:
            error, raised = JobError.from_exception(exc, traceback.format_exc()), exc
    if scope.cancelled_caught and error is None and anyio.current_time() >= scope.deadline:
        error = JobError("JobTimeoutError", f"job exceeded its timeout of {timeout}s")
    return Attempt(task, result, error, raised)


async def _call(
    task: Task[Any, Any],
    job: Job,
    report: Report,
    limiter: anyio.CapacityLimiter | None,
    offload_sync: bool,
) -> Any:
    token = _current.set(JobContext(job, report))
    try:
        if is_clean(job.context):
            return await _run(task, job, limiter, offload_sync)
        with restored(job.context, job_id=job.id, task_id=job.task_id):
            return await _run(task, job, limiter, offload_sync)
    finally:
        _current.reset(token)


async def _run(
    task: Task[Any, Any], job: Job, limiter: anyio.CapacityLimiter | None, offload_sync: bool
) -> Any:
    if task.is_async:
        return await task.func(*job.args, **job.kwargs)
    if not offload_sync:
        result = task.func(*job.args, **job.kwargs)
        if anyio.current_time() >= anyio.current_effective_deadline():
            # The timeout passed during the call: let the scope's cancellation land.
            await anyio.sleep_forever()
        return result
    call = partial(task.func, *job.args, **job.kwargs)
    # Context variables (the job's restored context included) follow into the thread.
    return await anyio.to_thread.run_sync(call, abandon_on_cancel=True, limiter=limiter)


def settle_for(job: Job, lease: Lease, outcome: Attempt, now: float) -> Settle:
    """Complete, retry at ``now`` plus the backoff while retries are left, or fail."""
    if outcome.error is None:
        return Completion(lease, outcome.result)
    if outcome.task is not None and job.can_retry():
        backoff = job.backoff or outcome.task.backoff
        delay = backoff.delay(job.attempts - job.stalls) if backoff else 0.0
        return Retrial(lease, outcome.error, now + delay)
    return Failure(lease, outcome.error)

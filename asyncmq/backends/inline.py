"""The inline driver (``sync://``): the in-memory store, where storing a job also runs it, in the
caller's task, before ``enqueue`` returns. For tests and scripts that want a job's effects at once.
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio

from asyncmq.backends.base import Completion, Lease, Retrial
from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.errors import InvalidURLError, JobFailedError
from asyncmq.execution import Attempt, attempt, settle_for
from asyncmq.jobs import Job, JobError
from asyncmq.serializers import check_value

log = logging.getLogger("asyncmq.inline")

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
# Set in the context a job runs in: work it adds is run by the loop already running, after it.
_running_in: contextvars.ContextVar[InlineBackend | None] = contextvars.ContextVar(
    "asyncmq.inline.running_in", default=None
)


class InlineBackend(InMemoryBackend):
    """Runs every job as it is added: ``enqueue`` stores the jobs, then runs each runnable job
    of the queue to completion, one at a time, before it returns.

    A job goes through the same claim, attempt and settle as on a worker, so its state,
    attempts, result, error and progress are recorded the same way. What differs: retries
    and delayed jobs run at once (their ``run_at`` is recorded, not waited for); a plain
    function needs no allowlist (the caller holds it already); a job added by a running job
    runs after that job. A job waiting on dependencies runs when its last dependency
    completes; a paused queue keeps its jobs until ``resume``; rate limits do not apply.
    Sync task functions run in a worker thread as on a worker, or with ``threads=False`` in
    the event loop's thread. A job that fails its last attempt is logged at ERROR and
    recorded; with ``raise_errors`` the call that ran it then raises the task's exception.
    """

    def __init__(self, *, raise_errors: bool = False, threads: bool = True) -> None:
        super().__init__()
        self.raise_errors = raise_errors
        self.threads = threads
        self._due: dict[str, None] = {}  # queues that may hold runnable jobs, in arrival order
        self._runner: int | None = None  # the thread of the loop running jobs, while it does
        self._idle: anyio.Event | None = None  # set when that loop ends
        self._anchor: tuple[float, float] | None = None

    @classmethod
    def from_url(cls, url: str) -> InlineBackend:
        """``sync://``, with ``?raise=true`` to raise a failed job's exception and
        ``?threads=false`` to call sync task functions in the event loop's thread."""
        options = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        flags = {"raise": False, "threads": True}
        for name, value in options.items():
            if name not in flags or value.lower() not in _TRUE | _FALSE:
                raise InvalidURLError(
                    f"{url!r}: the sync backend takes raise=true|false and threads=true|false"
                )
            flags[name] = value.lower() in _TRUE
        return cls(raise_errors=flags["raise"], threads=flags["threads"])

    # -- transitions that make jobs runnable ---------------------------------------------

    async def enqueue(
        self, queue: str, jobs: Sequence[Job], now: float, *, connection: object | None = None
    ) -> list[str]:
        async with self._running_after(queue):
            ids = await super().enqueue(queue, jobs, now, connection=connection)
            self._anchor = (now, time.monotonic())
        return ids

    async def resume(self, queue: str) -> None:
        async with self._running_after(queue):
            await super().resume(queue)

    async def retry_job(self, queue: str, job_id: str, now: float) -> bool:
        async with self._running_after(queue):
            moved = await super().retry_job(queue, job_id, now)
            self._anchor = (now, time.monotonic())
        return moved

    # -- running -------------------------------------------------------------------------

    @asynccontextmanager
    async def _running_after(self, queue: str) -> AsyncIterator[None]:
        """Around a change that may make jobs of ``queue`` runnable: run them afterwards.

        Called from a job this backend is running (its task, or a thread it started), it only
        notes the queue: the loop running that job runs them after it. Called while another
        task of this thread runs jobs, it first waits for that to end, so that each call runs
        (and raises for) the jobs it adds.
        """
        nested = _running_in.get() is self or self._runner not in (None, threading.get_ident())
        if not nested:
            while self._idle is not None:
                await self._idle.wait()
        yield
        self._due[queue] = None
        if not nested:
            await self._run_due()

    def _now(self) -> float:
        """The instant of the last ``now`` given, plus the time run since: the backend keeps
        the caller's clock (a fake one included) without reading the wall clock itself."""
        if self._anchor is None:
            return time.time()
        given, at = self._anchor
        return given + (time.monotonic() - at)

    async def _run_due(self) -> None:
        """Run every runnable job of the queues in ``_due``, in claim order, until none is left;
        then raise the first failure's exception if asked to."""
        self._idle, self._runner = anyio.Event(), threading.get_ident()
        first: BaseException | None = None
        try:
            while self._due:
                queue = next(iter(self._due))
                # Delayed jobs (and retries waiting out their backoff) run now.
                await self.promote_due(queue, math.inf)
                claimed = await self.claim(
                    queue, 1, lease=math.inf, token=os.urandom(16).hex(), now=self._now()
                )
                if not claimed.jobs:
                    del self._due[queue]
                    continue
                job = claimed.jobs[0]
                failed = await self._run(queue, job)
                if failed is None:
                    continue
                if self.raise_errors and first is None:
                    first = failed.exception or JobFailedError(job.id, "failed", _message(failed))
                else:
                    log.error(
                        "job %s (%s) failed: %s",
                        job.id,
                        job.task_id,
                        _message(failed),
                        exc_info=failed.exception,
                    )
        finally:
            idle, self._idle, self._runner = self._idle, None, None
            idle.set()
        if first is not None:
            raise first

    async def _run(self, queue: str, job: Job) -> Attempt | None:
        """One attempt of a claimed job, settled; returns the attempt if the job failed for
        good."""
        assert job.lease_token is not None
        lease = Lease(job.id, job.lease_token)

        async def report(progress: Any) -> None:
            check_value(progress, "progress")
            await self.update_progress(queue, lease, progress)

        async def run() -> None:
            _running_in.set(self)
            # The job's own module is allowed: the caller named the function, in this process.
            allowed = frozenset({job.task_id.rpartition(".")[0]})
            scope = anyio.CancelScope()
            done.append(
                await attempt(
                    job, imports=allowed, scope=scope, report=report, offload_sync=self.threads
                )
            )

        done: list[Attempt] = []
        try:
            # A task of its own, so context variables the job sets stay with it, as on a worker.
            async with anyio.create_task_group() as tg:
                tg.start_soon(run)
        finally:
            if not done:  # the caller was cancelled: hand the job back
                with anyio.CancelScope(shield=True):
                    error = JobError("InlineCancelled", "the call running the job was cancelled")
                    await self.retry(queue, [Retrial(lease, error, self._now())], self._now())
        outcome = done[0]
        now = self._now()
        settle = settle_for(job, lease, outcome, now)
        if isinstance(settle, Completion):
            await self.complete(queue, [settle], now)
        elif isinstance(settle, Retrial):
            await self.retry(queue, [settle], now)
            log.info("job %s (%s) failed attempt %d: retrying", job.id, job.task_id, job.attempts)
        else:
            await self.fail(queue, [settle], now)
            return outcome
        return None


def _message(failed: Attempt) -> str:
    return failed.error.message if failed.error is not None else "failed"

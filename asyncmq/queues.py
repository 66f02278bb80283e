"""``Queue``: the producer and admin API of one named queue, and ``run()``, which wires the
worker pool, the scanner and the repeatable scheduler into one task group."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import anyio
from croniter import croniter

from asyncmq.backends.base import BaseBackend, Repeatable
from asyncmq.backoff import Backoff
from asyncmq.builder import Instant, JobBatch, JobBuilder, TaskRef, split_call_options
from asyncmq.errors import JobFailedError, JobNotFoundError
from asyncmq.jobs import Job, JobState
from asyncmq.propagation import capture
from asyncmq.ratelimit import RateLimit
from asyncmq.scheduler import KeepJobs, RepeatableScheduler, Scanner, repeatable_key
from asyncmq.serializers import check_arguments
from asyncmq.settings import settings
from asyncmq.tasks import Task
from asyncmq.worker import WorkerPool

log = logging.getLogger("asyncmq.queue")

_REPEATABLE_JOB_FIELDS = frozenset(
    (
        "task_id",
        "args",
        "kwargs",
        "priority",
        "retries",
        "backoff",
        "ttl",
        "timeout",
        "hard_timeout",
    )
)
Clock = Callable[[], float]


class Queue:
    """A named queue on a backend.

    ``backend`` defaults to ``settings.backend`` (``ASYNCMQ_BACKEND_URL``, else the SQLite file
    ``asyncmq.db``). ``concurrency`` bounds the jobs one ``run()`` executes at once;
    ``rate_limit`` jobs may start per ``rate_interval`` seconds across every worker of the
    queue (``0`` blocks, ``None`` disables). ``scan_interval`` paces the scanner that promotes
    delayed jobs and recovers jobs of dead workers; ``lease`` is how long a claimed job stays
    owned without a heartbeat, ``max_stalls`` how often a job may lose its lease before it fails.
    ``remove_on_complete`` / ``remove_on_fail`` bound how many finished jobs are kept
    (``True``: none, an int: the newest N, or a :class:`~asyncmq.scheduler.KeepJobs`).
    ``imports`` names modules (with their submodules) whose plain functions this queue's
    worker may import and run, beside ``ASYNCMQ_IMPORTS`` and the ``--app`` modules.
    """

    def __init__(
        self,
        name: str,
        backend: BaseBackend | None = None,
        concurrency: int = 3,
        rate_limit: int | None = None,
        rate_interval: float = 1.0,
        scan_interval: float | None = None,
        *,
        lease: float | None = None,
        max_stalls: int | None = None,
        grace_period: float = 30.0,
        remove_on_complete: KeepJobs | bool | int | None = None,
        remove_on_fail: KeepJobs | bool | int | None = None,
        imports: Iterable[str] = (),
        clock: Clock = time.time,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.name = name
        self._backend = backend
        self.concurrency = concurrency
        self.rate = None if rate_limit is None else RateLimit(rate_limit, rate_interval)
        self.scan_interval = settings.scan_interval if scan_interval is None else scan_interval
        self.lease = settings.lease if lease is None else lease
        self.max_stalls = settings.max_stalls if max_stalls is None else max_stalls
        self.grace_period = grace_period
        self.retention: dict[JobState, KeepJobs] = {}
        for state, value in (
            (JobState.COMPLETED, remove_on_complete),
            (JobState.FAILED, remove_on_fail),
        ):
            keep = KeepJobs.from_value(value)
            if keep is not None:
                self.retention[state] = keep
        self.imports = tuple(imports)
        self.clock = clock
        self.worker: WorkerPool | None = None

    @property
    def backend(self) -> BaseBackend:
        # The default is looked up on each use, never kept: it is one per event loop.
        backend = self._backend
        return settings.backend if backend is None else backend

    # -- producing -----------------------------------------------------------------------

    async def add(
        self,
        task_id: TaskRef,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        delay: float | None = None,
        run_at: Instant | None = None,
        priority: int | None = None,
        retries: int | None = None,
        ttl: float | None = None,
        backoff: Backoff | float | Mapping[str, Any] | None = None,
        timeout: float | None = None,
        hard_timeout: float | None = None,
        job_id: str | None = None,
        depends_on: Iterable[str] | None = None,
        connection: object | None = None,
    ) -> str:
        """Enqueue one job and return its id.

        ``task_id`` is ``"module.function"``, a ``@task`` or a plain module-level function
        (sync or async); unset options take the task's defaults. The job runs ``delay``
        seconds from now or at ``run_at`` (an aware ``datetime`` or epoch seconds; a past
        instant runs now); lower ``priority`` runs first; ``retries`` counts attempts after
        the first; ``ttl`` expires a job not started that many seconds after creation;
        ``timeout`` cancels an attempt after that many seconds and ``hard_timeout`` lets a
        supervisor kill the process still running it; ``job_id`` deduplicates (an existing id
        is returned unchanged); ``depends_on`` holds ids of jobs in this queue that must
        complete first; ``connection`` enqueues inside the caller's database transaction
        where the backend supports it. The declared context (:mod:`asyncmq.propagation`) goes
        with the job. Raises ``TypeError`` naming an argument that cannot be serialised or a
        function a worker could not import.
        """
        now = self.clock()
        job = JobBuilder(self.name, now, context=capture()).build(
            task_id,
            args,
            kwargs,
            delay=delay,
            priority=priority,
            retries=retries,
            ttl=ttl,
            backoff=backoff,
            timeout=timeout,
            job_id=job_id,
            depends_on=depends_on,
            run_at=run_at,
            hard_timeout=hard_timeout,
        )
        (added,) = await self.backend.enqueue(self.name, [job], now, connection=connection)
        return added

    async def add_task(self, fn: TaskRef, /, *args: Any, **kwargs: Any) -> str:
        """Enqueue ``fn(*args, **kwargs)`` and return the job id: the shape of Starlette's
        ``BackgroundTasks.add_task``, for a plain module-level function or a ``@task``.

        Options travel as dunder keyword arguments, stripped before the call:
        ``__soft_timeout_s``, ``__hard_timeout_s``, ``__delay_s``, ``__run_at``,
        ``__priority``, ``__job_id``, ``__retries``, ``__ttl_s``, ``__depends_on``.
        """
        kwargs, options = split_call_options(kwargs)
        return await self.add(fn, args, kwargs, **options)

    async def add_bulk(
        self, jobs: Iterable[Mapping[str, Any]], *, connection: object | None = None
    ) -> list[str]:
        """Enqueue many jobs in one backend call; each dict takes ``add()``'s arguments
        (``task_id``, ``args``, ``kwargs``, ``delay``, ``priority``, ``depends_on``, ...).
        A job may depend on an earlier job of the same call; the context is captured once
        for the whole call."""
        now = self.clock()
        specs = list(jobs)
        if not specs:
            return []
        backend = self.backend
        builder = JobBuilder(self.name, now, len(specs), context=capture())
        built: Sequence[Job]
        # A batch with dependencies is looked at whole before it is stored: only the others
        # are built while they are stored.
        if backend.lazy_enqueue and not any(spec.get("depends_on") for spec in specs):
            built = JobBatch(builder, specs, caller="add_bulk")
        else:
            built = builder.build_many(specs, caller="add_bulk")
        return await backend.enqueue(self.name, built, now, connection=connection)

    async def add_repeatable(
        self,
        task_id: TaskRef,
        every: float | None = None,
        cron: str | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        **options: Any,
    ) -> str:
        """Declare a job that ``run()`` enqueues every ``every`` seconds or on a ``cron``
        schedule (UTC); returns its key. Declaring the same definition again (from any
        process) keeps one schedule. ``options`` are job options as for ``add()``."""
        if (every is None) == (cron is None):
            raise ValueError("add_repeatable() takes exactly one of every= or cron=")
        refused = sorted(set(options) - _REPEATABLE_JOB_FIELDS)
        if refused:
            raise TypeError(f"add_repeatable() does not take {', '.join(refused)}")
        if every is not None and every <= 0:
            raise ValueError("every must be > 0 seconds")
        if cron is not None and not croniter.is_valid(cron):
            raise ValueError(f"invalid cron expression {cron!r}")
        now = self.clock()
        job = JobBuilder(self.name, now).build(task_id, args, kwargs, **options)
        key = key or repeatable_key(job.task_id, every, cron, job.args, job.kwargs)
        payload = {k: v for k, v in job.to_dict().items() if k in _REPEATABLE_JOB_FIELDS}
        await self.backend.save_repeatable(
            Repeatable(key, self.name, payload, every=every, cron=cron, created_at=now)
        )
        return key

    async def enqueue(self, payload: Mapping[str, Any]) -> str:
        """Enqueue a job given in payload form (:meth:`Job.to_dict`)."""
        job = Job.from_dict({**payload, "queue": self.name})
        check_arguments(job.args, job.kwargs)
        if not job.created_at:
            job.created_at = self.clock()
        (added,) = await self.backend.enqueue(self.name, [job], self.clock())
        return added

    async def enqueue_delayed(self, payload: Mapping[str, Any], run_at: float) -> str:
        """Enqueue a payload to run at the epoch instant ``run_at``."""
        return await self.enqueue({**payload, "run_at": run_at})

    async def delay(self, payload: Mapping[str, Any], run_at: float | None = None) -> str:
        """``enqueue`` when ``run_at`` is ``None``, else ``enqueue_delayed``."""
        if run_at is None:
            return await self.enqueue(payload)
        return await self.enqueue_delayed(payload, run_at)

    # -- control -------------------------------------------------------------------------

    async def pause(self) -> None:
        """Stop every worker of the queue from starting jobs; running ones finish."""
        await self.backend.pause(self.name)

    async def resume(self) -> None:
        await self.backend.resume(self.name)

    async def is_paused(self) -> bool:
        return await self.backend.is_paused(self.name)

    async def clean(
        self,
        state: JobState | str,
        older_than: float | None = None,
        *,
        keep_last: int | None = None,
    ) -> int:
        """Delete finished jobs in ``state`` that finished before the epoch instant
        ``older_than`` (all of them when both limits are ``None``) or beyond the newest
        ``keep_last``; returns how many were deleted."""
        if older_than is None and keep_last is None:
            keep_last = 0
        total = 0
        while True:
            removed = await self.backend.clean(
                self.name,
                JobState(state),
                finished_before=older_than,
                keep_last=keep_last,
                limit=1000,
            )
            total += removed
            if removed < 1000:
                return total

    async def drain(self) -> int:
        """Delete every job not started yet (waiting, delayed, waiting on children)."""
        return await self.backend.drain(self.name)

    async def obliterate(self) -> int:
        """Delete the whole queue: jobs in every state, repeatables, pause flag."""
        return await self.backend.obliterate(self.name)

    # -- jobs ----------------------------------------------------------------------------

    async def get_job(self, job_id: str) -> Job | None:
        return await self.backend.get_job(self.name, job_id)

    async def list_jobs(
        self, state: JobState | str, *, offset: int = 0, limit: int = 100
    ) -> list[Job]:
        return await self.backend.list_jobs(self.name, JobState(state), offset=offset, limit=limit)

    async def queue_stats(self) -> dict[str, int]:
        """Job counts for every state, keyed by the state's value."""
        counts = await self.backend.counts(self.name)
        return {state.value: counts.get(state, 0) for state in JobState}

    async def cancel_job(self, job_id: str) -> bool:
        """Cancel a job that has not finished: it never runs, or, if running, its coroutine is
        cancelled within about a second. Returns ``False`` if it had already finished."""
        return await self.backend.cancel(self.name, job_id, self.clock())

    async def is_job_cancelled(self, job_id: str) -> bool:
        job = await self.get_job(job_id)
        return job is not None and job.state is JobState.CANCELLED

    async def retry_job(self, job_id: str) -> bool:
        """Run a failed, expired or cancelled job again from scratch."""
        return await self.backend.retry_job(self.name, job_id, self.clock())

    async def remove_job(self, job_id: str) -> bool:
        return await self.backend.remove(self.name, job_id, self.clock())

    async def list_delayed(self) -> list[Job]:
        return await _all_pages(self, JobState.DELAYED)

    async def get_due_delayed(self) -> list[Job]:
        """Delayed jobs whose time has come but that the scanner has not promoted yet."""
        now = self.clock()
        return [j for j in await self.list_delayed() if j.run_at is not None and j.run_at <= now]

    async def remove_delayed(self, job_id: str) -> bool:
        job = await self.get_job(job_id)
        if job is None or job.state is not JobState.DELAYED:
            return False
        return await self.remove_job(job_id)

    async def list_repeatables(self) -> list[Repeatable]:
        return await self.backend.list_repeatables(self.name)

    async def pause_repeatable(self, key: str | Repeatable) -> bool:
        return await self.backend.set_repeatable_paused(self.name, _key(key), True)

    async def resume_repeatable(self, key: str | Repeatable) -> bool:
        return await self.backend.set_repeatable_paused(self.name, _key(key), False)

    async def remove_repeatable(self, key: str | Repeatable) -> bool:
        return await self.backend.remove_repeatable(self.name, _key(key))

    async def result(self, job_id: str, timeout: float | None = None) -> Any:
        """Wait for the job to finish and return its result.

        Raises :class:`JobFailedError` if it ended failed, expired or cancelled,
        :class:`JobNotFoundError` if it does not exist, and ``TimeoutError`` after
        ``timeout`` seconds.
        """
        pause = 0.005
        with anyio.fail_after(timeout):
            while True:
                job = await self.get_job(job_id)
                if job is None:
                    raise JobNotFoundError(f"no job {job_id!r} in queue {self.name!r}")
                if job.state is JobState.COMPLETED:
                    return job.result
                if job.is_finished:
                    message = job.error.message if job.error else job.state.value
                    raise JobFailedError(job_id, job.state.value, message)
                await anyio.sleep(pause)
                pause = min(pause * 1.5, 0.5)

    # -- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Process jobs until cancelled: the worker pool, the scanner and the repeatable
        scheduler in one task group. On cancellation the pool stops claiming, lets running
        jobs finish for up to ``grace_period`` seconds and hands the rest back."""
        backend = self.backend
        self.worker = WorkerPool(
            self.name,
            backend,
            concurrency=self.concurrency,
            rate=self.rate,
            lease=self.lease,
            grace_period=self.grace_period,
            imports=self.imports,
            clock=self.clock,
        )
        scanner = Scanner(
            self.name,
            backend,
            interval=self.scan_interval,
            max_stalls=self.max_stalls,
            retention=self.retention,
            clock=self.clock,
        )
        repeatables = RepeatableScheduler(
            self.name, backend, interval=self.scan_interval, clock=self.clock
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(scanner.run)
            tg.start_soon(repeatables.run)
            await self.worker.run()

    def force_stop(self) -> None:
        """While :meth:`run` stops, hand the running jobs back now instead of waiting up to
        ``grace_period`` for them (what a second Ctrl-C does)."""
        if self.worker is not None:
            self.worker.force_stop()

    def start(self) -> None:
        """Run the worker in this thread until SIGINT or SIGTERM, then stop gracefully: a
        second signal hands the running jobs back at once. Returns once stopped."""
        anyio.run(self._run_until_signalled)

    async def _run_until_signalled(self) -> None:
        await run_until_signalled([self])
        await self.backend.aclose()

    def __repr__(self) -> str:
        return f"Queue({self.name!r}, concurrency={self.concurrency})"


async def run_until_signalled(queues: Sequence[Queue]) -> bool:
    """Run the queues' workers until SIGINT or SIGTERM, then stop them gracefully; a second
    signal (whichever of the two) hands their running jobs back at once. Returns True when the
    stop was forced that way."""
    forced = False
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with anyio.create_task_group() as watching:

            async def watch(workers: anyio.CancelScope) -> None:
                nonlocal forced
                async for signum in signals:
                    name = signal.Signals(signum).name
                    if not workers.cancel_called:
                        log.info(
                            "received %s: stopping; running jobs may finish (up to %gs); "
                            "press Ctrl-C again to hand them back now",
                            name,
                            max(q.grace_period for q in queues),
                        )
                        workers.cancel()
                    else:
                        log.warning("received %s again: handing running jobs back now", name)
                        forced = True
                        for queue in queues:
                            queue.force_stop()

            async with anyio.create_task_group() as workers:
                watching.start_soon(watch, workers.cancel_scope)
                for queue in queues:
                    workers.start_soon(queue.run)
            watching.cancel_scope.cancel()
    return forced


async def enqueue(fn: TaskRef, /, *args: Any, **kwargs: Any) -> str:
    """Enqueue ``fn(*args, **kwargs)`` on the default backend and return the job id.

    The job goes to the ``@task``'s queue, or ``"default"`` for a plain function, unless a
    ``__queue="name"`` keyword says otherwise; the other options are
    :meth:`Queue.add_task`'s.
    """
    name = kwargs.pop("__queue", None) or (fn.queue if isinstance(fn, Task) else "default")
    return await Queue(name).add_task(fn, *args, **kwargs)


def _key(key: str | Repeatable) -> str:
    return key.key if isinstance(key, Repeatable) else key


async def _all_pages(queue: Queue, state: JobState) -> list[Job]:
    jobs: list[Job] = []
    while True:
        page = await queue.list_jobs(state, offset=len(jobs), limit=500)
        jobs += page
        if len(page) < 500:
            return jobs

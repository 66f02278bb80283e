"""The worker pool: claim -> execute -> settle, with lease heartbeats and a graceful stop."""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import anyio
import anyio.lowlevel
from anyio.abc import TaskStatus

from asyncmq.backends.base import (
    BaseBackend,
    Claimed,
    Completion,
    Failure,
    Lease,
    Retrial,
    WorkerInfo,
)
from asyncmq.execution import Settle, attempt, settle_for
from asyncmq.functions import allowed_modules
from asyncmq.jobs import Job, JobError
from asyncmq.outages import outage_of
from asyncmq.ratelimit import RateLimit
from asyncmq.serializers import check_value

log = logging.getLogger("asyncmq.worker")

Clock = Callable[[], float]
# Settles one round trip sends at most, and how many finished jobs may wait to be settled
# before the claim loop stops taking more: a store that settles slower than jobs finish would
# otherwise collect ever more finished jobs, whose leases the heartbeat has to keep renewing.
_SETTLE_BATCH = 500
_MAX_UNSETTLED = 2 * _SETTLE_BATCH
StopReason = Literal["lost", "shutdown"]
T = TypeVar("T")


@dataclass
class _Running:
    job: Job
    lease: Lease
    until: float  # the lease's end as last set (claim or extension), on the worker's clock
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    stop_reason: StopReason | None = None

    def stop(self, reason: StopReason) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.scope.cancel()


class _Feed(Generic[T]):
    """A FIFO handed from one task to others: ``put`` never blocks, ``get`` waits for an
    item and returns None once the feed is closed and empty.

    What an anyio memory stream does, without its checkpoint per receive: the claim loop
    feeds the slots and the slots feed the settler once per job each, and those two
    streams were a quarter of a no-op job's worker CPU.
    """

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._idle: deque[anyio.Event] = deque()  # one per task waiting in get()
        self._closed = False

    def put(self, item: T) -> None:
        self._items.append(item)
        if self._idle:
            self._idle.popleft().set()

    def take(self, most: int) -> list[T]:
        """Up to ``most`` items that are there now, without waiting."""
        items = self._items
        return [items.popleft() for _ in range(min(most, len(items)))]

    async def get(self) -> T | None:
        while not self._items:
            if self._closed:
                return None
            ready = anyio.Event()
            self._idle.append(ready)
            try:
                await ready.wait()
            except BaseException:  # cancelled: leave no wake-up unused
                if ready.is_set():
                    self._wake_next()
                else:
                    self._idle.remove(ready)
                raise
        item = self._items.popleft()
        # Another task may have taken the item that woke a waiter: pass the wake-up on.
        self._wake_next()
        return item

    def _wake_next(self) -> None:
        if self._items and self._idle:
            self._idle.popleft().set()

    def close(self) -> None:
        """Waiters take what is left, then get None."""
        self._closed = True
        while self._idle:
            self._idle.popleft().set()


@dataclass
class WorkerStats:
    processed: int = 0
    failed: int = 0
    retried: int = 0


class WorkerPool:
    """Runs up to ``concurrency`` jobs of one queue at a time.

    It claims only as many jobs as it has free slots (and the queue-wide rate limit allows),
    so nothing sits prefetched; finished jobs are settled in batches by one settler task.
    Jobs run registered ``@task`` functions, or plain functions of the modules ``imports``
    (with ``ASYNCMQ_IMPORTS`` and the ``--app`` modules) allows.
    Cancelling :meth:`run` stops claiming at once, lets running jobs finish for up to
    ``grace_period`` seconds, then hands the unfinished ones back to ``waiting``.
    """

    def __init__(
        self,
        queue: str,
        backend: BaseBackend,
        *,
        concurrency: int = 3,
        rate: RateLimit | None = None,
        lease: float = 10.0,
        grace_period: float = 30.0,
        idle_wait: float = 5.0,
        imports: Iterable[str] = (),
        clock: Clock = time.time,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.queue = queue
        self.backend = backend
        self.concurrency = concurrency
        self.rate = rate
        self.lease = lease
        self.grace_period = grace_period
        self.idle_wait = idle_wait
        # Read once: the modules whose plain functions jobs may name (asyncmq.functions).
        self.imports = allowed_modules(imports)
        self.clock = clock
        self.id = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"
        self.stats = WorkerStats()
        self._outage = outage_of(backend)
        self._forced = anyio.Event()
        self._running: dict[str, _Running] = {}
        self._threads = anyio.CapacityLimiter(concurrency)
        self._settles_deadline = math.inf
        self._next_run_at: float | None = None  # earliest delayed job, as last seen
        self._slot_freed: anyio.Event
        self._settled: anyio.Event
        # The leases of outcomes sent to the settler and not yet settled, by job id, and when
        # each runs out: the heartbeat renews the ones about to, so a store that settles
        # slowly does not see them expire; their number holds the claim loop back.
        self._unsettled_leases: dict[str, tuple[Lease, float]] = {}
        self._job_done: anyio.Event
        self._stop_requested: anyio.Event
        self._outcomes: _Feed[Settle]
        self._claimed: _Feed[_Running]
        self._started_at = 0.0

    @property
    def active(self) -> int:
        return len(self._running)

    async def run(self) -> None:
        """Serve until cancelled; see the class docstring for how it stops."""
        self._started_at = self.clock()
        self._outcomes = _Feed()
        self._claimed = _Feed()
        self._slot_freed = anyio.Event()
        self._settled = anyio.Event()
        self._job_done = anyio.Event()
        self._stop_requested = anyio.Event()
        async with anyio.create_task_group() as tg:
            try:
                # Shielded: a cancel arriving mid-start would leave the core waiting, shielded,
                # for a stop request that the finally below never got to send.
                with anyio.CancelScope(shield=True):
                    await tg.start(self._shielded_core)
                await self._claim_loop()
            finally:
                self._stop_requested.set()

    # -- claiming ------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        backoff = _Backoff()
        woken: Claimed | None = None  # what the last idle wait claimed as it woke
        while True:
            free = self.concurrency - len(self._running)
            if free <= 0:
                self._slot_freed = anyio.Event()
                await self._slot_freed.wait()
                continue
            if len(self._unsettled_leases) >= _MAX_UNSETTLED:
                self._settled = anyio.Event()
                await self._settled.wait()
                continue
            if woken is not None:
                claimed, woken = woken, None
            else:
                try:
                    claimed = await self.backend.claim(self.queue, free, **self._claim_terms())
                except Exception as exc:
                    self._outage.failed("claim", self.queue, exc)
                    await backoff.sleep()
                    continue
                backoff.reset()
                self._outage.succeeded()
            for job in claimed.jobs:
                self._start(job)
            if claimed.jobs:
                # Let the slots start these jobs before this loop's next round trip.
                await anyio.lowlevel.checkpoint()
            if claimed.throttled_until is not None:
                pause = claimed.throttled_until - self.clock()
                await anyio.sleep(min(max(pause, 0.001), 1.0))
            elif len(claimed.jobs) < free:
                woken = await self._idle(promote=not claimed.jobs, free=free - len(claimed.jobs))

    async def _idle(self, *, promote: bool, free: int) -> Claimed | None:
        """Wait for work. First promote due delayed jobs, unless the last claim found work
        (the wake-up was for that) and no known delayed job is due yet: this keeps a busy
        trickle of jobs to one round trip per wake-up besides the claim. Returns what the
        backend claimed as the wait ended (``wait_and_claim``), or None to claim next."""
        if promote or (self._next_run_at is not None and self._next_run_at <= self.clock()):
            try:
                promoted = await self.backend.promote_due(self.queue, self.clock())
            except Exception as exc:
                self._outage.failed("promote_due", self.queue, exc)
                await anyio.sleep(1.0)
                return None
            self._next_run_at = promoted.next_run_at
            if promoted.count:
                return None
        timeout = self.idle_wait
        if self._next_run_at is not None:
            timeout = min(timeout, max(self._next_run_at - self.clock(), 0.0))
        if timeout <= 0:
            return None
        try:
            claimed = await self.backend.wait_and_claim(
                self.queue, free, timeout=timeout, **self._claim_terms()
            )
        except Exception as exc:
            self._outage.failed("waiting for jobs", self.queue, exc)
            await anyio.sleep(min(timeout, 1.0))
            return None
        if claimed.jobs or claimed.throttled_until is not None:
            return claimed
        return None

    def _claim_terms(self) -> dict[str, Any]:
        """The lease, a fresh token, the instant and the rate limit of one claim."""
        return {
            "lease": self.lease,
            "token": os.urandom(16).hex(),
            "now": self.clock(),
            "rate": self.rate,
        }

    def _start(self, job: Job) -> None:
        assert job.lease_token is not None
        until = job.lease_until if job.lease_until is not None else self.clock() + self.lease
        running = _Running(job, Lease(job.id, job.lease_token), until)
        self._running[job.id] = running
        self._claimed.put(running)

    # -- the shielded part: jobs, heartbeats, settles -----------------------------------

    async def _shielded_core(self, *, task_status: TaskStatus[None]) -> None:
        # Shielded so that cancelling run() does not cancel running jobs or the settles
        # and lease extensions they still need; _drain ends it once the jobs are done.
        with anyio.CancelScope(shield=True):
            heartbeat = anyio.CancelScope()
            async with anyio.create_task_group() as services:
                services.start_soon(self._heartbeat_loop, heartbeat)
                services.start_soon(self._settle_loop)
                # One long-lived task per slot: cheaper than a task per job.
                async with anyio.create_task_group() as slots:
                    for _ in range(self.concurrency):
                        slots.start_soon(self._slot)
                    task_status.started()
                    await self._drain()
                # The settle loop ends once it has sent what is queued.
                self._settles_deadline = self.clock() + 10.0
                self._outcomes.close()
                heartbeat.cancel()
            with anyio.move_on_after(5):
                await self.backend.remove_worker(self.queue, self.id)

    def force_stop(self) -> None:
        """Cut the grace period short: once :meth:`run` is cancelled, hand the running jobs
        back at once instead of waiting for them (a second Ctrl-C)."""
        self._forced.set()

    async def _drain(self) -> None:
        await self._stop_requested.wait()
        self._claimed.close()
        if self._running and not self._forced.is_set():
            log.info(
                "queue %r: waiting up to %gs for %d running jobs",
                self.queue,
                self.grace_period,
                len(self._running),
            )
        with anyio.move_on_after(self.grace_period):
            while self._running and not self._forced.is_set():
                self._job_done = anyio.Event()
                async with anyio.create_task_group() as waiting:
                    waiting.start_soon(_set_when, self._forced, self._job_done)
                    await self._job_done.wait()
                    waiting.cancel_scope.cancel()
        if self._running:
            log.warning(
                "queue %r: handing %d unfinished jobs back to the queue",
                self.queue,
                len(self._running),
            )
        for running in list(self._running.values()):
            running.stop("shutdown")

    async def _slot(self) -> None:
        while (running := await self._claimed.get()) is not None:
            outcome: Settle | None
            try:
                if self._stop_requested.is_set():
                    # Claimed but not started before the stop: hand it straight back.
                    error = JobError("WorkerShutdown", "handed back on shutdown")
                    outcome = Retrial(running.lease, error, self.clock())
                else:
                    outcome = await self._outcome(running)
            finally:
                self._running.pop(running.job.id, None)
                self._slot_freed.set()
                if self._stop_requested.is_set():
                    self._job_done.set()
            if outcome is not None:
                self._unsettled_leases[running.job.id] = (running.lease, running.until)
                self._outcomes.put(outcome)

    async def _outcome(self, running: _Running) -> Settle | None:
        job, lease = running.job, running.lease

        async def report(progress: Any) -> None:
            check_value(progress, "progress")
            await self.backend.update_progress(self.queue, lease, progress)

        log.debug("job %s %s started (attempt %d)", job.id, job.task_id, job.attempts)
        started = time.perf_counter()
        outcome = await attempt(
            job, imports=self.imports, scope=running.scope, report=report, limiter=self._threads
        )
        if running.stop_reason == "lost":
            log.warning("job %s lost its lease (cancelled or requeued); not settling", job.id)
            return None
        if running.stop_reason == "shutdown":
            log.warning("job %s %s handed back on shutdown", job.id, job.task_id)
            now = self.clock()
            return Retrial(lease, JobError("WorkerShutdown", "handed back on shutdown"), now)
        now = self.clock()
        settle = settle_for(job, lease, outcome, now)
        _log_outcome(job, settle, time.perf_counter() - started, now)
        if isinstance(settle, Completion):
            self.stats.processed += 1
        elif isinstance(settle, Retrial):
            self.stats.retried += 1
        else:
            self.stats.failed += 1
        return settle

    async def _settle_loop(self) -> None:
        backoff = _Backoff()
        while (first := await self._outcomes.get()) is not None:
            batch = [first, *self._outcomes.take(_SETTLE_BATCH - 1)]
            while True:
                try:
                    await self._settle(batch)
                    backoff.reset()
                    break
                except Exception as exc:
                    # Settles are fenced by the lease token, so sending a batch twice is safe.
                    self._outage.failed(f"settling {len(batch)} jobs", self.queue, exc)
                    if self.clock() > self._settles_deadline:
                        # Stopping and the backend is still down: the leases will run out
                        # and requeue_expired hands these jobs to another worker.
                        break
                    await backoff.sleep()
            for settle in batch:
                self._unsettled_leases.pop(settle.lease.job_id, None)
            self._settled.set()

    async def _settle(self, batch: list[Settle]) -> None:
        now = self.clock()
        completions = [s for s in batch if isinstance(s, Completion)]
        retrials = [s for s in batch if isinstance(s, Retrial)]
        failures = [s for s in batch if isinstance(s, Failure)]
        results: list[bool] = []
        if completions:
            results += await self.backend.complete(self.queue, completions, now)
        if retrials:
            results += await self.backend.retry(self.queue, retrials, now)
        if failures:
            results += await self.backend.fail(self.queue, failures, now)
        if not all(results):
            log.warning("%d settles on queue %r were stale", results.count(False), self.queue)

    async def _heartbeat_loop(self, scope: anyio.CancelScope) -> None:
        # A short interval bounds how long a cancelled job keeps running: cancel() revokes
        # the lease and the next extension notices.
        interval = min(self.lease / 3.0, 1.0)
        last_report = -math.inf
        with scope:
            async with anyio.create_task_group() as renewals:
                # Its own task: renewing many waiting leases on a slow store must not hold
                # up the running jobs' extensions.
                renewals.start_soon(self._renewal_loop, interval)
                while True:
                    now = self.clock()
                    try:
                        await self._extend_leases(now)
                        if now - last_report >= 5.0:
                            await self.backend.record_worker(self._info(now))
                            last_report = now
                    except Exception as exc:
                        self._outage.failed("heartbeat", self.queue, exc)
                    await anyio.sleep(interval)

    async def _renewal_loop(self, interval: float) -> None:
        while True:
            try:
                await self._extend_unsettled(self.clock(), interval)
            except Exception as exc:
                self._outage.failed("renewing waiting leases", self.queue, exc)
            await anyio.sleep(interval)

    async def _extend_leases(self, now: float) -> None:
        running = list(self._running.values())
        if not running:
            return
        kept = await self.backend.extend_lease(
            self.queue, [r.lease for r in running], now + self.lease
        )
        for item, ok in zip(running, kept, strict=True):
            if ok:
                item.until = now + self.lease
            else:
                item.stop("lost")

    async def _extend_unsettled(self, now: float, interval: float) -> None:
        """Renew the leases of finished jobs that would run out before two more beats.

        Settles normally land within milliseconds, so this renews nothing; only when the
        store falls behind does it, in a call and a task of its own (renewing a thousand
        waiting leases with the running jobs' at every beat made the heartbeat itself too slow
        on a slow store).
        """
        due = [
            (job_id, lease)
            for job_id, (lease, until) in self._unsettled_leases.items()
            if until - now < 2 * interval
        ]
        if not due:
            return
        until = now + self.lease
        kept = await self.backend.extend_lease(self.queue, [lease for _, lease in due], until)
        for (job_id, lease), ok in zip(due, kept, strict=True):
            if ok and job_id in self._unsettled_leases:
                self._unsettled_leases[job_id] = (lease, until)

    def _info(self, now: float) -> WorkerInfo:
        return WorkerInfo(
            id=self.id,
            queue=self.queue,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            concurrency=self.concurrency,
            started_at=self._started_at,
            heartbeat_at=now,
            active=len(self._running),
            processed=self.stats.processed,
            failed=self.stats.failed,
        )


def _log_outcome(job: Job, settle: Settle, seconds: float, now: float) -> None:
    """One line per finished attempt: INFO when it completed, WARNING when it will be retried,
    ERROR with the traceback when it failed for good."""
    tries = f"attempt {job.attempts} of {job.retries + 1 + job.stalls}"
    if isinstance(settle, Completion):
        log.info("job %s %s completed in %.3fs (%s)", job.id, job.task_id, seconds, tries)
        return
    error = settle.error
    if isinstance(settle, Retrial):
        log.warning(
            "job %s %s failed in %.3fs (%s), retrying in %.1fs: %s: %s",
            job.id,
            job.task_id,
            seconds,
            tries,
            max(settle.run_at - now, 0.0),
            error.type,
            error.message,
        )
        return
    log.error(
        "job %s %s failed in %.3fs (%s): %s: %s%s",
        job.id,
        job.task_id,
        seconds,
        tries,
        error.type,
        error.message,
        f"\n{error.traceback.rstrip()}" if error.traceback else "",
    )


async def _set_when(event: anyio.Event, then: anyio.Event) -> None:
    await event.wait()
    then.set()


class _Backoff:
    """Exponential sleep between retries of a failing backend call: 0.1 s doubling to 5 s."""

    def __init__(self) -> None:
        self.delay = 0.1

    def reset(self) -> None:
        self.delay = 0.1

    async def sleep(self) -> None:
        await anyio.sleep(self.delay)
        self.delay = min(self.delay * 2, 5.0)

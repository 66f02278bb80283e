"""Background duties of ``Queue.run()`` besides the pool: the scanner (delayed jobs, expired
leases, retention) and the repeatable scheduler (``every=`` and ``cron=``)."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import anyio
from croniter import croniter

from asyncmq import serializers
from asyncmq.backends.base import BaseBackend, Repeatable
from asyncmq.jobs import Job, JobState
from asyncmq.outages import outage_of

log = logging.getLogger("asyncmq.scheduler")

Clock = Callable[[], float]


@dataclass(frozen=True)
class KeepJobs:
    """Retention of finished jobs: keep at most the newest ``count``, none older than ``age``
    seconds. ``KeepJobs(count=0)`` removes them as soon as the scanner passes."""

    count: int | None = None
    age: float | None = None

    @classmethod
    def from_value(cls, value: KeepJobs | bool | int | None) -> KeepJobs | None:
        """``True`` keeps none, an int keeps that many, ``None``/``False`` keeps all."""
        if value is None or value is False:
            return None
        if value is True:
            return cls(count=0)
        if isinstance(value, int):
            return cls(count=value)
        return value


class Scanner:
    """Every ``interval`` seconds: promote due delayed jobs, hand back jobs whose lease ran out,
    apply retention to finished jobs and let the backend do its housekeeping
    (:meth:`~asyncmq.backends.base.BaseBackend.maintain`). Safe to run in many processes at
    once."""

    def __init__(
        self,
        queue: str,
        backend: BaseBackend,
        *,
        interval: float,
        max_stalls: int,
        retention: dict[JobState, KeepJobs] | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.queue = queue
        self.backend = backend
        self.interval = interval
        self.max_stalls = max_stalls
        self.retention = retention or {}
        self.clock = clock

    async def run(self) -> None:
        while True:
            outage = outage_of(self.backend)
            try:
                await self.scan()
            except Exception as exc:
                outage.failed("scan", self.queue, exc)
            else:
                outage.succeeded()
            await anyio.sleep(self.interval)

    async def scan(self) -> None:
        now = self.clock()
        await self.backend.promote_due(self.queue, now)
        moved = await self.backend.requeue_expired(self.queue, now, max_stalls=self.max_stalls)
        if moved:
            log.warning(
                "queue %r: %d jobs lost their lease and were handed back", self.queue, moved
            )
        for state, keep in self.retention.items():
            before = None if keep.age is None else now - keep.age
            # Bounded batches keep each call short; loop while a batch comes back full.
            while (
                await self.backend.clean(
                    self.queue, state, finished_before=before, keep_last=keep.count, limit=1000
                )
                == 1000
            ):
                pass
        await self.backend.maintain(self.queue, now)


def repeatable_key(
    task_id: str, every: float | None, cron: str | None, args: list[Any], kwargs: dict[str, Any]
) -> str:
    """A stable key for a repeatable, so every process that declares it agrees."""
    raw = serializers.dumps([task_id, every, cron, args, kwargs])
    return f"{task_id}:{hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:12]}"


def latest_fire(repeatable: Repeatable, now: float) -> float | None:
    """The latest scheduled instant at or before ``now``, never before the definition's
    ``created_at``; ``None`` if there is none yet. Cron expressions are read in UTC."""
    if repeatable.every is not None:
        if now < repeatable.created_at:
            return None
        ticks = math.floor((now - repeatable.created_at) / repeatable.every)
        return repeatable.created_at + ticks * repeatable.every
    assert repeatable.cron is not None
    start = datetime.fromtimestamp(now, tz=timezone.utc)
    fire = float(croniter(repeatable.cron, start).get_prev(float))
    if croniter.match(repeatable.cron, start) and start.second == 0:
        fire = math.floor(now / 60) * 60.0
    return fire if fire >= repeatable.created_at else None


def next_fire(repeatable: Repeatable, now: float) -> float:
    """The first scheduled instant after ``now``."""
    if repeatable.every is not None:
        if now < repeatable.created_at:
            return repeatable.created_at
        ticks = math.floor((now - repeatable.created_at) / repeatable.every) + 1
        return repeatable.created_at + ticks * repeatable.every
    assert repeatable.cron is not None
    start = datetime.fromtimestamp(now, tz=timezone.utc)
    return float(croniter(repeatable.cron, start).get_next(float))


def tick_job(repeatable: Repeatable, fire_at: float) -> Job:
    """The job of one tick; its id is deterministic so the tick is enqueued once however many
    schedulers see it."""
    job = Job.from_dict({**repeatable.job, "queue": repeatable.queue})
    job.id = f"repeat:{repeatable.key}:{round(fire_at * 1000)}"
    job.created_at = fire_at
    job.run_at = None
    return job


class RepeatableScheduler:
    """Enqueues the latest due tick of every unpaused repeatable of the queue. Missed ticks
    (no scheduler running) are not replayed: only the latest one fires."""

    def __init__(
        self, queue: str, backend: BaseBackend, *, interval: float, clock: Clock = time.time
    ) -> None:
        self.queue = queue
        self.backend = backend
        self.interval = interval
        self.clock = clock
        self._fired: dict[str, float] = {}

    async def run(self) -> None:
        while True:
            try:
                wait = await self.tick()
            except Exception as exc:
                outage_of(self.backend).failed("repeatable scheduler", self.queue, exc)
                wait = self.interval
            await anyio.sleep(wait)

    async def tick(self) -> float:
        """Enqueue what is due; return how long to sleep before the next tick."""
        now = self.clock()
        wait = self.interval
        due: list[Job] = []
        for repeatable in await self.backend.list_repeatables(self.queue):
            if repeatable.paused:
                continue
            fire_at = latest_fire(repeatable, now)
            if fire_at is not None and self._fired.get(repeatable.key) != fire_at:
                due.append(tick_job(repeatable, fire_at))
                self._fired[repeatable.key] = fire_at
            wait = min(wait, max(next_fire(repeatable, now) - now, 0.01))
        if due:
            await self.backend.enqueue(self.queue, due, now)
        return wait

"""The reference backend: the contract in plain Python, state in dicts, no ``await`` inside a
transition. It is the executable specification the other backends are tested against."""

from __future__ import annotations

import copy
import heapq
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from asyncmq.backends.base import (
    BaseBackend,
    Claimed,
    Completion,
    Failure,
    Lease,
    Promoted,
    Repeatable,
    Retrial,
    WorkerInfo,
    dependency_error,
    finished_state,
    stalled_error,
)
from asyncmq.jobs import FINISHED_STATES, Job, JobError, JobState
from asyncmq.ratelimit import RateLimit, TokenBucket


@dataclass
class _Queue:
    jobs: dict[str, Job] = field(default_factory=dict)
    by_state: dict[JobState, dict[str, None]] = field(
        default_factory=lambda: {s: {} for s in JobState}
    )
    waiting: list[tuple[int, int, str]] = field(default_factory=list)
    delayed: list[tuple[float, int, str]] = field(default_factory=list)
    waiting_seq: dict[str, int] = field(default_factory=dict)
    pending: dict[str, set[str]] = field(default_factory=dict)
    dependents: dict[str, set[str]] = field(default_factory=dict)
    paused: bool = False
    bucket: TokenBucket | None = None
    repeatables: dict[str, Repeatable] = field(default_factory=dict)
    workers: dict[str, WorkerInfo] = field(default_factory=dict)
    wakeup: anyio.Event | None = None


class InMemoryBackend(BaseBackend):
    """Jobs in this process's memory: for tests and single-process use, lost on exit."""

    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}
        self._seq = itertools.count()

    def _q(self, queue: str) -> _Queue:
        q = self._queues.get(queue)
        if q is None:
            q = self._queues[queue] = _Queue()
        return q

    # -- internal moves ------------------------------------------------------------------

    def _set_state(self, q: _Queue, job: Job, state: JobState) -> None:
        q.by_state[job.state].pop(job.id, None)
        job.state = state
        q.by_state[state][job.id] = None
        if state is JobState.WAITING:
            seq = next(self._seq)
            q.waiting_seq[job.id] = seq
            heapq.heappush(q.waiting, (job.priority, seq, job.id))
        else:
            q.waiting_seq.pop(job.id, None)
        if state is JobState.DELAYED:
            assert job.run_at is not None
            heapq.heappush(q.delayed, (job.run_at, next(self._seq), job.id))
        self._wake(q, state)

    def _wake(self, q: _Queue, state: JobState) -> None:
        if state in (JobState.WAITING, JobState.DELAYED) and q.wakeup is not None:
            q.wakeup.set()
            q.wakeup = None

    def _ready(self, q: _Queue, job: Job, now: float) -> None:
        later = job.run_at is not None and job.run_at > now
        self._set_state(q, job, JobState.DELAYED if later else JobState.WAITING)

    def _finish(self, q: _Queue, job: Job, state: JobState, now: float) -> None:
        job.finished_at = now
        job.lease_token = None
        job.lease_until = None
        self._set_state(q, job, state)
        if state is JobState.COMPLETED:
            self._release_dependents(q, job.id, now)
        else:
            self._cascade(q, job.id, state.value, now)

    def _release_dependents(self, q: _Queue, job_id: str, now: float) -> None:
        for child_id in sorted(q.dependents.pop(job_id, ())):
            pending = q.pending.get(child_id)
            if pending is None:
                continue
            pending.discard(job_id)
            if not pending:
                del q.pending[child_id]
                self._ready(q, q.jobs[child_id], now)

    def _cascade(self, q: _Queue, job_id: str, what: str, now: float) -> None:
        for child_id in sorted(q.dependents.pop(job_id, ())):
            child = q.jobs.get(child_id)
            if child is None or child.state is not JobState.WAITING_CHILDREN:
                continue
            q.pending.pop(child_id, None)
            child.error = dependency_error(job_id, what)
            self._finish(q, child, JobState.FAILED, now)

    def _held(self, q: _Queue, lease: Lease) -> Job | None:
        job = q.jobs.get(lease.job_id)
        if job is None or job.state is not JobState.ACTIVE or job.lease_token != lease.token:
            return None
        return job

    def _delete(self, q: _Queue, job: Job) -> None:
        del q.jobs[job.id]
        q.by_state[job.state].pop(job.id, None)
        q.waiting_seq.pop(job.id, None)
        for dep in q.pending.pop(job.id, ()):
            q.dependents.get(dep, set()).discard(job.id)

    # -- transitions ---------------------------------------------------------------------

    async def enqueue(
        self, queue: str, jobs: Sequence[Job], now: float, *, connection: object | None = None
    ) -> list[str]:
        if connection is not None:
            raise TypeError("InMemoryBackend cannot join a caller's transaction (connection=)")
        q = self._q(queue)
        ids = []
        for given in jobs:
            ids.append(given.id)
            if given.id in q.jobs:
                continue
            job = _snapshot(given).fresh()
            job.queue = queue
            q.jobs[job.id] = job
            q.by_state[job.state][job.id] = None
            self._admit(q, job, now)
        return ids

    def _admit(self, q: _Queue, job: Job, now: float) -> None:
        pending: set[str] = set()
        for dep_id in job.depends_on:
            dep = q.jobs.get(dep_id)
            if dep is None:
                job.error = dependency_error(dep_id, "does not exist")
                self._finish(q, job, JobState.FAILED, now)
                return
            if dep.state in FINISHED_STATES and dep.state is not JobState.COMPLETED:
                job.error = dependency_error(dep_id, dep.state.value)
                self._finish(q, job, JobState.FAILED, now)
                return
            if dep.state is not JobState.COMPLETED:
                pending.add(dep_id)
        if pending:
            q.pending[job.id] = pending
            for dep_id in pending:
                q.dependents.setdefault(dep_id, set()).add(job.id)
            self._set_state(q, job, JobState.WAITING_CHILDREN)
        else:
            self._ready(q, job, now)

    async def claim(
        self,
        queue: str,
        limit: int,
        *,
        lease: float,
        token: str,
        now: float,
        rate: RateLimit | None = None,
    ) -> Claimed:
        q = self._q(queue)
        if q.paused or limit <= 0:
            return Claimed([])
        wanted = limit
        if rate is not None:
            if q.bucket is None or q.bucket.rate != rate:
                q.bucket = TokenBucket.full(rate, now)
            wanted = q.bucket.take(limit, now)
        taken: list[Job] = []
        while q.waiting and len(taken) < wanted:
            _, seq, job_id = heapq.heappop(q.waiting)
            if q.waiting_seq.get(job_id) != seq:
                continue
            job = q.jobs[job_id]
            if job.ttl is not None and job.attempts == 0 and job.created_at + job.ttl <= now:
                job.error = JobError("JobExpiredError", f"not started within ttl={job.ttl}s")
                self._finish(q, job, JobState.EXPIRED, now)
                continue
            job.attempts += 1
            job.started_at = now
            job.lease_token = token
            job.lease_until = now + lease
            self._set_state(q, job, JobState.ACTIVE)
            taken.append(_snapshot(job))
        throttled: float | None = None
        if rate is not None and q.bucket is not None:
            q.bucket.give_back(wanted - len(taken))
            if wanted < limit and len(taken) == wanted:
                nxt = q.bucket.next_token_at(now)
                throttled = math.inf if nxt is None else nxt
        return Claimed(taken, throttled)

    async def extend_lease(self, queue: str, leases: Sequence[Lease], until: float) -> list[bool]:
        q = self._q(queue)
        out = []
        for lease in leases:
            job = self._held(q, lease)
            if job is not None:
                job.lease_until = until
            out.append(job is not None)
        return out

    async def complete(self, queue: str, items: Sequence[Completion], now: float) -> list[bool]:
        q = self._q(queue)
        out = []
        for item in items:
            job = self._held(q, item.lease)
            if job is not None:
                job.result = copy.deepcopy(item.result)
                self._finish(q, job, JobState.COMPLETED, now)
            out.append(job is not None)
        return out

    async def retry(self, queue: str, items: Sequence[Retrial], now: float) -> list[bool]:
        q = self._q(queue)
        out = []
        for item in items:
            job = self._held(q, item.lease)
            if job is not None:
                job.error = item.error
                job.run_at = item.run_at
                job.lease_token = None
                job.lease_until = None
                self._ready(q, job, now)
            out.append(job is not None)
        return out

    async def fail(self, queue: str, items: Sequence[Failure], now: float) -> list[bool]:
        q = self._q(queue)
        out = []
        for item in items:
            job = self._held(q, item.lease)
            if job is not None:
                job.error = item.error
                self._finish(q, job, JobState.FAILED, now)
            out.append(job is not None)
        return out

    async def promote_due(self, queue: str, now: float) -> Promoted:
        q = self._q(queue)
        count = 0
        while q.delayed and q.delayed[0][0] <= now:
            run_at, _, job_id = heapq.heappop(q.delayed)
            job = q.jobs.get(job_id)
            if job is None or job.state is not JobState.DELAYED or job.run_at != run_at:
                continue
            self._set_state(q, job, JobState.WAITING)
            count += 1
        while q.delayed:
            run_at, _, job_id = q.delayed[0]
            job = q.jobs.get(job_id)
            if job is not None and job.state is JobState.DELAYED and job.run_at == run_at:
                return Promoted(count, run_at)
            heapq.heappop(q.delayed)
        return Promoted(count, None)

    async def requeue_expired(self, queue: str, now: float, *, max_stalls: int) -> int:
        q = self._q(queue)
        moved = 0
        for job_id in list(q.by_state[JobState.ACTIVE]):
            job = q.jobs[job_id]
            if job.lease_until is None or job.lease_until > now:
                continue
            job.stalls += 1
            moved += 1
            if job.stalls > max_stalls:
                job.error = stalled_error(job.stalls, max_stalls)
                self._finish(q, job, JobState.FAILED, now)
            else:
                job.lease_token = None
                job.lease_until = None
                self._set_state(q, job, JobState.WAITING)
        return moved

    async def wait_for_jobs(self, queue: str, timeout: float) -> None:
        q = self._q(queue)
        if q.wakeup is None:
            q.wakeup = anyio.Event()
        with anyio.move_on_after(timeout):
            await q.wakeup.wait()

    # -- inspection and admin ------------------------------------------------------------

    async def get_job(self, queue: str, job_id: str) -> Job | None:
        job = self._q(queue).jobs.get(job_id)
        return None if job is None else _snapshot(job)

    async def list_jobs(
        self, queue: str, state: JobState, *, offset: int = 0, limit: int = 100
    ) -> list[Job]:
        q = self._q(queue)
        jobs = [q.jobs[i] for i in q.by_state[JobState(state)]]
        if state is JobState.WAITING:
            jobs.sort(key=lambda j: (j.priority, q.waiting_seq[j.id]))
        elif state is JobState.DELAYED:
            jobs.sort(key=lambda j: j.run_at or 0.0)
        elif state in FINISHED_STATES:
            jobs.sort(key=lambda j: -(j.finished_at or 0.0))
        return [_snapshot(j) for j in jobs[offset : offset + limit]]

    async def counts(self, queue: str) -> dict[JobState, int]:
        q = self._q(queue)
        return {state: len(ids) for state, ids in q.by_state.items()}

    async def list_queues(self) -> list[str]:
        return sorted(
            name
            for name, q in self._queues.items()
            if q.jobs or q.repeatables or q.paused or q.workers
        )

    async def pause(self, queue: str) -> None:
        self._q(queue).paused = True

    async def resume(self, queue: str) -> None:
        q = self._q(queue)
        q.paused = False
        self._wake(q, JobState.WAITING)

    async def is_paused(self, queue: str) -> bool:
        return self._q(queue).paused

    async def cancel(self, queue: str, job_id: str, now: float) -> bool:
        q = self._q(queue)
        job = q.jobs.get(job_id)
        if job is None or job.is_finished:
            return False
        for dep in q.pending.pop(job.id, ()):
            q.dependents.get(dep, set()).discard(job.id)
        self._finish(q, job, JobState.CANCELLED, now)
        return True

    async def retry_job(self, queue: str, job_id: str, now: float) -> bool:
        q = self._q(queue)
        job = q.jobs.get(job_id)
        if job is None or job.state not in FINISHED_STATES or job.state is JobState.COMPLETED:
            return False
        job.attempts = job.stalls = 0
        job.error = None
        job.finished_at = None
        job.run_at = None
        self._set_state(q, job, JobState.WAITING)
        return True

    async def remove(self, queue: str, job_id: str, now: float) -> bool:
        q = self._q(queue)
        job = q.jobs.get(job_id)
        if job is None:
            return False
        self._delete(q, job)
        self._cascade(q, job_id, "was removed", now)
        return True

    async def clean(
        self,
        queue: str,
        state: JobState,
        *,
        finished_before: float | None = None,
        keep_last: int | None = None,
        limit: int = 1000,
    ) -> int:
        state = finished_state(state)
        q = self._q(queue)
        newest_first = sorted(
            (q.jobs[i] for i in q.by_state[state]), key=lambda j: -(j.finished_at or 0.0)
        )
        doomed = []
        for index, job in enumerate(newest_first):
            too_old = finished_before is not None and (job.finished_at or 0.0) < finished_before
            too_many = keep_last is not None and index >= keep_last
            if too_old or too_many:
                doomed.append(job)
        for job in doomed[:limit]:
            self._delete(q, job)
            q.dependents.pop(job.id, None)
        return min(len(doomed), limit)

    async def drain(self, queue: str) -> int:
        q = self._q(queue)
        doomed = [
            q.jobs[i]
            for s in (JobState.WAITING, JobState.DELAYED, JobState.WAITING_CHILDREN)
            for i in q.by_state[s]
        ]
        for job in doomed:
            self._delete(q, job)
        return len(doomed)

    async def obliterate(self, queue: str) -> int:
        q = self._queues.pop(queue, None)
        if q is None:
            return 0
        if q.wakeup is not None:
            q.wakeup.set()
        return len(q.jobs)

    async def update_progress(self, queue: str, lease: Lease, progress: Any) -> bool:
        job = self._held(self._q(queue), lease)
        if job is not None:
            job.progress = copy.deepcopy(progress)
        return job is not None

    # -- repeatables and workers ---------------------------------------------------------

    async def save_repeatable(self, repeatable: Repeatable) -> None:
        q = self._q(repeatable.queue)
        old = q.repeatables.get(repeatable.key)
        if old is not None:
            kept = {"created_at": old.created_at, "paused": old.paused}
            repeatable = Repeatable(**{**repeatable.to_dict(), **kept})
        q.repeatables[repeatable.key] = repeatable

    async def list_repeatables(self, queue: str) -> list[Repeatable]:
        return list(self._q(queue).repeatables.values())

    async def remove_repeatable(self, queue: str, key: str) -> bool:
        return self._q(queue).repeatables.pop(key, None) is not None

    async def set_repeatable_paused(self, queue: str, key: str, paused: bool) -> bool:
        q = self._q(queue)
        old = q.repeatables.get(key)
        if old is None:
            return False
        q.repeatables[key] = Repeatable(**{**old.to_dict(), "paused": paused})
        return True

    async def record_worker(self, info: WorkerInfo) -> None:
        self._q(info.queue).workers[info.id] = info

    async def remove_worker(self, queue: str, worker_id: str) -> None:
        self._q(queue).workers.pop(worker_id, None)

    async def list_workers(self, queue: str, *, seen_since: float) -> list[WorkerInfo]:
        q = self._q(queue)
        for worker_id in [w.id for w in q.workers.values() if w.heartbeat_at < seen_since]:
            del q.workers[worker_id]
        return list(q.workers.values())


def _snapshot(job: Job) -> Job:
    """A copy the caller may mutate without touching the stored job."""
    return Job.from_dict(copy.deepcopy(job.to_dict()))

"""The SQLite backend against the reference: the same random run of transitions on both gives
the same answers and leaves the same jobs, in the same listing order."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from asyncmq.backends.base import BaseBackend, Completion, Failure, Lease, Retrial
from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.backends.sqlite import SQLiteBackend
from asyncmq.jobs import Job, JobError, JobState
from asyncmq.ratelimit import RateLimit

pytestmark = pytest.mark.anyio

Q = "q"
T0 = 1_700_000_000.0


class Run:
    """Draws one random step at a time and applies it to every backend alike."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = T0
        self.ids: list[str] = []
        self.leases: list[Lease] = []
        self.count = 0

    def new_job(self) -> Job:
        self.count += 1
        deps = self.rng.sample(self.ids, k=min(len(self.ids), self.rng.choice([0, 0, 0, 1, 2])))
        if self.rng.random() < 0.05:
            deps.append("missing")
        job = Job(
            "t.task",
            args=[self.count],
            id=f"j{self.count}",
            priority=self.rng.choice([1, 5, 5, 9]),
            ttl=self.rng.choice([None, None, None, 3.0]),
            run_at=self.rng.choice([None, None, self.now + self.rng.choice([0, 1, 4])]),
            depends_on=deps,
            created_at=self.now,
        )
        self.ids.append(job.id)
        return job

    def step(self) -> tuple[str, Any]:
        rng = self.rng
        self.now += rng.choice([0.0, 0.5, 1.0, 2.0])
        kind = rng.choice(
            ["enqueue"] * 4 + ["claim"] * 4 + ["settle"] * 4 + ["promote", "requeue", "admin"]
        )
        if kind == "enqueue":
            jobs = [self.new_job() for _ in range(rng.randint(1, 4))]
            if self.ids and rng.random() < 0.2:
                jobs.append(Job("t.task", id=rng.choice(self.ids), created_at=self.now))
            return kind, jobs
        if kind == "claim":
            rate = rng.choice([None, None, RateLimit(3, 2.0)])
            return kind, (rng.randint(1, 4), f"tok{self.count}-{rng.random()}", rate)
        if kind == "settle":
            picked = rng.sample(self.leases, k=min(len(self.leases), rng.randint(1, 3)))
            if picked and rng.random() < 0.2:
                picked.append(Lease(picked[0].job_id, "stale"))
            return rng.choice(["complete", "retry", "fail", "extend"]), picked
        if kind == "admin":
            target = rng.choice(self.ids) if self.ids else "none"
            return rng.choice(["cancel", "remove", "retry_job", "clean", "drain_rarely"]), target
        return kind, None

    async def apply(self, backend: BaseBackend, kind: str, arg: Any) -> Any:
        now = self.now
        if kind == "enqueue":
            return await backend.enqueue(Q, [Job.from_dict(j.to_dict()) for j in arg], now)
        if kind == "claim":
            limit, token, rate = arg
            claimed = await backend.claim(Q, limit, lease=3.0, token=token, now=now, rate=rate)
            return [j.to_dict() for j in claimed.jobs], claimed.throttled_until
        if kind == "complete":
            return await backend.complete(Q, [Completion(le, le.job_id) for le in arg], now)
        if kind == "retry":
            error = JobError("E", "again")
            return await backend.retry(Q, [Retrial(le, error, now + 1) for le in arg], now)
        if kind == "fail":
            return await backend.fail(Q, [Failure(le, JobError("E", "no")) for le in arg], now)
        if kind == "extend":
            return await backend.extend_lease(Q, arg, now + 5)
        if kind == "promote":
            return await backend.promote_due(Q, now)
        if kind == "requeue":
            return await backend.requeue_expired(Q, now, max_stalls=1)
        if kind == "cancel":
            return await backend.cancel(Q, arg, now)
        if kind == "remove":
            return await backend.remove(Q, arg, now)
        if kind == "retry_job":
            return await backend.retry_job(Q, arg, now)
        if kind == "clean":
            return await backend.clean(Q, JobState.COMPLETED, keep_last=3, limit=2)
        if self.rng.random() < 0.1:
            return await backend.drain(Q)
        return None


async def snapshot(backend: BaseBackend) -> dict[str, Any]:
    """Counts, and every job of every state in listing order."""
    listed = {
        state.value: [j.to_dict() for j in await backend.list_jobs(Q, state, limit=1000)]
        for state in JobState
    }
    return {"counts": await backend.counts(Q), "jobs": listed}


@pytest.mark.parametrize("seed", range(6))
async def test_a_random_run_matches_the_reference(seed: int, tmp_path: Path) -> None:
    run = Run(seed)
    reference = InMemoryBackend()
    async with SQLiteBackend(tmp_path / "same.db") as sqlite:
        for _ in range(120):
            kind, arg = run.step()
            state = run.rng.getstate()
            expected = await run.apply(reference, kind, arg)
            run.rng.setstate(state)  # the drain draw must come out the same for both
            got = await run.apply(sqlite, kind, arg)
            assert got == expected, (kind, arg)
            if kind == "claim":
                run.leases.extend(Lease(j["id"], j["lease_token"]) for j in got[0])
            assert await snapshot(sqlite) == await snapshot(reference), (kind, arg)

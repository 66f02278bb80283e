from __future__ import annotations

import math

import anyio
import pytest

from asyncmq.backends.base import BaseBackend
from asyncmq.jobs import JobState
from asyncmq.ratelimit import RateLimit
from tests.conformance import T0, job

pytestmark = pytest.mark.anyio


async def test_claim_orders_by_priority_then_fifo(backend: BaseBackend, queue_name: str) -> None:
    jobs = [
        job(queue_name, id="p5-a", priority=5),
        job(queue_name, id="p1-a", priority=1),
        job(queue_name, id="p5-b", priority=5),
        job(queue_name, id="p1-b", priority=1),
        job(queue_name, id="p9", priority=9),
    ]
    for j in jobs:  # separate calls so arrival order is unambiguous
        await backend.enqueue(queue_name, [j], T0)
    listed = await backend.list_jobs(queue_name, JobState.WAITING)
    assert [j.id for j in listed] == ["p1-a", "p1-b", "p5-a", "p5-b", "p9"]
    claimed = await backend.claim(queue_name, 3, lease=30, token="t", now=T0)
    assert [j.id for j in claimed.jobs] == ["p1-a", "p1-b", "p5-a"]
    claimed = await backend.claim(queue_name, 10, lease=30, token="t2", now=T0)
    assert [j.id for j in claimed.jobs] == ["p5-b", "p9"]
    assert (await backend.claim(queue_name, 10, lease=30, token="t3", now=T0)).jobs == []


async def test_claim_sets_the_lease(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    (claimed,) = (await backend.claim(queue_name, 5, lease=30, token="tok", now=T0 + 2)).jobs
    assert claimed.state is JobState.ACTIVE
    assert claimed.attempts == 1
    assert claimed.lease_token == "tok"
    assert claimed.lease_until == T0 + 32
    assert claimed.started_at == T0 + 2
    stored = await backend.get_job(queue_name, claimed.id)
    assert stored is not None and stored.state is JobState.ACTIVE
    counts = await backend.counts(queue_name)
    assert (counts[JobState.WAITING], counts[JobState.ACTIVE]) == (0, 1)


async def test_paused_queue_gives_nothing(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    await backend.pause(queue_name)
    assert await backend.is_paused(queue_name)
    assert (await backend.claim(queue_name, 5, lease=30, token="t", now=T0)).jobs == []
    await backend.resume(queue_name)
    assert not await backend.is_paused(queue_name)
    assert len((await backend.claim(queue_name, 5, lease=30, token="t", now=T0)).jobs) == 1


async def test_ttl_passed_expires_instead_of_running(backend: BaseBackend, queue_name: str) -> None:
    old = job(queue_name, id="old", ttl=5.0)
    fresh = job(queue_name, id="fresh", ttl=100.0)
    await backend.enqueue(queue_name, [old, fresh], T0)
    claimed = await backend.claim(queue_name, 1, lease=30, token="t", now=T0 + 10)
    assert [j.id for j in claimed.jobs] == ["fresh"]
    stored = await backend.get_job(queue_name, "old")
    assert stored is not None
    assert stored.state is JobState.EXPIRED
    assert stored.finished_at == T0 + 10
    assert (await backend.counts(queue_name))[JobState.EXPIRED] == 1


async def test_rate_limit_is_a_token_bucket(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name) for _ in range(10)], T0)
    rate = RateLimit(2, 1.0)
    first = await backend.claim(queue_name, 5, lease=30, token="a", now=T0, rate=rate)
    assert len(first.jobs) == 2
    assert first.throttled_until is not None
    assert T0 < first.throttled_until <= T0 + 0.5 + 1e-6
    assert (await backend.claim(queue_name, 5, lease=30, token="b", now=T0, rate=rate)).jobs == []
    half = await backend.claim(queue_name, 5, lease=30, token="c", now=T0 + 0.5, rate=rate)
    assert len(half.jobs) == 1
    later = await backend.claim(queue_name, 5, lease=30, token="d", now=T0 + 10, rate=rate)
    assert len(later.jobs) == 2  # the bucket never holds more than the limit


async def test_rate_limit_zero_blocks(backend: BaseBackend, queue_name: str) -> None:
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    claimed = await backend.claim(queue_name, 5, lease=30, token="t", now=T0, rate=RateLimit(0))
    assert claimed.jobs == []
    assert claimed.throttled_until == math.inf


async def test_concurrent_claimers_never_share_a_job(backend: BaseBackend, queue_name: str) -> None:
    total = 150
    await backend.enqueue(queue_name, [job(queue_name) for _ in range(total)], T0)
    seen: list[str] = []

    async def claimer(n: int) -> None:
        for i in range(total):
            got = await backend.claim(queue_name, 4, lease=30, token=f"w{n}-{i}", now=T0)
            if not got.jobs:
                return
            seen.extend(j.id for j in got.jobs)

    async with anyio.create_task_group() as tg:
        for n in range(8):
            tg.start_soon(claimer, n)
    assert len(seen) == total
    assert len(set(seen)) == total

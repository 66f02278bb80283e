"""One test per invariant of the backend contract, run against every backend."""

from __future__ import annotations

from typing import Any

from asyncmq.backends.base import BaseBackend, Lease
from asyncmq.jobs import Job

T0 = 1_700_000_000.0


def job(queue: str, **fields: Any) -> Job:
    """A job for ``queue`` with ``created_at=T0`` unless given."""
    fields.setdefault("task_id", "tests.noop")
    fields.setdefault("created_at", T0)
    return Job(queue=queue, **fields)


async def claim_one(backend: BaseBackend, queue: str, now: float = T0, token: str = "tok") -> Job:
    claimed = await backend.claim(queue, 1, lease=30.0, token=token, now=now)
    assert len(claimed.jobs) == 1, claimed
    return claimed.jobs[0]


def lease_of(j: Job) -> Lease:
    assert j.lease_token is not None
    return Lease(j.id, j.lease_token)

"""How a job is stored: the fields of its hash, the enqueue script's arguments, and the Job
read back from a script's or HMGET's reply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncmq.backoff import Backoff
from asyncmq.jobs import Job, JobError, JobState
from asyncmq.serializers import dumps, loads

#: The job hash fields that make up a Job, in the order of common.lua's JOB_FIELDS.
JOB_FIELDS = (
    "data",
    "state",
    "priority",
    "run_at",
    "attempts",
    "stalls",
    "started_at",
    "finished_at",
    "result",
    "error",
    "progress",
    "lease_token",
    "lease_until",
)


def num(value: float) -> str:
    """An instant or duration as the exact decimal Lua and Redis parse back to the same float."""
    return repr(float(value))


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def number(value: bytes | str | None) -> float | None:
    return None if value is None else float(value)


def decode(queue: str, row: Sequence[Any]) -> Job:
    """A Job from ``[id, *JOB_FIELDS values]``."""
    (
        job_id,
        data,
        state,
        priority,
        run_at,
        attempts,
        stalls,
        started_at,
        finished_at,
        result,
        error,
        progress,
        token,
        lease_until,
    ) = row
    # Once per claimed job, so the common cases are spelt out: a dict for the state, no
    # helper calls for the absent fields.
    fields = loads(data)
    get = fields.get
    backoff = get("backoff")
    job_state = _STATES.get(state) or JobState(text(state))
    if job_state is not JobState.ACTIVE:
        token = lease_until = None  # complete leaves them: a lease means nothing once settled
    return Job(
        task_id=fields["task_id"],
        args=get("args") or [],
        kwargs=get("kwargs") or {},
        id=job_id.decode() if type(job_id) is bytes else job_id,
        queue=queue,
        priority=int(priority),
        retries=get("retries", 0),
        backoff=None if backoff is None else Backoff.from_value(backoff),
        ttl=get("ttl"),
        timeout=get("timeout"),
        depends_on=get("depends_on") or [],
        created_at=fields["created_at"],
        run_at=None if run_at is None else float(run_at),
        hard_timeout=get("hard_timeout"),
        context=get("context") or {},
        state=job_state,
        attempts=int(attempts or 0),
        stalls=int(stalls or 0),
        started_at=None if started_at is None else float(started_at),
        finished_at=None if finished_at is None else float(finished_at),
        result=None if result is None else loads(result),
        error=None if error is None else JobError.from_dict(loads(error)),
        progress=None if progress is None else loads(progress),
        lease_token=None if token is None else text(token),
        lease_until=None if lease_until is None else float(lease_until),
    )


_STATES: dict[Any, JobState] = {s.value.encode(): s for s in JobState}


def _encode_job(job: Job) -> list[Any]:
    """The enqueue script's arguments for one job."""
    # Fields at their defaults are left out: a third of the blob for a typical job.
    producer: dict[str, Any] = {"task_id": job.task_id, "created_at": job.created_at}
    if job.args:
        producer["args"] = job.args
    if job.kwargs:
        producer["kwargs"] = job.kwargs
    if job.retries:
        producer["retries"] = job.retries
    if job.backoff is not None:
        producer["backoff"] = job.backoff.to_dict()
    if job.ttl is not None:
        producer["ttl"] = job.ttl
    if job.timeout is not None:
        producer["timeout"] = job.timeout
    if job.depends_on:
        producer["depends_on"] = job.depends_on
    if job.hard_timeout is not None:
        producer["hard_timeout"] = job.hard_timeout
    if job.context:
        producer["context"] = job.context
    ttl = job.ttl
    return [
        job.id,
        dumps(producer),
        int(job.priority),
        "" if job.run_at is None else num(job.run_at),
        "" if ttl is None else num(job.created_at + ttl),
        "" if ttl is None else str(ttl),
        len(job.depends_on),
        *job.depends_on,
    ]


def enqueue_args(now_s: str, jobs: Sequence[Job], first_seq: int | None = None) -> list[Any]:
    args: list[Any] = [now_s, len(jobs), "" if first_seq is None else first_seq]
    for job in jobs:
        args += _encode_job(job)
    return args

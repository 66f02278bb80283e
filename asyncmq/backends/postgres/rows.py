"""Jobs to SQL parameters and rows back to jobs. JSON travels as text and is cast in SQL, so
the statements also run on a caller's connection that has no custom type codecs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncmq.backends.base import Repeatable, WorkerInfo
from asyncmq.backoff import Backoff
from asyncmq.jobs import Job, JobError, JobState
from asyncmq.serializers import dumps, loads

_STATES = {s.value: s for s in JobState}


def to_json(value: Any) -> str | None:
    """JSON text of ``value``; ``None`` stays SQL NULL."""
    return None if value is None else dumps(value).decode()


def _from_json(text: str | None) -> Any:
    return None if text is None else loads(text)


def job_arrays(jobs: Sequence[Job]) -> list[list[Any]]:
    """The per-field arrays of enqueue.sql:insert, ``$3`` to ``$13``."""
    return [
        [j.id for j in jobs],
        [j.task_id for j in jobs],
        [dumps(j.args).decode() for j in jobs],
        [dumps(j.kwargs).decode() for j in jobs],
        [j.priority for j in jobs],
        [j.retries for j in jobs],
        [None if j.backoff is None else dumps(j.backoff.to_dict()).decode() for j in jobs],
        [j.ttl for j in jobs],
        [j.timeout for j in jobs],
        [j.created_at for j in jobs],
        [j.run_at for j in jobs],
    ]


COPY_COLUMNS = (
    "queue",
    "id",
    "task_id",
    "args",
    "kwargs",
    "priority",
    "retries",
    "backoff",
    "ttl",
    "timeout",
    "created_at",
    "run_at",
    "state",
)


def copy_records(queue: str, jobs: Sequence[Job], now: float) -> list[tuple[Any, ...]]:
    """Rows of ``COPY_COLUMNS`` for new jobs without dependencies."""
    waiting, delayed = JobState.WAITING.value, JobState.DELAYED.value
    return [
        (
            queue,
            j.id,
            j.task_id,
            dumps(j.args).decode(),
            dumps(j.kwargs).decode(),
            j.priority,
            j.retries,
            None if j.backoff is None else dumps(j.backoff.to_dict()).decode(),
            j.ttl,
            j.timeout,
            j.created_at,
            j.run_at,
            delayed if j.run_at is not None and j.run_at > now else waiting,
        )
        for j in jobs
    ]


def error_json(error: JobError) -> str:
    return dumps(error.to_dict()).decode()


def job_from_row(row: Any, queue: str, at: int = 0) -> Job:
    """A job from the 22 job columns of a row, starting at column ``at``."""
    args, kwargs, backoff, depends_on = row[at + 2], row[at + 3], row[at + 6], row[at + 9]
    error = row[at + 18]
    return Job(
        id=row[at],
        task_id=row[at + 1],
        args=[] if args is None else loads(args),
        kwargs={} if kwargs is None else loads(kwargs),
        queue=queue,
        priority=row[at + 4],
        retries=row[at + 5],
        backoff=None if backoff is None else Backoff.from_value(loads(backoff)),
        ttl=row[at + 7],
        timeout=row[at + 8],
        depends_on=[] if depends_on is None else loads(depends_on),
        created_at=row[at + 10],
        run_at=row[at + 11],
        state=_STATES[row[at + 12]],
        attempts=row[at + 13],
        stalls=row[at + 14],
        started_at=row[at + 15],
        finished_at=row[at + 16],
        result=_from_json(row[at + 17]),
        error=None if error is None else JobError.from_dict(loads(error)),
        progress=_from_json(row[at + 19]),
        lease_token=row[at + 20],
        lease_until=row[at + 21],
    )


def repeatable_from_row(row: Any, queue: str) -> Repeatable:
    key, job, every, cron, created_at, paused = row
    return Repeatable(key, queue, loads(job), every, cron, created_at, paused)


def worker_from_json(text: str) -> WorkerInfo:
    return WorkerInfo.from_dict(loads(text))

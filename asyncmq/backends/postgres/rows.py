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
    """The per-field arrays of enqueue.sql:insert, ``$3`` to ``$15``."""
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
        [j.hard_timeout for j in jobs],
        [dumps(j.context).decode() if j.context else None for j in jobs],
    ]


COPY_COLUMNS = (
    "queue",
    "id",
    "task_id",
    "args",
    "kwargs",
    "context",
    "priority",
    "retries",
    "backoff",
    "ttl",
    "timeout",
    "hard_timeout",
    "created_at",
    "run_at",
    "state",
)


# COPY's text format: a tab between fields, a newline after each row, \N for NULL, and a
# backslash before any backslash, tab, newline or carriage return inside a value.
_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    """A string value as COPY text; the check is cheap and most values need nothing."""
    if "\\" in value or not value.isprintable():
        return value.translate(_ESCAPES)
    return value


def _json_text(value: Any) -> str:
    # orjson writes control characters as escapes, so only backslashes need doubling
    text = dumps(value).decode()
    return text.replace("\\", "\\\\") if "\\" in text else text


def _float_text(value: float | None) -> str:
    return _NULL if value is None else repr(value)


def copy_text(queue: str, jobs: Sequence[Job], now: float) -> bytes:
    """Rows of ``COPY_COLUMNS`` in COPY's text format, for new jobs without dependencies.

    Text rather than asyncpg's binary records: the server writes text rows to the table in
    batches of 64 kB as they arrive, so it works on one chunk while the next is encoded
    here, where a binary COPY keeps up to a thousand rows before writing any (and PostgreSQL
    15 spends time quadratic in that batch tracking its row slots).

    The server starts a batch only once 64 kB of rows have come, so this runs on the
    critical path: the fields after ``context``, alike across the jobs of one call, are
    formatted once per distinct set. An empty context is NULL, and consecutive jobs that
    share one context dict encode it once.
    """
    queue_text = _text(queue) + "\t"
    task_texts: dict[str, str] = {}
    tails: dict[tuple[Any, ...], str] = {}
    last_context: dict[str, Any] | None = None
    context_text = _NULL
    lines: list[str] = []
    append = lines.append
    for j in jobs:
        task_text = task_texts.get(j.task_id)
        if task_text is None:
            task_text = task_texts[j.task_id] = _text(j.task_id)
        key = (
            j.priority,
            j.retries,
            j.backoff,
            j.ttl,
            j.timeout,
            j.hard_timeout,
            j.created_at,
            j.run_at,
        )
        tail = tails.get(key)
        if tail is None:
            tail = tails[key] = _tail(j, now)
        context = j.context
        if context is not last_context:
            last_context = context
            context_text = _json_text(context) if context else _NULL
        kwargs = _json_text(j.kwargs) if j.kwargs else "{}"
        append(
            f"{queue_text}{_text(j.id)}\t{task_text}\t{_json_text(j.args)}\t{kwargs}\t"
            f"{context_text}\t{tail}"
        )
    return "".join(lines).encode()


def _tail(job: Job, now: float) -> str:
    """The fields from ``priority`` to ``state``, and the row's end."""
    backoff = _NULL if job.backoff is None else _json_text(job.backoff.to_dict())
    run_at = job.run_at
    state = JobState.DELAYED if run_at is not None and run_at > now else JobState.WAITING
    return (
        f"{job.priority}\t{job.retries}\t{backoff}\t{_float_text(job.ttl)}\t"
        f"{_float_text(job.timeout)}\t{_float_text(job.hard_timeout)}\t{job.created_at!r}\t"
        f"{_float_text(run_at)}\t{state.value}\n"
    )


def error_json(error: JobError) -> str:
    return dumps(error.to_dict()).decode()


def job_from_row(row: Any, queue: str, at: int = 0) -> Job:
    """A job from the 24 job columns of a row, starting at column ``at``."""
    args, kwargs, backoff, depends_on = row[at + 2], row[at + 3], row[at + 6], row[at + 9]
    error, context = row[at + 18], row[at + 23]
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
        hard_timeout=row[at + 22],
        context={} if context is None else loads(context),
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

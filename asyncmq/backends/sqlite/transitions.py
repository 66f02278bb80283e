"""The contract's transitions over one SQLite connection, in plain blocking code: the backend
runs each one in a worker thread inside one ``BEGIN IMMEDIATE`` transaction. The helpers of
:class:`Moves` mirror those of the in-memory reference backend, step for step."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from asyncmq import serializers
from asyncmq.backends.base import (
    Claimed,
    Completion,
    Failure,
    Lease,
    Promoted,
    Retrial,
    dependency_error,
    stalled_error,
)
from asyncmq.backends.sqlite.statements import load
from asyncmq.backoff import Backoff
from asyncmq.jobs import Job, JobError, JobState
from asyncmq.ratelimit import RateLimit, TokenBucket

_MOVES = load("moves")
_ENQUEUE = load("enqueue")
_CLAIM = load("claim")
_EXTEND = load("extend_lease")["extend_lease"]
_COMPLETE = load("complete")["complete"]
_RETRY = load("retry")["retry"]
_FAIL = load("fail")["fail"]
_PROMOTE = load("promote_due")
_REQUEUE = load("requeue_expired")
_CANCEL = load("cancel")["unfinished"]
_RETRY_JOB = load("retry_job")["retry_job"]
_REMOVE = load("remove")["remove"]
_CLEAN = load("clean")["clean"]
_DRAIN = load("drain")
_OBLITERATE = load("obliterate")
_PAUSE = load("pause")["set_paused"]
_PROGRESS = load("update_progress")["update_progress"]


def encode(value: Any) -> bytes | None:
    """JSON for a nullable column: ``None`` is stored as NULL."""
    return None if value is None else serializers.dumps(value)


def _decode(blob: bytes | None) -> Any:
    return None if blob is None else serializers.loads(blob)


def job_data(job: Job) -> bytes:
    """The producer's fields that no query reads, as one JSON document."""
    fields: dict[str, Any] = {
        "task_id": job.task_id,
        "args": job.args,
        "kwargs": job.kwargs,
        "retries": job.retries,
        "backoff": job.backoff.to_dict() if job.backoff else None,
        "timeout": job.timeout,
        "depends_on": job.depends_on,
    }
    # Keys newer than schema version 1 are written only when set, and read with defaults:
    # rows of older files lack them, and a typical job's document stays as it was.
    if job.hard_timeout is not None:
        fields["hard_timeout"] = job.hard_timeout
    if job.context:
        fields["context"] = job.context
    return serializers.dumps(fields)


def job_from_row(row: Sequence[Any]) -> Job:
    """A job from the column list every job-returning statement selects."""
    (queue, job_id, state, priority, run_at, created_at, ttl, attempts, stalls) = row[:9]
    (started_at, finished_at, lease_token, lease_until, data, result, error, progress) = row[9:]
    fields = serializers.loads(data)
    return Job(
        task_id=fields["task_id"],
        args=fields["args"],
        kwargs=fields["kwargs"],
        id=job_id,
        queue=queue,
        priority=priority,
        retries=fields["retries"],
        backoff=Backoff.from_value(fields["backoff"]),
        ttl=ttl,
        timeout=fields["timeout"],
        depends_on=fields["depends_on"],
        created_at=created_at,
        run_at=run_at,
        hard_timeout=fields.get("hard_timeout"),
        context=fields.get("context") or {},
        state=JobState(state),
        attempts=attempts,
        stalls=stalls,
        started_at=started_at,
        finished_at=finished_at,
        result=_decode(result),
        error=None if error is None else JobError.from_dict(serializers.loads(error)),
        progress=_decode(progress),
        lease_token=lease_token,
        lease_until=lease_until,
    )


class Moves:
    """The moves of one transaction on one queue.

    Claim-order numbers are handed out from the queue row and written back, together with a
    wake-up version bump when a job became ``waiting`` or ``delayed``, by :meth:`save`.
    """

    def __init__(self, conn: sqlite3.Connection, queue: str) -> None:
        self.conn = conn
        self.queue = queue
        self.woke = False
        self._seq: int | None = None
        self._edges: bool | None = None  # whether the queue has dependency edges at all

    def next_seq(self) -> int:
        if self._seq is None:
            row = self.conn.execute(_MOVES["next_seq"], {"queue": self.queue}).fetchone()
            self._seq = 0 if row is None else int(row[0])
        self._seq += 1
        return self._seq

    def save(self) -> None:
        if self._seq is None and not self.woke:
            return
        params = {"queue": self.queue, "bump": int(self.woke), "next_seq": self._seq or 0}
        self.conn.execute(_MOVES["save_queue"], params)

    def run(self, statement: str, **params: Any) -> sqlite3.Cursor:
        return self.conn.execute(statement, {"queue": self.queue, **params})

    def ready(self, job_id: str, now: float) -> None:
        self.run(_MOVES["ready"], id=job_id, now=now, seq=self.next_seq()).fetchall()
        self.woke = True

    def finish(
        self, job_id: str, state: JobState, now: float, error: JobError | None = None
    ) -> None:
        err = None if error is None else encode(error.to_dict())
        seq = self.next_seq()
        self.run(_MOVES["finish"], id=job_id, state=state.value, now=now, seq=seq, error=err)
        if state is JobState.COMPLETED:
            self.release_dependents(job_id, now)
        else:
            self.cascade(job_id, state.value, now)

    def _take_dependents(self, job_id: str) -> Iterator[str]:
        # Most queues never use depends_on: one read per transaction spares each settle a
        # delete on the dependencies table.
        if self._edges is None:
            self._edges = self.run(_MOVES["any_dependencies"]).fetchone() is not None
        if not self._edges:
            return iter(())
        rows = self.run(_MOVES["take_dependents"], id=job_id).fetchall()
        return iter(sorted(row[0] for row in rows))

    def release_dependents(self, job_id: str, now: float) -> None:
        for child_id in self._take_dependents(job_id):
            if self.run(_MOVES["has_dependencies"], id=child_id).fetchone() is None:
                self.ready(child_id, now)

    def cascade(self, job_id: str, what: str, now: float) -> None:
        # Depth first, as the reference backend recurses: a job reached by two paths fails
        # with the message of the path that reaches it first. A stack, so no chain of
        # dependents is too long for Python's recursion limit.
        stack = [(job_id, what, self._take_dependents(job_id))]
        while stack:
            parent_id, parent_what, children = stack[-1]
            child_id = next(children, None)
            if child_id is None:
                stack.pop()
                continue
            error = encode(dependency_error(parent_id, parent_what).to_dict())
            failed = self.run(
                _MOVES["fail_dependent"], id=child_id, now=now, seq=self.next_seq(), error=error
            )
            if failed.rowcount:
                self.run(_MOVES["drop_dependencies"], id=child_id)
                stack.append((child_id, JobState.FAILED.value, self._take_dependents(child_id)))

    def admit(self, job_id: str, depends_on: Sequence[str], now: float) -> None:
        """Place a job just stored as ``waiting-children`` by the state of its dependencies."""
        pending: list[str] = []
        for dep_id in depends_on:
            row = self.run(_MOVES["job_state"], id=dep_id).fetchone()
            if row is None:
                self.finish(
                    job_id, JobState.FAILED, now, dependency_error(dep_id, "does not exist")
                )
                return
            state = JobState(row[0])
            if state.is_finished and state is not JobState.COMPLETED:
                self.finish(job_id, JobState.FAILED, now, dependency_error(dep_id, state.value))
                return
            if state is not JobState.COMPLETED:
                pending.append(dep_id)
        if pending:
            edges = [{"queue": self.queue, "id": job_id, "dependency_id": d} for d in pending]
            self.conn.executemany(_ENQUEUE["add_dependency"], edges)
            self._edges = True
        else:
            self.ready(job_id, now)


# -- transitions ---------------------------------------------------------------------------


def enqueue(m: Moves, jobs: Sequence[Job], data: Sequence[bytes], now: float) -> None:
    """Insert absent jobs in order; runs of jobs without dependencies go in one executemany."""
    batch: list[dict[str, Any]] = []
    for job, blob in zip(jobs, data, strict=True):
        row = {
            "queue": m.queue,
            "id": job.id,
            "priority": job.priority,
            "run_at": job.run_at,
            "created_at": job.created_at,
            "ttl": job.ttl,
            "data": blob,
        }
        if not job.depends_on:
            later = job.run_at is not None and job.run_at > now
            row["state"] = JobState.DELAYED.value if later else JobState.WAITING.value
            row["seq"] = m.next_seq()
            batch.append(row)
            continue
        # A dependency may be an earlier job of this call: store those first.
        _insert_batch(m, batch)
        batch = []
        row["state"] = JobState.WAITING_CHILDREN.value
        row["seq"] = m.next_seq()
        if m.conn.execute(_ENQUEUE["insert"], row).rowcount:
            m.admit(job.id, job.depends_on, now)
    _insert_batch(m, batch)


def _insert_batch(m: Moves, batch: list[dict[str, Any]]) -> None:
    if batch and m.conn.executemany(_ENQUEUE["insert"], batch).rowcount:
        m.woke = True


def claim(
    m: Moves,
    limit: int,
    *,
    lease: float,
    token: str,
    now: float,
    rate: RateLimit | None,
) -> tuple[Claimed, int]:
    """The claim and the queue's wake-up version it saw (what wait_for_jobs compares to)."""
    row = m.run(_CLAIM["queue"]).fetchone()
    paused, version, rate_limit, rate_interval, tokens, tokens_at = row or (0, 0, *[None] * 4)
    if paused or limit <= 0:
        return Claimed([]), version
    wanted = limit
    bucket: TokenBucket | None = None
    if rate is not None:
        if rate_limit is None or RateLimit(rate_limit, rate_interval) != rate:
            bucket = TokenBucket.full(rate, now)
        else:
            bucket = TokenBucket(rate, tokens, tokens_at)
        wanted = bucket.take(limit, now)
    taken: list[int] = []
    expired: list[tuple[str, float]] = []
    if wanted > 0:
        cursor = m.run(_CLAIM["candidates"], now=now)
        for rowid, job_id, ttl, is_expired in cursor:
            if is_expired:
                expired.append((job_id, ttl))
                continue
            taken.append(rowid)
            if len(taken) == wanted:
                break
        cursor.close()
    for job_id, ttl in expired:
        error = JobError("JobExpiredError", f"not started within ttl={ttl}s")
        m.finish(job_id, JobState.EXPIRED, now, error)
    jobs = _activate(m, taken, lease=lease, token=token, now=now)
    throttled: float | None = None
    if bucket is not None:
        bucket.give_back(wanted - len(jobs))
        if wanted < limit and len(jobs) == wanted:
            next_at = bucket.next_token_at(now)
            throttled = math.inf if next_at is None else next_at
        m.run(
            _CLAIM["save_bucket"],
            rate_limit=rate.limit if rate else None,
            rate_interval=rate.interval if rate else None,
            tokens=bucket.tokens,
            tokens_at=bucket.updated_at,
        )
    return Claimed(jobs, throttled), version


def _activate(m: Moves, rowids: list[int], *, lease: float, token: str, now: float) -> list[Job]:
    if not rowids:
        return []
    seq = m.next_seq()
    for _ in rowids[1:]:
        m.next_seq()
    params = {"rowids": serializers.dumps(rowids).decode(), "seq": seq, "token": token}
    rows = m.conn.execute(
        _CLAIM["activate"], {**params, "now": now, "until": now + lease}
    ).fetchall()
    order = {rowid: index for index, rowid in enumerate(rowids)}
    rows.sort(key=lambda r: order[r[0]])
    jobs = []
    for row in rows:
        try:
            jobs.append(job_from_row(row[1:]))
        except (ValueError, TypeError, KeyError) as exc:
            # A record we cannot read fails alone; the rest of the claim goes on.
            error = JobError("CorruptJobError", f"cannot decode the stored job: {exc}")
            m.finish(row[2], JobState.FAILED, now, error)
    return jobs


def extend_lease(m: Moves, leases: Sequence[Lease], until: float) -> list[bool]:
    return [
        m.run(_EXTEND, id=lease.job_id, token=lease.token, until=until).rowcount == 1
        for lease in leases
    ]


def complete(
    m: Moves, items: Sequence[Completion], results: Sequence[bytes | None], now: float
) -> list[bool]:
    out = []
    for item, result in zip(items, results, strict=True):
        lease = item.lease
        done = m.run(
            _COMPLETE, id=lease.job_id, token=lease.token, result=result, now=now, seq=m.next_seq()
        )
        if done.rowcount:
            m.release_dependents(lease.job_id, now)
        out.append(done.rowcount == 1)
    return out


def retry(m: Moves, items: Sequence[Retrial], now: float) -> list[bool]:
    out = []
    for item in items:
        lease = item.lease
        moved = m.run(
            _RETRY,
            id=lease.job_id,
            token=lease.token,
            error=encode(item.error.to_dict()),
            run_at=item.run_at,
            now=now,
            seq=m.next_seq(),
        ).rowcount
        m.woke = m.woke or moved == 1
        out.append(moved == 1)
    return out


def fail(m: Moves, items: Sequence[Failure], now: float) -> list[bool]:
    out = []
    for item in items:
        lease = item.lease
        error = encode(item.error.to_dict())
        done = m.run(
            _FAIL, id=lease.job_id, token=lease.token, error=error, now=now, seq=m.next_seq()
        )
        if done.rowcount:
            m.cascade(lease.job_id, JobState.FAILED.value, now)
        out.append(done.rowcount == 1)
    return out


def promote_due(m: Moves, now: float) -> Promoted:
    due = m.run(_PROMOTE["due"], now=now).fetchall()
    if due:
        moves = [{"rowid": rowid, "seq": m.next_seq()} for (rowid,) in due]
        m.conn.executemany(_PROMOTE["promote"], moves)
        m.woke = True
    (next_run_at,) = m.run(_PROMOTE["next_run_at"]).fetchone()
    return Promoted(len(due), next_run_at)


def requeue_expired(m: Moves, now: float, max_stalls: int) -> int:
    stalled = m.run(_REQUEUE["stall"], now=now).fetchall()
    stalled.sort(key=lambda r: r[2])  # the order they became active, as the reference walks
    for job_id, stalls, _ in stalled:
        if stalls > max_stalls:
            m.finish(job_id, JobState.FAILED, now, stalled_error(stalls, max_stalls))
        else:
            m.run(_REQUEUE["requeue"], id=job_id, seq=m.next_seq())
            m.woke = True
    return len(stalled)


def cancel(m: Moves, job_id: str, now: float) -> bool:
    if m.run(_CANCEL, id=job_id).fetchone() is None:
        return False
    m.run(_MOVES["drop_dependencies"], id=job_id)
    m.finish(job_id, JobState.CANCELLED, now)
    return True


def retry_job(m: Moves, job_id: str) -> bool:
    rerun = m.run(_RETRY_JOB, id=job_id, seq=m.next_seq()).rowcount == 1
    m.woke = m.woke or rerun
    return rerun


def remove(m: Moves, job_id: str, now: float) -> bool:
    if not m.run(_REMOVE, id=job_id).rowcount:
        return False
    m.run(_MOVES["drop_dependencies"], id=job_id)
    m.cascade(job_id, "was removed", now)
    return True


def clean(
    m: Moves, state: JobState, finished_before: float | None, keep_last: int | None, limit: int
) -> int:
    params = {"state": state.value, "finished_before": finished_before, "keep_last": keep_last}
    return m.run(_CLEAN, **params, limit=limit).rowcount


def drain(m: Moves) -> int:
    deleted = m.run(_DRAIN["drain"]).rowcount
    m.run(_DRAIN["drop_all_dependencies"])
    return deleted


def obliterate(m: Moves) -> int:
    deleted = m.run(_OBLITERATE["jobs"]).rowcount
    for part in ("dependencies", "counts", "repeatables", "workers", "reset_queue"):
        m.run(_OBLITERATE[part])
    m.woke = True  # a waiter on the vanished queue returns, as in the reference backend
    return deleted


def set_paused(m: Moves, paused: bool) -> None:
    m.run(_PAUSE, paused=int(paused))
    m.woke = not paused


def update_progress(m: Moves, lease: Lease, progress: bytes | None) -> bool:
    held = m.run(_PROGRESS, id=lease.job_id, token=lease.token, progress=progress)
    return held.rowcount == 1

"""SQLiteBackend: jobs in one SQLite file shared by the processes of a machine. Each transition
is one BEGIN IMMEDIATE transaction on the backend's writer connection, run in a worker thread;
wake-ups are in-process events plus a poll of a per-queue version row (see wait_for_jobs)."""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import anyio
import anyio.to_thread

from asyncmq import serializers
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
    finished_state,
)
from asyncmq.backends.sqlite import transitions
from asyncmq.backends.sqlite.statements import load, script
from asyncmq.backends.sqlite.transitions import Moves, encode, job_data, job_from_row
from asyncmq.errors import InvalidURLError
from asyncmq.jobs import FINISHED_STATES, Job, JobState
from asyncmq.ratelimit import RateLimit

__all__ = ["SCHEMA_VERSION", "SQLiteBackend"]

SCHEMA_VERSION = 1
MEMORY = ":memory:"
_LOCK_SLICE = 0.02  # seconds SQLite's busy handler may wait per try for the write lock

_T = TypeVar("_T")
_CONNECTION = load("connection")
_LIST_JOBS = load("list_jobs")
_LIST_WORKERS = load("list_workers")
_VERSION = load("wait_for_jobs")["version"]
_NEXT_RUN_AT = load("promote_due")["next_run_at"]
_ANY_EXPIRED = load("requeue_expired")["any_expired"]
_GET_JOB = load("get_job")["get_job"]
_COUNTS = load("counts")["counts"]
_LIST_QUEUES = load("list_queues")["list_queues"]
_IS_PAUSED = load("is_paused")["is_paused"]
_SAVE_REPEATABLE = load("save_repeatable")["save_repeatable"]
_LIST_REPEATABLES = load("list_repeatables")["list_repeatables"]
_REMOVE_REPEATABLE = load("remove_repeatable")["remove_repeatable"]
_SET_REPEATABLE_PAUSED = load("set_repeatable_paused")["set_repeatable_paused"]
_RECORD_WORKER = load("record_worker")["record_worker"]
_REMOVE_WORKER = load("remove_worker")["remove_worker"]


class SQLiteBackend(BaseBackend):
    """Jobs in an SQLite file (created with its schema on first use), the default backend.

    ``path`` is a file path (relative to the working directory when the backend is built) or
    ``":memory:"`` (one process only). ``busy_timeout`` is how long a transaction waits for
    another process's write lock; ``poll_interval`` bounds how late a job enqueued by another
    process wakes a waiting worker; ``synchronous="FULL"`` syncs every commit to disk, where
    the default ``"NORMAL"`` may lose the last commits on a power cut (never on a crash).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "asyncmq.db",
        *,
        busy_timeout: float = 10.0,
        poll_interval: float = 0.025,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
        self.path = MEMORY if str(path) == MEMORY else os.path.abspath(path)
        self.busy_timeout = busy_timeout
        self.poll_interval = poll_interval
        self.synchronous = synchronous
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._write_limiter = anyio.CapacityLimiter(1)
        self._read_limiter = anyio.CapacityLimiter(1)
        self._closed = False
        # the wake-up version each queue had when this instance last claimed or woke on it
        self._seen: dict[str, int] = {}
        self._waiters: dict[str, set[anyio.Event]] = {}

    @classmethod
    def from_url(cls, url: str) -> SQLiteBackend:
        """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``sqlite:///:memory:``,
        with optional ``?busy_timeout=&poll_interval=&synchronous=``."""
        parts = urlsplit(url)
        path = unquote(parts.path[1:])
        if parts.scheme.lower() != "sqlite" or parts.netloc or not path:
            raise InvalidURLError(
                f"expected sqlite:///relative.db or sqlite:////absolute.db, not {url!r}"
            )
        options: dict[str, Any] = {}
        for name, value in parse_qsl(parts.query):
            if name in ("busy_timeout", "poll_interval"):
                options[name] = float(value)
            elif name == "synchronous":
                options[name] = value.upper()
            else:
                raise InvalidURLError(f"unknown sqlite URL option {name!r} in {url!r}")
        return cls(path, **options)

    def __repr__(self) -> str:
        return f"SQLiteBackend({self.path!r})"

    # -- connections -----------------------------------------------------------------------

    def _connect(self, busy_timeout: float) -> sqlite3.Connection:
        # isolation_level=None: the sqlite3 module must not open transactions on its own,
        # the backend issues BEGIN IMMEDIATE itself. Threads take turns through the limiters.
        return sqlite3.connect(
            self.path,
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )

    def _open(self) -> None:
        """Open the connections, creating the file and its schema if absent (writer thread)."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if self._writer is not None:
            return
        if self.path == MEMORY:
            # a second connection to ":memory:" would be a second, empty database
            writer = self._connect(self.busy_timeout)
            self._create_schema(writer)
        else:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Processes racing to create the file wait the whole busy_timeout for each other
            # here; the writer then waits for locks in short slices (see _begin).
            with closing(self._connect(self.busy_timeout)) as setup:
                self._create_schema(setup)
            writer = self._connect(_LOCK_SLICE)
            self._reader = self._connect(self.busy_timeout)
            self._reader.execute(_CONNECTION["query_only"])
        writer.execute(_CONNECTION[f"synchronous_{self.synchronous.lower()}"])
        self._writer = writer

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        # Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked"
        # at once, without its busy handler, while a racing process holds any lock.
        for _ in range(self._tries()):
            try:
                conn.execute(_CONNECTION["journal_mode"]).fetchall()
                break
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
                time.sleep(_LOCK_SLICE)
        version = conn.execute(_CONNECTION["user_version"]).fetchone()[0]
        if version == 0:
            conn.executescript(script("schema"))
            version = conn.execute(_CONNECTION["user_version"]).fetchone()[0]
        if version != SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} has asyncmq schema version {version}; "
                f"this asyncmq reads version {SCHEMA_VERSION}"
            )

    async def _ready(self) -> None:
        if self._writer is None:
            await anyio.to_thread.run_sync(self._open, limiter=self._write_limiter)

    def _begin(self, conn: sqlite3.Connection) -> None:
        # SQLite's busy handler sleeps 1, 2, 5, 10 ms and then up to 100 ms between tries, so
        # a process that waited long polls rarely while another takes the lock again at once
        # (claims starved for ~1 s under contention). Each try here waits one short slice in
        # the fine-grained part of that backoff, and tries again until busy_timeout.
        for _ in range(self._tries()):
            try:
                conn.execute(_CONNECTION["begin"])
                return
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
        conn.execute(_CONNECTION["begin"])

    def _tries(self) -> int:
        return max(1, math.ceil(self.busy_timeout / _LOCK_SLICE))

    def _transaction(self, queue: str, move: Callable[[Moves], _T]) -> tuple[_T, bool]:
        conn = self._writer
        if conn is None:
            raise RuntimeError(f"{self!r} is closed")
        self._begin(conn)
        try:
            moves = Moves(conn, queue)
            result = move(moves)
            moves.save()
            conn.execute(_CONNECTION["commit"])
        except BaseException:
            if conn.in_transaction:
                conn.execute(_CONNECTION["rollback"])
            raise
        return result, moves.woke

    async def _write(self, queue: str, move: Callable[[Moves], _T]) -> _T:
        """Run ``move`` as one transaction; wake this instance's waiters if it made work."""
        await self._ready()
        result, woke = await anyio.to_thread.run_sync(
            self._transaction, queue, move, limiter=self._write_limiter
        )
        if woke:
            self._wake(queue)
        return result

    def _wake(self, queue: str) -> None:
        for event in self._waiters.pop(queue, ()):
            event.set()

    async def _read(self, read: Callable[[sqlite3.Connection], _T]) -> _T:
        await self._ready()
        conn, limiter = self._reader, self._read_limiter
        if conn is None:
            conn, limiter = self._writer, self._write_limiter
        if conn is None or self._closed:
            raise RuntimeError(f"{self!r} is closed")
        return await anyio.to_thread.run_sync(read, conn, limiter=limiter)

    async def migrate(self) -> None:
        await self._ready()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for waiters in self._waiters.values():
            for event in waiters:
                event.set()
        self._waiters.clear()
        # wait for the statements in flight, then close in this task
        async with self._write_limiter, self._read_limiter:
            for conn in (self._reader, self._writer):
                if conn is not None:
                    conn.close()
            self._reader = self._writer = None

    # -- transitions -----------------------------------------------------------------------

    async def enqueue(
        self, queue: str, jobs: Sequence[Job], now: float, *, connection: object | None = None
    ) -> list[str]:
        data = [job_data(job) for job in jobs]  # serialise before taking the write lock
        if connection is None:
            await self._write(queue, lambda m: transitions.enqueue(m, jobs, data, now))
        else:
            await self._enqueue_within(connection, queue, jobs, data, now)
        return [job.id for job in jobs]

    async def _enqueue_within(
        self, conn: object, queue: str, jobs: Sequence[Job], data: list[bytes], now: float
    ) -> None:
        """Enqueue inside the caller's open transaction on their own ``sqlite3`` connection.

        The caller's connection belongs to the caller's thread, so the statements run right
        here, blocking the loop for as long as the inserts take. Pollers see the jobs when the
        caller commits; this instance's waiters are woken now, which at worst is early.
        """
        if not isinstance(conn, sqlite3.Connection):
            raise TypeError(f"connection= takes a sqlite3.Connection, not {type(conn).__name__}")
        if not conn.in_transaction:
            raise ValueError("connection= must be inside an open transaction on that connection")
        if self._writer is None and not conn.execute(_CONNECTION["user_version"]).fetchall()[0][0]:
            # Creating it now would wait on the write lock the caller's transaction holds.
            raise RuntimeError(
                f"{self.path} has no asyncmq schema yet: run `await backend.migrate()` (or "
                "`asyncmq db migrate`) before enqueueing inside your own transaction"
            )
        await self._ready()
        if self._enqueue_on(conn, queue, jobs, data, now):
            self._wake(queue)

    def _enqueue_on(
        self,
        conn: sqlite3.Connection,
        queue: str,
        jobs: Sequence[Job],
        data: list[bytes],
        now: float,
    ) -> bool:
        (main_file,) = conn.execute(_CONNECTION["main_file"]).fetchone()
        if self.path == MEMORY or os.path.realpath(main_file) != os.path.realpath(self.path):
            raise ValueError(f"connection= is open on {main_file!r}, not on {self.path!r}")
        moves = Moves(conn, queue)
        transitions.enqueue(moves, jobs, data, now)
        moves.save()
        return moves.woke

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
        claimed, version = await self._write(
            queue,
            lambda m: transitions.claim(m, limit, lease=lease, token=token, now=now, rate=rate),
        )
        self._seen[queue] = version
        return claimed

    async def extend_lease(self, queue: str, leases: Sequence[Lease], until: float) -> list[bool]:
        return await self._write(queue, lambda m: transitions.extend_lease(m, leases, until))

    async def complete(self, queue: str, items: Sequence[Completion], now: float) -> list[bool]:
        results = [encode(item.result) for item in items]
        return await self._write(queue, lambda m: transitions.complete(m, items, results, now))

    async def retry(self, queue: str, items: Sequence[Retrial], now: float) -> list[bool]:
        return await self._write(queue, lambda m: transitions.retry(m, items, now))

    async def fail(self, queue: str, items: Sequence[Failure], now: float) -> list[bool]:
        return await self._write(queue, lambda m: transitions.fail(m, items, now))

    async def promote_due(self, queue: str, now: float) -> Promoted:
        # The scanner and idle workers call this often; most calls find nothing due and then
        # answer from the reader without queueing for the write lock.
        (next_run_at,) = await self._read(lambda c: _first(c, _NEXT_RUN_AT, {"queue": queue}))
        if next_run_at is None or next_run_at > now:
            return Promoted(0, next_run_at)
        return await self._write(queue, lambda m: transitions.promote_due(m, now))

    async def requeue_expired(self, queue: str, now: float, *, max_stalls: int) -> int:
        expired = await self._read(lambda c: _first(c, _ANY_EXPIRED, {"queue": queue, "now": now}))
        if expired is None:
            return 0
        return await self._write(queue, lambda m: transitions.requeue_expired(m, now, max_stalls))

    # Wake-up latency. An enqueue, retry, promotion, release, requeue or resume made by this
    # instance wakes its own waiters at once (an anyio event, set after the commit: ~0.5 ms).
    # Work made ready by another process or instance bumps the queue's `version` row in the
    # same transaction; waiters read that row (one primary-key read on the reader connection,
    # ~0.1 ms) every poll_interval, 25 ms by default: measured median 11 ms, max ~22 ms.
    async def wait_for_jobs(self, queue: str, timeout: float) -> None:
        woken = anyio.Event()
        self._waiters.setdefault(queue, set()).add(woken)
        try:
            with anyio.move_on_after(timeout):
                await self._wait(queue, woken)
        finally:
            waiters = self._waiters.get(queue)
            if waiters is not None:
                waiters.discard(woken)
                if not waiters:
                    del self._waiters[queue]

    async def _wait(self, queue: str, woken: anyio.Event) -> None:
        # Compared with the version the last claim saw, a job enqueued between that claim and
        # this wait is noticed at the first read instead of being missed.
        seen = self._seen.get(queue)
        while not woken.is_set():
            version = await self._read(lambda c: _version(c, queue))
            if seen is not None and version != seen:
                self._seen[queue] = version
                return
            seen = version
            with anyio.move_on_after(self.poll_interval):
                await woken.wait()

    # -- inspection and admin --------------------------------------------------------------

    async def get_job(self, queue: str, job_id: str) -> Job | None:
        row = await self._read(lambda c: _first(c, _GET_JOB, {"queue": queue, "id": job_id}))
        return None if row is None else job_from_row(row)

    async def list_jobs(
        self, queue: str, state: JobState, *, offset: int = 0, limit: int = 100
    ) -> list[Job]:
        state = JobState(state)
        if state is JobState.WAITING or state is JobState.DELAYED:
            statement = _LIST_JOBS[state.value]
        elif state in FINISHED_STATES:
            statement = _LIST_JOBS["finished"]
        else:
            statement = _LIST_JOBS["other"]
        params = {"queue": queue, "state": state.value, "limit": limit, "offset": offset}
        return await self._read(
            lambda c: [job_from_row(row) for row in c.execute(statement, params)]
        )

    async def counts(self, queue: str) -> dict[JobState, int]:
        rows = await self._read(lambda c: c.execute(_COUNTS, {"queue": queue}).fetchall())
        found = {state: 0 for state in JobState}
        for state, n in rows:
            found[JobState(state)] = n
        return found

    async def list_queues(self) -> list[str]:
        rows = await self._read(lambda c: c.execute(_LIST_QUEUES).fetchall())
        return [name for (name,) in rows]

    async def pause(self, queue: str) -> None:
        await self._write(queue, lambda m: transitions.set_paused(m, True))

    async def resume(self, queue: str) -> None:
        await self._write(queue, lambda m: transitions.set_paused(m, False))

    async def is_paused(self, queue: str) -> bool:
        row = await self._read(lambda c: _first(c, _IS_PAUSED, {"queue": queue}))
        return row is not None and bool(row[0])

    async def cancel(self, queue: str, job_id: str, now: float) -> bool:
        return await self._write(queue, lambda m: transitions.cancel(m, job_id, now))

    async def retry_job(self, queue: str, job_id: str, now: float) -> bool:
        return await self._write(queue, lambda m: transitions.retry_job(m, job_id))

    async def remove(self, queue: str, job_id: str, now: float) -> bool:
        return await self._write(queue, lambda m: transitions.remove(m, job_id, now))

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
        return await self._write(
            queue, lambda m: transitions.clean(m, state, finished_before, keep_last, limit)
        )

    async def drain(self, queue: str) -> int:
        return await self._write(queue, transitions.drain)

    async def obliterate(self, queue: str) -> int:
        deleted = await self._write(queue, transitions.obliterate)
        self._seen.pop(queue, None)
        return deleted

    async def update_progress(self, queue: str, lease: Lease, progress: Any) -> bool:
        blob = encode(progress)
        return await self._write(queue, lambda m: transitions.update_progress(m, lease, blob))

    # -- repeatables and workers -----------------------------------------------------------

    async def save_repeatable(self, repeatable: Repeatable) -> None:
        params = {
            "queue": repeatable.queue,
            "key": repeatable.key,
            "job": serializers.dumps(repeatable.job),
            "every": repeatable.every,
            "cron": repeatable.cron,
            "created_at": repeatable.created_at,
            "paused": int(repeatable.paused),
        }
        await self._write(repeatable.queue, lambda m: m.conn.execute(_SAVE_REPEATABLE, params))

    async def list_repeatables(self, queue: str) -> list[Repeatable]:
        rows = await self._read(lambda c: c.execute(_LIST_REPEATABLES, {"queue": queue}).fetchall())
        return [
            Repeatable(
                key=key,
                queue=queue,
                job=serializers.loads(job),
                every=every,
                cron=cron,
                created_at=created_at,
                paused=bool(paused),
            )
            for key, job, every, cron, created_at, paused in rows
        ]

    async def remove_repeatable(self, queue: str, key: str) -> bool:
        return await self._write(queue, lambda m: m.run(_REMOVE_REPEATABLE, key=key).rowcount == 1)

    async def set_repeatable_paused(self, queue: str, key: str, paused: bool) -> bool:
        return await self._write(
            queue,
            lambda m: m.run(_SET_REPEATABLE_PAUSED, key=key, paused=int(paused)).rowcount == 1,
        )

    async def record_worker(self, info: WorkerInfo) -> None:
        info_blob = serializers.dumps(info.to_dict())
        await self._write(
            info.queue,
            lambda m: m.run(
                _RECORD_WORKER, id=info.id, heartbeat_at=info.heartbeat_at, info=info_blob
            ),
        )

    async def remove_worker(self, queue: str, worker_id: str) -> None:
        await self._write(queue, lambda m: m.run(_REMOVE_WORKER, id=worker_id))

    async def list_workers(self, queue: str, *, seen_since: float) -> list[WorkerInfo]:
        def forget_and_list(m: Moves) -> list[Any]:
            m.run(_LIST_WORKERS["forget"], seen_since=seen_since)
            return m.run(_LIST_WORKERS["list"]).fetchall()

        rows = await self._write(queue, forget_and_list)
        return [WorkerInfo.from_dict(serializers.loads(info)) for (info,) in rows]


def _first(conn: sqlite3.Connection, statement: str, params: dict[str, Any]) -> Any:
    # fetchall, not fetchone: it steps the statement to its end, which ends the reader's
    # snapshot at once instead of whenever the cursor happens to be collected.
    rows = conn.execute(statement, params).fetchall()
    return rows[0] if rows else None


def _locked(exc: sqlite3.OperationalError) -> bool:
    return str(exc).startswith("database is locked")  # SQLITE_BUSY, on every Python version


def _version(conn: sqlite3.Connection, queue: str) -> int:
    row = _first(conn, _VERSION, {"queue": queue})
    return 0 if row is None else int(row[0])

"""PostgresBackend: the backend contract on asyncpg, each transition one statement from
``sql/<verb>.sql`` (an enqueue with dependencies, cancel, remove and requeue_expired one
transaction), followed by dependents.sql when it finished a job that has dependents."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import anyio
import asyncpg

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
from asyncmq.backends.postgres.admission import resolved_arrays
from asyncmq.backends.postgres.errors import TRANSIENT
from asyncmq.backends.postgres.listener import Listener
from asyncmq.backends.postgres.rows import (
    COPY_COLUMNS,
    copy_text,
    error_json,
    job_arrays,
    job_from_row,
    repeatable_from_row,
    to_json,
    worker_from_json,
)
from asyncmq.backends.postgres.statements import Statements
from asyncmq.jobs import FINISHED_STATES, Job, JobState
from asyncmq.ratelimit import RateLimit
from asyncmq.serializers import dumps

T = TypeVar("T")

# Rows one scanner, drain or obliterate statement touches, so no call holds locks for long.
_BATCH = 1000
# The sweep for dependency edges left behind by a crash reads every pending edge of the queue.
_SWEEP_EVERY = 30.0
# From this many jobs without dependencies, enqueue COPYs them. Measured against INSERT ...
# SELECT FROM unnest (which also writes a WAL record per row), in jobs/s: 10 jobs 17.6k vs
# 15.2k, 100 jobs 60k vs 44k, 500 jobs 86k vs 55k. A single add keeps the INSERT, which
# skips an existing id quietly: COPY fails on one (the batch is then inserted instead).
_COPY_FROM = 10
# Jobs per COPY data message (about 15 kB of no-op jobs).
_COPY_CHUNK = 100
_URL_OPTIONS: dict[str, Callable[[str], Any]] = {
    "schema": str,
    "table_prefix": str,
    "min_pool": int,
    "max_pool": int,
    "synchronous_settles": lambda value: value.lower() in ("1", "true", "yes", "on"),
    "vacuum_threshold": lambda value: None if value.lower() in ("", "none", "off") else int(value),
}
# How often maintain() looks at the dead-row count, per backend instance (seconds of `now`).
_MAINTAIN_EVERY = 1.0
# A jobs table never vacuumed is vacuumed from this many dead rows: its first vacuum gives the
# planner the table's size and replaces the plans cached while it was empty (measured: a new
# table processed 4,700 jobs/s until then, 9,400 after).
_FIRST_VACUUM = 1000


class PostgresBackend(BaseBackend):
    """Jobs in PostgreSQL tables named ``{schema}.{table_prefix}jobs`` and so on.

    ``dsn_or_pool`` is a libpq URL or an ``asyncpg.Pool`` the caller owns (then the listening
    connection is taken from it). The pool is created, and the schema migrated, on first use.

    Enqueues and admin calls commit durably. Claims, lease extensions and, unless
    ``synchronous_settles``, settles (complete, retry, fail) commit without waiting for the
    WAL flush, which about doubles throughput: a server crash may then undo the last fraction
    of a second of them, which puts those jobs back to run again (at-least-once delivery, as
    after a worker crash) but never loses a job.

    ``vacuum_threshold``: the scanner vacuums the jobs table (``VACUUM (SKIP_LOCKED)``, see
    :meth:`maintain`) once it holds that many dead row versions, so claims and settles stay as
    fast with a million finished jobs stored as with none, whether or not autovacuum runs.
    ``None`` leaves vacuuming to autovacuum. Vacuuming needs the table's owner (the role that
    created the schema); another role gets a warning from the server and nothing is done.
    """

    # A large batch is one COPY, aborted (so nothing stored) if building a job fails.
    lazy_enqueue = True

    def __init__(
        self,
        dsn_or_pool: str | asyncpg.Pool = "postgresql://localhost/postgres",
        *,
        schema: str = "public",
        table_prefix: str = "asyncmq_",
        min_pool: int = 1,
        max_pool: int = 4,
        synchronous_settles: bool = False,
        vacuum_threshold: int | None = 10_000,
    ) -> None:
        self._sql = Statements.load(schema, table_prefix)
        self._schema, self._table = schema, f"{table_prefix}jobs"
        self._dsn: str | None = None
        self._pool: Any = None
        if isinstance(dsn_or_pool, str):
            self._dsn = dsn_or_pool
        else:
            self._pool = dsn_or_pool
        self._owns_pool = self._pool is None
        self._pool_sizes = (min_pool, max_pool)
        self._settle_commit = "on" if synchronous_settles else "off"
        self._vacuum_threshold = vacuum_threshold
        self._churn = 0  # rows this instance changed since it last vacuumed
        self._next_maintain = -math.inf
        self._next_sweep: dict[str, float] = {}
        self._buckets: set[str] = set()  # queues whose rate-limit row is known to exist
        self._ready = False
        self._closed = False
        self._setup = anyio.Lock()
        self._listener = Listener(self._connect_listener, self._sql.channel, self._release_listener)

    @classmethod
    def from_url(cls, url: str) -> PostgresBackend:
        """``postgresql://user@host/db?schema=s&table_prefix=p&min_pool=1&max_pool=4``, also
        ``synchronous_settles=on`` and ``vacuum_threshold=N`` (or ``off``); the listed options
        are taken out, any other query parameter goes to the server."""
        parts = urlsplit(url)
        options: dict[str, Any] = {}
        rest = []
        for key, value in parse_qsl(parts.query):
            if key in _URL_OPTIONS:
                options[key] = _URL_OPTIONS[key](value)
            else:
                rest.append((key, value))
        return cls(urlunsplit(parts._replace(query=urlencode(rest))), **options)

    # -- connections ---------------------------------------------------------------------

    async def _get_pool(self) -> Any:
        if self._ready:
            return self._pool
        async with self._setup:
            if self._closed:
                raise RuntimeError("PostgresBackend is closed")
            if self._pool is None:
                low, high = self._pool_sizes
                try:
                    self._pool = await self._create_pool(low, high)
                except TRANSIENT:  # a server that is starting, or a connection reset
                    await anyio.sleep(0.1)
                    self._pool = await self._create_pool(low, high)
            if not self._ready:
                await self._migrate(self._pool)
                self._ready = True
        return self._pool

    async def _create_pool(self, low: int, high: int) -> Any:
        # reset=: asyncpg otherwise sends a reset query (RESET ALL, UNLISTEN *, ...) on every
        # release, a round trip the caller waits for: it was half the cost of a claim. Our
        # statements leave no session state (settings are transaction-local, advisory locks
        # transaction-level, LISTEN on a connection of its own), and asyncpg still rolls back
        # a transaction left open before this hook runs.
        return await asyncpg.create_pool(
            self._dsn, min_size=low, max_size=high, reset=_keep_session
        )

    async def migrate(self) -> None:
        """Create or upgrade the schema: idempotent, never drops data, serialised across
        processes by an advisory lock (also done on first use)."""
        await self._get_pool()

    async def _migrate(self, pool: Any) -> None:
        sql = self._sql
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(sql["migrate.lock"])
            version = 0
            if await conn.fetchval(sql["migrate.version_table_exists"]):
                version = await conn.fetchval(sql["migrate.current_version"])
            if version < 1:
                await conn.execute(sql.schema_sql)
            for number, script in sql.migrations:
                if number > version:
                    await conn.execute(script)
                    await conn.execute(sql["migrate.record_version"], number)

    async def _run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run ``work`` on a pooled connection, once more on a fresh one if the first dropped
        or its transaction was aborted.

        A dropped connection usually means the others dropped too (server restart,
        terminated backends), so every pooled connection is replaced before the retry.
        """
        pool = await self._get_pool()
        try:
            async with pool.acquire() as conn:
                return await work(conn)
        except TRANSIENT:
            await pool.expire_connections()
            async with pool.acquire() as conn:
                return await work(conn)

    async def _fetch(self, name: str, *args: Any) -> list[Any]:
        sql = self._sql[name]
        return await self._run(lambda conn: conn.fetch(sql, *args))

    async def _fetchrow(self, name: str, *args: Any) -> Any:
        sql = self._sql[name]
        return await self._run(lambda conn: conn.fetchrow(sql, *args))

    async def _connect_listener(self) -> Any:
        if self._dsn is None:
            return await self._pool.acquire()
        return await asyncpg.connect(self._dsn)

    async def _release_listener(self, conn: Any) -> None:
        if self._dsn is None:
            await self._pool.release(conn)
        else:
            await conn.close()

    async def aclose(self) -> None:
        self._closed = True
        await self._listener.aclose()
        async with self._setup:
            pool, self._pool = self._pool, None
            self._ready = False
        if pool is not None and self._owns_pool:
            with anyio.move_on_after(10) as scope:
                await pool.close()
            if scope.cancelled_caught:
                pool.terminate()

    # -- transitions ---------------------------------------------------------------------

    async def enqueue(
        self, queue: str, jobs: Sequence[Job], now: float, *, connection: object | None = None
    ) -> list[str]:
        if connection is not None and not isinstance(
            connection, (asyncpg.Connection, asyncpg.pool.PoolConnectionProxy)
        ):
            raise TypeError(f"connection= takes an asyncpg connection, not {type(connection)}")
        if not jobs:
            return []

        async def work(conn: Any) -> None:
            # A list is built already, so it is looked at before copying; a lazy batch is
            # looked at as it is copied.
            copy = len(jobs) >= _COPY_FROM and not (type(jobs) is list and _any_dependent(jobs))
            if copy and await self._enqueue_copy(conn, queue, jobs, now, own=connection is None):
                return
            if _any_dependent(jobs):
                async with conn.transaction():
                    await self._enqueue_dependent(conn, queue, jobs, now)
            else:
                await conn.fetchrow(self._sql["enqueue.insert"], queue, now, *job_arrays(jobs))

        if connection is None:
            await self._run(work)
        else:
            await self._get_pool()  # the schema must exist
            await work(connection)
        return [j.id for j in jobs]

    async def _enqueue_copy(
        self, conn: Any, queue: str, jobs: Sequence[Job], now: float, *, own: bool
    ) -> bool:
        """COPY a large batch straight into the jobs table; False, with nothing stored, if
        the batch needs another statement: an id exists already (COPY cannot skip it) or a
        job has dependencies.

        On a connection of our own the COPY runs alone, autocommitted: one statement is atomic
        by itself, and the insert trigger sends the wake-up, so it takes one round trip and
        one commit. In a caller's transaction it runs in a savepoint, so that a failed COPY
        rolls back only itself.
        """
        try:
            if own:
                await self._copy(conn, queue, jobs, now)
            else:
                async with conn.transaction():
                    await self._copy(conn, queue, jobs, now)
        except (asyncpg.UniqueViolationError, _HasDependencies):
            return False
        return True

    async def _copy(self, conn: Any, queue: str, jobs: Sequence[Job], now: float) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            # Each chunk goes out as soon as it is encoded (and, from a lazy batch, built):
            # the server stores the last ones meanwhile. An exception here aborts the COPY.
            for start in range(0, len(jobs), _COPY_CHUNK):
                chunk = jobs[start : start + _COPY_CHUNK]
                if _any_dependent(chunk):
                    raise _HasDependencies
                yield copy_text(queue, chunk, now)

        await conn.copy_to_table(
            self._table, schema_name=self._schema, columns=COPY_COLUMNS, source=chunks()
        )

    async def _enqueue_dependent(
        self, conn: Any, queue: str, jobs: Sequence[Job], now: float
    ) -> None:
        """Lock the rows the batch depends on, then insert each new job in the state they
        decide (see admission.py)."""
        dep_ids = list({d: None for j in jobs for d in j.depends_on})
        lookup = list({**{j.id: None for j in jobs}, **dict.fromkeys(dep_ids)})
        rows = await conn.fetch(self._sql["enqueue.lock_dependencies"], queue, lookup, dep_ids)
        known: dict[str, str] = {r[0]: r[1] for r in rows}
        arrays = resolved_arrays(jobs, known, now)
        await conn.fetchrow(self._sql["enqueue.insert_resolved"], queue, *arrays)

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
        taken: list[Job] = []
        throttled: float | None = None
        rate_args: tuple[Any, ...] = ()
        if rate is None:
            name = "claim.unlimited"
        else:
            name, rate_args = "claim.limited", (rate.limit, rate.interval)
        if rate is not None and queue not in self._buckets:
            await self._fetch("rate_limit", queue, rate.limit, rate.interval, now)
            self._buckets.add(queue)
        # Jobs that expired on the way do not count towards the limit: claim again for the
        # rest while a claim expired some and came back short.
        while len(taken) < limit:
            wanted = limit - len(taken)
            rows = await self._fetch(name, queue, wanted, token, now, now + lease, *rate_args)
            granted, tokens, expired = rows[0][0], rows[0][1], rows[0][2]
            if rows[0][3]:
                await self._resolve(queue, list(rows[0][3]), "ended expired", now)
            got = [job_from_row(r, queue, 4) for r in rows if r[4] is not None]
            self._churn += len(got) + expired
            taken += got
            throttled = None
            if rate is not None and tokens is not None and granted < wanted and len(got) == granted:
                throttled = _next_token_at(rate, tokens, now)
            if not expired or len(got) >= granted:
                break
        return Claimed(taken, throttled)

    async def extend_lease(self, queue: str, leases: Sequence[Lease], until: float) -> list[bool]:
        if not leases:
            return []
        rows = await self._fetch(
            "extend_lease", queue, [x.job_id for x in leases], [x.token for x in leases], until
        )
        self._churn += len(rows)
        return _matched(leases, rows)

    async def complete(self, queue: str, items: Sequence[Completion], now: float) -> list[bool]:
        if not items:
            return []
        leases = [i.lease for i in items]
        results = [to_json(i.result) for i in items]
        return await self._finish("complete", queue, leases, results, now, JobState.COMPLETED.value)

    async def fail(self, queue: str, items: Sequence[Failure], now: float) -> list[bool]:
        if not items:
            return []
        leases = [i.lease for i in items]
        errors = [error_json(i.error) for i in items]
        return await self._finish("fail", queue, leases, errors, now, "ended failed")

    async def _finish(
        self, name: str, queue: str, leases: list[Lease], values: list[Any], now: float, what: str
    ) -> list[bool]:
        ids, tokens = [x.job_id for x in leases], [x.token for x in leases]
        rows = await self._fetch(name, queue, ids, tokens, values, now, self._settle_commit)
        self._churn += len(rows)
        parents = [r[0] for r in rows if r[2]]
        if parents:
            await self._resolve(queue, parents, what, now)
        return _matched(leases, rows)

    async def _resolve(self, queue: str, parents: list[str], what: str, now: float) -> None:
        """Release (``what="completed"``) or fail the dependents of finished ``parents``.

        Its own statements after the transition's: if the process dies in between, the
        scanner's sweep in :meth:`promote_due` finds the edges left behind.
        """
        if what == JobState.COMPLETED.value:
            await self._fetchrow("dependents.release", queue, parents, now)
        else:
            await self._run(lambda conn: self._cascade(conn, queue, parents, what, now))

    async def _cascade(
        self, conn: Any, queue: str, parents: list[str], what: str, now: float
    ) -> None:
        """Fail every job waiting on ``parents``, then on those, and so on."""
        sql = self._sql["dependents.cascade"]
        whats = [what] * len(parents)
        while parents:
            rows = await conn.fetch(sql, queue, parents, whats, now)
            parents = [r[0] for r in rows if r[1]]
            whats = ["ended failed"] * len(parents)

    async def retry(self, queue: str, items: Sequence[Retrial], now: float) -> list[bool]:
        if not items:
            return []
        leases = [i.lease for i in items]
        rows = await self._fetch(
            "retry",
            queue,
            [x.job_id for x in leases],
            [x.token for x in leases],
            [error_json(i.error) for i in items],
            [i.run_at for i in items],
            now,
            self._settle_commit,
        )
        self._churn += len(rows)
        return _matched(leases, rows)

    async def promote_due(self, queue: str, now: float) -> Promoted:
        await self._sweep(queue, now)
        count = 0
        while True:
            row = await self._fetchrow("promote_due", queue, now, _BATCH)
            count += int(row[0])
            if row[0] < _BATCH:
                self._churn += count
                return Promoted(count, row[1])

    async def _sweep(self, queue: str, now: float) -> None:
        """Resolve dependency edges whose parent finished without its resolution running
        (a process died in between): at most every ``_SWEEP_EVERY`` seconds of ``now``."""
        if now < self._next_sweep.get(queue, -math.inf):
            return
        self._next_sweep[queue] = now + _SWEEP_EVERY
        for parent, state in await self._fetch("dependents.unresolved", queue, _BATCH):
            if state is None:
                await self._resolve(queue, [parent], "does not exist", now)
            elif state == JobState.COMPLETED.value:
                await self._resolve(queue, [parent], state, now)
            else:
                await self._resolve(queue, [parent], f"ended {state}", now)

    async def requeue_expired(self, queue: str, now: float, *, max_stalls: int) -> int:
        sql = self._sql["requeue_expired"]

        async def work(conn: Any) -> int:
            async with conn.transaction():
                rows = await conn.fetch(sql, queue, now, max_stalls, _BATCH)
                parents = [r[0] for r in rows if r[1] == JobState.FAILED.value and r[2]]
                if parents:
                    await self._cascade(conn, queue, parents, "ended failed", now)
                return len(rows)

        moved = 0
        while True:
            batch = await self._run(work)
            moved += batch
            if batch < _BATCH:
                self._churn += moved
                return moved

    async def maintain(self, queue: str, now: float) -> None:
        """VACUUM the jobs table (and the small counts and deps tables) once it holds
        ``vacuum_threshold`` dead row versions (1,000 for its first vacuum), looking at most
        once a second.

        The count is the server's (``pg_stat_user_tables``, shared by every process) or, if
        higher, the rows this instance changed since its last vacuum (when the statistics
        lag or ``track_counts`` is off). With many workers the first to look vacuums; the
        others skip a table being vacuumed.
        """
        if self._vacuum_threshold is None or now < self._next_maintain:
            return
        self._next_maintain = now + _MAINTAIN_EVERY
        dead, new = await self._run(lambda conn: conn.fetchrow(self._sql["maintain.table_stats"]))
        threshold = min(self._vacuum_threshold, _FIRST_VACUUM) if new else self._vacuum_threshold
        if max(int(dead), self._churn) < threshold:
            return
        self._churn = 0
        started = time.perf_counter()
        await self._run(lambda conn: conn.execute(self._sql["maintain.vacuum"]))
        # A vacuum that cannot remove the rows (an old transaction holds them) would otherwise
        # repeat every second: keep vacuuming under a tenth of the time.
        self._next_maintain = now + max(_MAINTAIN_EVERY, 10 * (time.perf_counter() - started))

    async def wait_for_jobs(self, queue: str, timeout: float) -> None:
        if self._closed:
            return
        await self._listener.wait(queue, timeout)

    # -- inspection and admin ------------------------------------------------------------

    async def get_job(self, queue: str, job_id: str) -> Job | None:
        row = await self._fetchrow("get_job", queue, job_id)
        return None if row is None else job_from_row(row, queue)

    async def list_jobs(
        self, queue: str, state: JobState, *, offset: int = 0, limit: int = 100
    ) -> list[Job]:
        state = JobState(state)
        if state in FINISHED_STATES:
            rows = await self._fetch("list_jobs.finished", queue, offset, limit, state.value)
        else:
            section = state.value.replace("-", "_")
            rows = await self._fetch(f"list_jobs.{section}", queue, offset, limit)
        return [job_from_row(r, queue) for r in rows]

    async def counts(self, queue: str) -> dict[JobState, int]:
        found = {s: 0 for s in JobState}
        for state, n in await self._fetch("counts", queue):
            found[JobState(state)] = int(n)
        return found

    async def list_queues(self) -> list[str]:
        return [r[0] for r in await self._fetch("list_queues")]

    async def pause(self, queue: str) -> None:
        await self._fetch("pause", queue)

    async def resume(self, queue: str) -> None:
        await self._fetch("resume", queue)

    async def is_paused(self, queue: str) -> bool:
        return bool(await self._run(lambda conn: conn.fetchval(self._sql["is_paused"], queue)))

    async def cancel(self, queue: str, job_id: str, now: float) -> bool:
        return await self._end_one("cancel", queue, job_id, "ended cancelled", now, (now,))

    async def remove(self, queue: str, job_id: str, now: float) -> bool:
        return await self._end_one("remove", queue, job_id, "was removed", now, ())

    async def _end_one(
        self, name: str, queue: str, job_id: str, what: str, now: float, args: tuple[Any, ...]
    ) -> bool:
        sql = self._sql[name]

        async def work(conn: Any) -> bool:
            async with conn.transaction():
                row = await conn.fetchrow(sql, queue, job_id, *args)
                if row is not None and row[1]:
                    await self._cascade(conn, queue, [job_id], what, now)
                return row is not None

        return await self._run(work)

    async def retry_job(self, queue: str, job_id: str, now: float) -> bool:
        return await self._fetchrow("retry_job", queue, job_id) is not None

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
        row = await self._fetchrow("clean", queue, state.value, finished_before, keep_last, limit)
        return int(row[0])

    async def drain(self, queue: str) -> int:
        return await self._delete_batches("drain", queue)

    async def obliterate(self, queue: str) -> int:
        deleted = await self._delete_batches("obliterate.jobs", queue)
        await self._fetch("obliterate.rest", queue)
        self._buckets.discard(queue)
        return deleted

    async def _delete_batches(self, name: str, queue: str) -> int:
        deleted = 0
        while True:
            row = await self._fetchrow(name, queue, _BATCH)
            deleted += int(row[0])
            if row[0] < _BATCH:
                return deleted

    async def update_progress(self, queue: str, lease: Lease, progress: Any) -> bool:
        row = await self._fetchrow(
            "update_progress", queue, lease.job_id, lease.token, to_json(progress)
        )
        return row is not None

    # -- repeatables and workers ---------------------------------------------------------

    async def save_repeatable(self, repeatable: Repeatable) -> None:
        r = repeatable
        await self._fetch(
            "repeatables.save",
            r.queue,
            r.key,
            dumps(r.job).decode(),
            r.every,
            r.cron,
            r.created_at,
            r.paused,
        )

    async def list_repeatables(self, queue: str) -> list[Repeatable]:
        rows = await self._fetch("repeatables.list", queue)
        return [repeatable_from_row(r, queue) for r in rows]

    async def remove_repeatable(self, queue: str, key: str) -> bool:
        return await self._fetchrow("repeatables.remove", queue, key) is not None

    async def set_repeatable_paused(self, queue: str, key: str, paused: bool) -> bool:
        return await self._fetchrow("repeatables.set_paused", queue, key, paused) is not None

    async def record_worker(self, info: WorkerInfo) -> None:
        text = dumps(info.to_dict()).decode()
        await self._fetch("workers.record", info.queue, info.id, info.heartbeat_at, text)

    async def remove_worker(self, queue: str, worker_id: str) -> None:
        await self._fetch("workers.remove", queue, worker_id)

    async def list_workers(self, queue: str, *, seen_since: float) -> list[WorkerInfo]:
        rows = await self._fetch("workers.list", queue, seen_since)
        return [worker_from_json(r[0]) for r in rows]


async def _keep_session(connection: Any) -> None:
    """The pool's reset hook: nothing to undo (see PostgresBackend._create_pool)."""


def _matched(leases: Sequence[Lease], rows: list[Any]) -> list[bool]:
    """True for each lease the statement settled (id and token returned), each pair once."""
    done = {(r[0], r[1]) for r in rows}
    out = []
    for lease in leases:
        pair = (lease.job_id, lease.token)
        out.append(pair in done)
        done.discard(pair)
    return out


def _next_token_at(rate: RateLimit, tokens: float, now: float) -> float:
    """When the bucket left with ``tokens`` gets its next whole token (TokenBucket's rule)."""
    if rate.limit == 0:
        return math.inf
    if tokens >= 1:
        return now
    return now + (1 - tokens) * rate.interval / rate.limit


class _HasDependencies(Exception):
    """A job met while copying has dependencies: the batch takes the dependent path."""


def _any_dependent(jobs: Sequence[Job]) -> bool:
    return any(j.depends_on for j in jobs)

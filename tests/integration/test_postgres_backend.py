"""PostgreSQL-only behaviour: races across connections, transactional enqueue, LISTEN/NOTIFY
wake-ups, connection loss, migrations and the database-held rate limit."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from asyncmq.backends import from_url
from asyncmq.backends.base import Completion
from asyncmq.backends.postgres import PostgresBackend
from asyncmq.jobs import JobState
from asyncmq.ratelimit import RateLimit
from tests.conformance import T0, job, lease_of

pytestmark = pytest.mark.anyio

Factory = Callable[..., PostgresBackend]


@pytest.fixture
async def postgres_url(servers: Any) -> str:
    _, url = servers.url("postgres")
    return str(url)


@pytest.fixture
async def make(postgres_url: str) -> AsyncIterator[Factory]:
    """Backends on one fresh schema, each with its own small pool and listener; the schema is
    dropped afterwards. Their connections carry an application_name the test can find."""
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    app = f"asyncmq_{schema}"
    built: list[PostgresBackend] = []

    def factory(**options: Any) -> PostgresBackend:
        backend = PostgresBackend(
            f"{postgres_url}?application_name={app}",
            schema=schema,
            min_pool=1,
            max_pool=2,
            **options,
        )
        built.append(backend)
        return backend

    factory.application_name = app  # type: ignore[attr-defined]
    try:
        yield factory
    finally:
        for backend in built:
            await backend.aclose()
        conn = await asyncpg.connect(postgres_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()


async def test_concurrent_completions_across_connections_release_once(
    make: Factory, queue_name: str
) -> None:
    backends = [make() for _ in range(4)]
    for backend in backends:
        await backend.migrate()
    first = backends[0]
    for round_ in range(3):
        parents = [job(queue_name, id=f"r{round_}-p{i}") for i in range(12)]
        child = job(queue_name, id=f"r{round_}-child", depends_on=[p.id for p in parents])
        await first.enqueue(queue_name, [*parents, child], T0)
        claimed = (await first.claim(queue_name, 12, lease=30, token="t", now=T0)).jobs
        assert len(claimed) == 12

        async def settle(backend: PostgresBackend, j: Any) -> None:
            assert await backend.complete(queue_name, [Completion(lease_of(j), None)], T0) == [True]

        async with anyio.create_task_group() as tg:
            for i, j in enumerate(claimed):
                tg.start_soon(settle, backends[i % len(backends)], j)
        counts = await first.counts(queue_name)
        assert (counts[JobState.WAITING], counts[JobState.WAITING_CHILDREN]) == (1, 0)
        got = (await first.claim(queue_name, 5, lease=30, token="u", now=T0)).jobs
        assert [j.id for j in got] == [child.id]
        assert await first.complete(queue_name, [Completion(lease_of(got[0]), None)], T0)


async def test_enqueue_racing_a_completion_never_strands_the_child(
    make: Factory, queue_name: str
) -> None:
    producer, worker = make(), make()
    await producer.migrate()
    for i in range(15):
        parent = job(queue_name, id=f"p{i}")
        await producer.enqueue(queue_name, [parent], T0)
        (active,) = (await worker.claim(queue_name, 1, lease=30, token="t", now=T0)).jobs
        child = job(queue_name, id=f"c{i}", depends_on=[parent.id])
        async with anyio.create_task_group() as tg:
            tg.start_soon(producer.enqueue, queue_name, [child], T0)
            tg.start_soon(worker.complete, queue_name, [Completion(lease_of(active), None)], T0)
        stored = await producer.get_job(queue_name, child.id)
        assert stored is not None and stored.state is JobState.WAITING, (i, stored)
        (taken,) = (await worker.claim(queue_name, 1, lease=30, token="t", now=T0)).jobs
        await worker.complete(queue_name, [Completion(lease_of(taken), None)], T0)


# 1 job takes enqueue.sql:insert, 1200 the COPY path (from 1000 jobs)
@pytest.mark.parametrize("size", [1, 1200])
async def test_enqueue_joins_the_callers_transaction(
    make: Factory, postgres_url: str, queue_name: str, size: int
) -> None:
    import asyncpg

    backend, watcher = make(), make()
    await backend.migrate()
    await watcher.wait_for_jobs(queue_name, 0.1)  # connects its listener
    conn = await asyncpg.connect(postgres_url)
    try:
        rolled_back = [job(queue_name) for _ in range(size)]
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await backend.enqueue(queue_name, rolled_back, T0, connection=conn)
                raise RuntimeError("the caller's work failed")
        assert await backend.get_job(queue_name, rolled_back[-1].id) is None

        committed = [job(queue_name) for _ in range(size)]
        woke_at: list[float] = []

        async def waiter() -> None:
            await watcher.wait_for_jobs(queue_name, 10.0)
            woke_at.append(time.monotonic())

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(0.2)
            async with conn.transaction():
                await backend.enqueue(queue_name, committed, T0, connection=conn)
                await anyio.sleep(0.3)
                assert not woke_at  # nothing is visible, nor announced, before the commit
                assert await backend.get_job(queue_name, committed[-1].id) is None
            committed_at = time.monotonic()
        assert woke_at and woke_at[0] - committed_at < 1.0
        stored = await backend.get_job(queue_name, committed[-1].id)
        assert stored is not None and stored.state is JobState.WAITING
        assert (await backend.counts(queue_name))[JobState.WAITING] == size
    finally:
        await conn.close()
    with pytest.raises(TypeError):
        await backend.enqueue(queue_name, [job(queue_name)], T0, connection=object())


@pytest.mark.parametrize("size", [1, 1200])
async def test_notify_wakes_an_idle_worker_within_milliseconds(
    make: Factory, queue_name: str, size: int
) -> None:
    producer, worker = make(), make()
    await worker.wait_for_jobs(queue_name, 0.1)  # the first wait connects and returns
    await producer.enqueue(queue_name, [job(queue_name)], T0)
    await worker.wait_for_jobs(queue_name, 0.1)  # consumes the notification kept meanwhile
    delays = []
    for _ in range(3):
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                started = time.monotonic()
                await worker.wait_for_jobs(queue_name, 10.0)
                delays.append(time.monotonic() - started)

            tg.start_soon(wait)
            await anyio.sleep(0.2)
            sent = time.monotonic()
            await producer.enqueue(queue_name, [job(queue_name) for _ in range(size)], T0)
        assert delays[-1] < 5.0
        assert time.monotonic() - sent < 0.5
    assert all(0.15 < d < 0.7 for d in delays), delays


async def test_the_backend_survives_terminated_connections(
    make: Factory, postgres_url: str, queue_name: str
) -> None:
    import asyncpg

    backend, producer = make(), make()
    await backend.enqueue(queue_name, [job(queue_name)], T0)
    await backend.wait_for_jobs(queue_name, 0.1)  # connects the listener

    async def kill_all() -> int:
        conn = await asyncpg.connect(postgres_url)
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = $1",
                    make.application_name,  # type: ignore[attr-defined]
                )
            )
        finally:
            await conn.close()

    async with anyio.create_task_group() as tg:
        # a worker idle in wait_for_jobs returns (no exception) when its connection drops
        tg.start_soon(backend.wait_for_jobs, queue_name, 10.0)
        await anyio.sleep(0.2)
        assert await kill_all() >= 2
    with anyio.fail_after(5):
        claimed = await backend.claim(queue_name, 5, lease=30, token="t", now=T0)
    assert len(claimed.jobs) == 1
    assert await kill_all() >= 1
    assert await backend.complete(queue_name, [Completion(lease_of(claimed.jobs[0]), 1)], T0)
    # the listener reconnects on the next wait and wakes on the next enqueue
    await backend.wait_for_jobs(queue_name, 0.1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(backend.wait_for_jobs, queue_name, 10.0)
        await anyio.sleep(0.2)
        started = time.monotonic()
        await producer.enqueue(queue_name, [job(queue_name)], T0)
    assert time.monotonic() - started < 2.0
    counts = await backend.counts(queue_name)
    assert (counts[JobState.COMPLETED], counts[JobState.WAITING]) == (1, 1)


async def test_migrate_is_idempotent_and_versioned(
    make: Factory, postgres_url: str, queue_name: str
) -> None:
    import asyncpg

    backend = make()
    await backend.migrate()
    await backend.enqueue(queue_name, [job(queue_name, id="kept")], T0)
    again = make()
    await again.migrate()
    await again.migrate()
    assert await again.get_job(queue_name, "kept") is not None
    conn = await asyncpg.connect(postgres_url)
    try:
        versions = await conn.fetch(f"SELECT version FROM {backend._schema}.asyncmq_schema_version")
    finally:
        await conn.close()
    assert [r[0] for r in versions] == [1, 2, 3]


async def test_migrate_upgrades_a_version_1_schema(
    make: Factory, postgres_url: str, queue_name: str
) -> None:
    """A database left at version 1 (inserts did not notify) gets migration 2 on first use:
    then a bulk COPY alone wakes an idle worker."""
    import asyncpg

    backend = make()
    sql = backend._sql
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(sql.schema_sql)
        await backend.enqueue(queue_name, [job(queue_name, id="old")], T0)  # migrates
        versions = await conn.fetch(f"SELECT version FROM {backend._schema}.asyncmq_schema_version")
    finally:
        await conn.close()
    assert [r[0] for r in versions] == [1, 2, 3]
    woke = anyio.Event()
    await backend.wait_for_jobs(queue_name, 0.1)  # connects the listener
    await backend.wait_for_jobs(queue_name, 0.1)  # and takes the wake-up of "old"

    async def wait() -> None:
        await backend.wait_for_jobs(queue_name, 10.0)
        woke.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await anyio.sleep(0.2)
        with anyio.fail_after(2.0):
            await make().enqueue(queue_name, [job(queue_name) for _ in range(1000)], T0)
            await woke.wait()
    assert (await backend.counts(queue_name))[JobState.WAITING] == 1001


async def test_migrate_upgrades_a_version_2_schema_keeping_its_jobs(
    make: Factory, postgres_url: str, queue_name: str
) -> None:
    """Version 3 adds hard_timeout and context: jobs stored before read as None and {}."""
    import asyncpg

    backend = make()
    sql = backend._sql
    table = f"{backend._schema}.asyncmq_jobs"
    conn = await asyncpg.connect(postgres_url)
    try:
        async with conn.transaction():
            await conn.execute(sql.schema_sql)
            for number, script in sql.migrations:
                if number == 2:
                    await conn.execute(script)
                    await conn.execute(sql["migrate.record_version"], number)
        # as enqueue.sql:insert wrote a job at version 2
        await conn.execute(
            f"INSERT INTO {table} (queue, id, task_id, args, kwargs, priority, retries, "
            "created_at, state) VALUES ($1, 'old', 'tests.noop', '[1]', '{}', 5, 0, $2, "
            "'waiting')",
            queue_name,
            T0,
        )
        old = await backend.get_job(queue_name, "old")  # migrates
        versions = await conn.fetch(f"SELECT version FROM {backend._schema}.asyncmq_schema_version")
    finally:
        await conn.close()
    assert [r[0] for r in versions] == [1, 2, 3]
    assert old is not None
    assert (old.args, old.hard_timeout, old.context) == ([1], None, {})
    context = {"trace": {"traceparent": "00-..."}}
    await backend.enqueue(
        queue_name, [job(queue_name, id="new", hard_timeout=7.5, context=context)], T0
    )
    claimed = await backend.claim(queue_name, 2, lease=30.0, token="t", now=T0)
    assert [(j.id, j.hard_timeout, j.context) for j in claimed.jobs] == [
        ("old", None, {}),
        ("new", 7.5, context),
    ]


async def test_from_url_and_identifiers() -> None:
    built = from_url("postgresql://u@h:5432/db?schema=jobs&table_prefix=mq_&max_pool=3")
    assert isinstance(built, PostgresBackend)
    await built.aclose()
    for bad in ("Jobs", "a-b", "x; DROP TABLE y", ""):
        with pytest.raises(ValueError):
            PostgresBackend("postgresql://h/db", schema=bad)
    with pytest.raises(ValueError):
        PostgresBackend("postgresql://h/db", table_prefix='q"')


async def test_the_rate_limit_is_shared_through_the_database(
    make: Factory, queue_name: str
) -> None:
    one, two = make(), make()
    await one.enqueue(queue_name, [job(queue_name) for _ in range(10)], T0)
    rate = RateLimit(3, 1.0)
    got = []
    for backend in (one, two, one, two):
        claimed = await backend.claim(queue_name, 5, lease=30, token="t", now=T0, rate=rate)
        got.append(len(claimed.jobs))
    assert sum(got) == 3
    later = await two.claim(queue_name, 5, lease=30, token="t", now=T0 + 1, rate=rate)
    assert len(later.jobs) == 3


async def test_counts_stay_right_through_compaction(make: Factory, queue_name: str) -> None:
    backend = make()
    await backend.enqueue(queue_name, [job(queue_name) for _ in range(1500)], T0)
    claimed = (await backend.claim(queue_name, 40, lease=30, token="t", now=T0)).jobs
    done = [Completion(lease_of(j), None) for j in claimed[:30]]
    assert all(await backend.complete(queue_name, done, T0 + 1))
    await backend.promote_due(queue_name, T0 + 2)  # compacts the counts log
    counts = await backend.counts(queue_name)
    assert (counts[JobState.WAITING], counts[JobState.ACTIVE]) == (1460, 10)
    assert counts[JobState.COMPLETED] == 30
    assert await backend.clean(queue_name, JobState.COMPLETED, keep_last=5) == 25
    assert (await backend.counts(queue_name))[JobState.COMPLETED] == 5
    assert await backend.obliterate(queue_name) == 1475
    assert sum((await backend.counts(queue_name)).values()) == 0


async def test_a_large_enqueue_with_existing_ids_inserts_only_the_new(
    make: Factory, queue_name: str
) -> None:
    backend = make()
    first = [job(queue_name, id=f"j{i}") for i in range(1200)]
    await backend.enqueue(queue_name, first, T0)  # COPY path
    again = [job(queue_name, id=f"j{i}", args=["new"]) for i in range(600, 2400)]
    ids = await backend.enqueue(queue_name, again, T0)  # COPY refused: falls back to insert
    assert ids == [j.id for j in again]
    assert (await backend.counts(queue_name))[JobState.WAITING] == 2400
    kept = await backend.get_job(queue_name, "j700")
    assert kept is not None and kept.args == []
    listed = await backend.list_jobs(queue_name, JobState.WAITING, offset=1199, limit=2)
    assert [j.id for j in listed] == ["j1199", "j1200"]
    small = [job(queue_name, id=f"j{i}", args=["newer"]) for i in range(2395, 2410)]
    assert await backend.enqueue(queue_name, small, T0) == [j.id for j in small]  # COPY too
    assert (await backend.counts(queue_name))[JobState.WAITING] == 2410
    kept = await backend.get_job(queue_name, "j2399")
    assert kept is not None and kept.args == ["new"]


async def test_the_scanner_resolves_edges_a_crash_left_behind(
    make: Factory, queue_name: str
) -> None:
    backend = make()
    parent, other = job(queue_name, id="parent"), job(queue_name, id="other")
    child = job(queue_name, id="child", depends_on=["parent"])
    orphan = job(queue_name, id="orphan", depends_on=["other"])
    await backend.enqueue(queue_name, [parent, other, child, orphan], T0)
    a, b = (await backend.claim(queue_name, 2, lease=30, token="t", now=T0)).jobs
    # the settle statements alone, as if the process died before resolving dependents
    await backend._fetch("complete", queue_name, [a.id], ["t"], [None], T0, "on")
    await backend._fetch(
        "fail", queue_name, [b.id], ["t"], ['{"type":"E","message":"x"}'], T0, "on"
    )
    assert (await backend.counts(queue_name))[JobState.WAITING_CHILDREN] == 2
    await backend.promote_due(queue_name, T0 + 1)
    released = await backend.get_job(queue_name, "child")
    failed = await backend.get_job(queue_name, "orphan")
    assert released is not None and released.state is JobState.WAITING
    assert failed is not None and failed.state is JobState.FAILED
    assert failed.error is not None and failed.error.message == "dependency other ended failed"


async def test_claimers_on_separate_connections_never_share_a_job(
    make: Factory, queue_name: str
) -> None:
    backends = [make() for _ in range(4)]
    await backends[0].enqueue(queue_name, [job(queue_name) for _ in range(300)], T0)
    seen: list[str] = []

    async def claimer(backend: PostgresBackend, n: int) -> None:
        while got := (await backend.claim(queue_name, 7, lease=30, token=f"w{n}", now=T0)).jobs:
            seen.extend(j.id for j in got)

    async with anyio.create_task_group() as tg:
        for n, backend in enumerate(backends * 2):
            tg.start_soon(claimer, backend, n)
    assert len(seen) == len(set(seen)) == 300


async def test_first_rate_limited_claims_share_one_bucket(make: Factory) -> None:
    backends = [make() for _ in range(4)]
    queues = [f"q-{uuid.uuid4().hex[:12]}" for _ in range(4)]
    for name in queues:
        await backends[0].enqueue(name, [job(name) for _ in range(40)], T0)
    for backend in backends:
        await backend.get_job(queues[0], "warm-up")  # pools open, so the claims overlap
    rate = RateLimit(4, 1.0)
    got: dict[str, int] = dict.fromkeys(queues, 0)

    async def claim(backend: PostgresBackend, name: str) -> None:
        claimed = await backend.claim(name, 4, lease=30, token="t", now=T0, rate=rate)
        got[name] += len(claimed.jobs)

    async with anyio.create_task_group() as tg:
        for name in queues:
            for backend in backends * 2:
                tg.start_soon(claim, backend, name)
    assert set(got.values()) == {4}, got


async def _vacuums(backend: PostgresBackend) -> int:
    table = f"{backend._schema}.{backend._table}"
    return int(
        await backend._run(
            lambda conn: conn.fetchval(
                "SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = $1::regclass", table
            )
        )
    )


async def test_maintain_vacuums_the_jobs_table_once_enough_rows_churned(
    make: Factory, queue_name: str
) -> None:
    backend = make(vacuum_threshold=50)
    await backend.enqueue(queue_name, [job(queue_name) for _ in range(40)], T0)
    await backend.maintain(queue_name, T0)  # nothing dead yet
    assert await _vacuums(backend) == 0
    claimed = (await backend.claim(queue_name, 40, lease=30, token="t", now=T0)).jobs
    assert all(
        await backend.complete(queue_name, [Completion(lease_of(j), None) for j in claimed], T0)
    )
    await backend.maintain(queue_name, T0 + 0.5)  # looks at most once a second
    assert await _vacuums(backend) == 0
    await backend.maintain(queue_name, T0 + 2)  # 80 rows changed >= 50
    assert await _vacuums(backend) == 1
    await backend.maintain(queue_name, T0 + 4)  # nothing new to reclaim
    assert await _vacuums(backend) == 1
    assert (await backend.counts(queue_name))[JobState.COMPLETED] == 40


async def test_a_new_jobs_table_is_vacuumed_early_once(make: Factory, queue_name: str) -> None:
    """Its first vacuum gives the planner the table's size: until then a settle's cached plan
    reads the whole queue. After it, the usual threshold applies."""
    backend = make(vacuum_threshold=10_000)

    async def churn(n: int) -> None:
        await backend.enqueue(queue_name, [job(queue_name) for _ in range(n)], T0)
        claimed = (await backend.claim(queue_name, n, lease=30, token="t", now=T0)).jobs
        done = [Completion(lease_of(j), None) for j in claimed]
        assert all(await backend.complete(queue_name, done, T0))

    await churn(400)
    await backend.maintain(queue_name, T0)  # 800 rows changed < 1,000
    assert await _vacuums(backend) == 0
    await churn(200)
    await backend.maintain(queue_name, T0 + 2)  # 1,200 >= 1,000 on a never-vacuumed table
    assert await _vacuums(backend) == 1
    await churn(600)
    await backend.maintain(queue_name, T0 + 4)  # 1,200 < 10,000 from now on
    assert await _vacuums(backend) == 1


async def test_maintain_leaves_vacuum_to_autovacuum_when_asked(
    make: Factory, queue_name: str
) -> None:
    backend = make(vacuum_threshold=None)
    await backend.enqueue(queue_name, [job(queue_name) for _ in range(30)], T0)
    claimed = (await backend.claim(queue_name, 30, lease=30, token="t", now=T0)).jobs
    await backend.complete(queue_name, [Completion(lease_of(j), None) for j in claimed], T0)
    await backend.maintain(queue_name, T0 + 5)
    assert await _vacuums(backend) == 0
    built = from_url("postgresql://localhost/x?vacuum_threshold=off")
    assert isinstance(built, PostgresBackend) and built._vacuum_threshold is None
    assert from_url("postgresql://localhost/x?vacuum_threshold=500")._vacuum_threshold == 500  # type: ignore[attr-defined]


async def test_a_copied_batch_keeps_every_value_exactly(make: Factory) -> None:
    """Jobs that take the COPY path (text format) come back as the insert path stores them,
    whatever characters their strings hold."""
    from asyncmq.backoff import Backoff

    backend = make()
    odd = 'tab\there, line\nbreak, cr\r, back\\slash, \\N, quote", unicode é✓, \x0b'
    queue = "q\\odd\tname"
    tricky = [
        job(
            queue,
            id=f"{odd}#{i}",
            task_id=f"tasks.{odd}",
            args=[odd, i, -1.5e-300, {"k\\": [None, True, odd]}],
            kwargs={odd: odd, "n": 2**62},
            priority=-3 + i % 5,
            retries=i % 3,
            backoff=Backoff("exponential", 0.1, 30.0) if i % 2 else None,
            ttl=None if i % 3 else 12.25,
            timeout=0.1 + i if i % 4 else None,
            created_at=T0 + 1 / 3,
            run_at=T0 + 5 if i % 7 == 0 else None,
        )
        for i in range(1000)
    ]
    small = [dataclasses.replace(j, id="insert:" + j.id) for j in tricky[:14]]
    await backend.enqueue(queue, tricky, T0)  # COPY
    await backend.enqueue(queue, small, T0)  # enqueue.sql:insert
    fields = ("task_id", "args", "kwargs", "priority", "retries", "backoff", "ttl", "timeout")
    for sent, stored_id in [(j, j.id) for j in tricky[:14]] + [(j, j.id) for j in small]:
        stored = await backend.get_job(queue, stored_id)
        assert stored is not None, stored_id
        assert stored.id == stored_id
        assert [getattr(stored, f) for f in fields] == [getattr(sent, f) for f in fields]
        assert (stored.created_at, stored.run_at) == (sent.created_at, sent.run_at)
        assert stored.state is (JobState.DELAYED if sent.run_at else JobState.WAITING)
    counts = await backend.counts(queue)
    assert (counts[JobState.WAITING], counts[JobState.DELAYED]) == (857 + 12, 143 + 2)


async def test_a_failed_lazy_copy_leaves_the_callers_transaction_usable(
    make: Factory, postgres_url: str, queue_name: str
) -> None:
    import asyncpg

    from asyncmq.errors import SerializationError
    from asyncmq.queues import Queue

    queue = Queue(queue_name, backend=make())
    bad = [{"task_id": "m.f", "args": [i]} for i in range(1200)]
    bad[1100]["args"] = [{1, 2}]
    conn = await asyncpg.connect(postgres_url)
    try:
        async with conn.transaction():
            kept = await queue.add("m.f", args=["before"], connection=conn)
            with pytest.raises(SerializationError, match="job 1100"):
                await queue.add_bulk(bad, connection=conn)
            more = await queue.add_bulk(bad[:1000], connection=conn)
    finally:
        await conn.close()
    assert await queue.get_job(kept) is not None
    assert (await queue.queue_stats())["waiting"] == 1001
    assert await queue.get_job(more[-1]) is not None


async def test_a_lazy_batch_with_dependencies_takes_the_dependent_path(
    make: Factory, queue_name: str
) -> None:
    """A backend is not told in advance that a lazily built batch has dependencies: the COPY
    stops at the first such job, and the batch is stored with its edges instead."""
    from asyncmq.builder import JobBatch, JobBuilder

    backend = make()
    specs: list[dict[str, Any]] = [
        {"task_id": "m.f", "job_id": f"j{i}", "depends_on": ["j0"] if i == 1050 else None}
        for i in range(1100)
    ]
    batch = JobBatch(JobBuilder(queue_name, T0, 1100), specs, caller="add_bulk")
    ids = await backend.enqueue(queue_name, batch, T0)
    assert ids == [f"j{i}" for i in range(1100)]
    counts = await backend.counts(queue_name)
    assert (counts[JobState.WAITING], counts[JobState.WAITING_CHILDREN]) == (1099, 1)
    child = await backend.get_job(queue_name, "j1050")
    assert child is not None and child.depends_on == ["j0"]

"""What only the SQLite backend has: URLs, the file and its schema, joining the caller's
transaction, wake-ups between instances, and a corrupt record failing alone."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import anyio
import pytest

import asyncmq.backends.sqlite.backend as sqlite_backend
from asyncmq.backends import from_url
from asyncmq.backends.sqlite import SQLiteBackend
from asyncmq.backends.sqlite.statements import script
from asyncmq.errors import InvalidURLError
from asyncmq.jobs import Job, JobState
from asyncmq.ratelimit import RateLimit
from tests.conformance import T0, claim_one, job

pytestmark = pytest.mark.anyio


def test_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = SQLiteBackend.from_url("sqlite:///data/jobs.db")
    assert relative.path == str(tmp_path / "data" / "jobs.db")
    absolute = from_url(f"sqlite:///{tmp_path}/abs.db")
    assert isinstance(absolute, SQLiteBackend)
    assert absolute.path == str(tmp_path / "abs.db")
    assert SQLiteBackend.from_url("sqlite:///:memory:").path == ":memory:"
    tuned = SQLiteBackend.from_url("sqlite:///x.db?poll_interval=0.05&synchronous=full")
    assert (tuned.poll_interval, tuned.synchronous) == (0.05, "FULL")
    for bad in ("sqlite://host/x.db", "sqlite://", "sqlite:///x.db?nope=1"):
        with pytest.raises(InvalidURLError):
            SQLiteBackend.from_url(bad)


async def test_memory_database_works_in_process() -> None:
    async with SQLiteBackend(":memory:") as backend:
        await backend.enqueue("q", [job("q", id="a")], T0)
        assert (await claim_one(backend, "q")).id == "a"
        assert (await backend.counts("q"))[JobState.ACTIVE] == 1


async def test_the_file_and_schema_appear_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "jobs.db"
    backend = SQLiteBackend(path)
    assert not path.exists()
    async with backend:
        assert await backend.list_queues() == []
    assert path.exists()
    async with SQLiteBackend(path) as again:  # a second open finds the schema in place
        await again.enqueue("q", [job("q")], T0)
        assert (await again.counts("q"))[JobState.WAITING] == 1


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {sqlite_backend.SCHEMA_VERSION + 1}")
    conn.close()
    async with SQLiteBackend(path) as backend:
        with pytest.raises(RuntimeError, match="schema version"):
            await backend.counts("q")


# A job's `data` document as asyncmq wrote it before hard_timeout and context existed.
_DATA_BEFORE_HARD_TIMEOUT = (
    b'{"task_id":"tests.noop","args":[1],"kwargs":{},"retries":0,"backoff":null,'
    b'"timeout":null,"depends_on":[]}'
)


async def test_a_file_from_before_hard_timeout_and_context_keeps_working(
    tmp_path: Path,
) -> None:
    """The fields travel in the `data` document, so schema version 1 holds them: a file
    written before they existed opens as it is, its jobs read with the defaults, and a job at
    the defaults is stored exactly as before (a file stays readable by the older asyncmq)."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(script("schema"))
        conn.execute(
            "INSERT INTO jobs (queue, id, state, priority, seq, created_at, data)"
            " VALUES ('q', 'old', 'waiting', 5, 1, ?, ?)",
            (T0, _DATA_BEFORE_HARD_TIMEOUT),
        )
        conn.execute("INSERT INTO queues (name, next_seq) VALUES ('q', 1)")
    finally:
        conn.close()
    context = {"vars": {"user": "u1"}, "trace": {"traceparent": "00-..."}}
    async with SQLiteBackend(path) as backend:
        old = await backend.get_job("q", "old")
        assert old is not None
        assert (old.args, old.hard_timeout, old.context) == ([1], None, {})
        await backend.enqueue("q", [job("q", id="plain", args=[1])], T0)
        await backend.enqueue("q", [job("q", id="new", hard_timeout=7.5, context=context)], T0)
        listed = await backend.list_jobs("q", JobState.WAITING)
        assert [(j.id, j.hard_timeout, j.context) for j in listed] == [
            ("old", None, {}),
            ("plain", None, {}),
            ("new", 7.5, context),
        ]
        claimed = await backend.claim("q", 3, lease=30.0, token="t", now=T0)
        assert [j.id for j in claimed.jobs] == ["old", "plain", "new"]
    conn = sqlite3.connect(path)
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        (data,) = conn.execute("SELECT data FROM jobs WHERE id = 'plain'").fetchone()
    finally:
        conn.close()
    assert version == sqlite_backend.SCHEMA_VERSION == 1
    assert data == _DATA_BEFORE_HARD_TIMEOUT


async def test_enqueue_joins_the_callers_transaction(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    async with SQLiteBackend(path) as backend:
        await backend.migrate()
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN")
            await backend.enqueue("q", [job("q", id="kept")], T0, connection=conn)
            conn.execute("COMMIT")
            conn.execute("BEGIN")
            await backend.enqueue("q", [job("q", id="dropped")], T0, connection=conn)
            conn.execute("ROLLBACK")
            with pytest.raises(ValueError, match="open transaction"):
                await backend.enqueue("q", [job("q")], T0, connection=conn)
        finally:
            conn.close()
        assert await backend.get_job("q", "kept") is not None
        assert await backend.get_job("q", "dropped") is None
        with pytest.raises(TypeError):
            await backend.enqueue("q", [job("q")], T0, connection=object())
        other = sqlite3.connect(tmp_path / "other.db", isolation_level=None)
        try:
            other.execute("BEGIN")
            with pytest.raises(ValueError, match="not on"):
                await backend.enqueue("q", [job("q")], T0, connection=other)
        finally:
            other.close()


async def test_joining_a_transaction_needs_the_schema_first(tmp_path: Path) -> None:
    path = tmp_path / "bare.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        async with SQLiteBackend(path) as backend:
            with pytest.raises(RuntimeError, match="migrate"):
                await backend.enqueue("q", [job("q")], T0, connection=conn)
    finally:
        conn.close()


async def test_another_instance_wakes_a_waiter_by_polling(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    woke_after: list[float] = []
    async with SQLiteBackend(path) as waiting, SQLiteBackend(path) as producing:
        await waiting.claim("q", 1, lease=30, token="t", now=T0)

        async def waiter() -> None:
            started = time.monotonic()
            await waiting.wait_for_jobs("q", 10.0)
            woke_after.append(time.monotonic() - started)

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await anyio.sleep(0.2)
            await producing.enqueue("q", [job("q")], T0)
    assert woke_after and 0.2 <= woke_after[0] < 5.0


async def test_a_corrupt_record_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sqlite_backend.job_data

    def corrupting(j: Job) -> bytes:
        return b"{not json" if j.id == "bad" else real(j)

    monkeypatch.setattr(sqlite_backend, "job_data", corrupting)
    async with SQLiteBackend(tmp_path / "c.db") as backend:
        await backend.enqueue("q", [job("q", id="bad"), job("q", id="good")], T0)
        claimed = await backend.claim("q", 5, lease=30, token="t", now=T0)
        assert [j.id for j in claimed.jobs] == ["good"]
        counts = await backend.counts("q")
        assert (counts[JobState.FAILED], counts[JobState.ACTIVE]) == (1, 1)


async def test_counts_agree_with_the_jobs(tmp_path: Path) -> None:
    async with SQLiteBackend(tmp_path / "n.db") as backend:
        parent = job("q", id="parent")
        jobs = [parent, job("q", depends_on=["parent"]), job("q", run_at=T0 + 9), job("q")]
        await backend.enqueue("q", jobs, T0)
        await backend.cancel("q", "parent", T0)
        await claim_one(backend, "q")
        await backend.enqueue("q", [job("q", id=f"x{i}") for i in range(5)], T0)
        await backend.remove("q", "x1", T0)
        await backend.promote_due("q", T0 + 10)
        counts = await backend.counts("q")
        for state in JobState:
            assert counts[state] == len(await backend.list_jobs("q", state)), state
        assert sum(counts.values()) == 8


async def test_instances_share_the_rate_limit_bucket(tmp_path: Path) -> None:
    path = tmp_path / "rate.db"
    rate = RateLimit(3, 1.0)
    async with SQLiteBackend(path) as first, SQLiteBackend(path) as second:
        await first.enqueue("q", [job("q") for _ in range(10)], T0)
        got_first = await first.claim("q", 2, lease=30, token="a", now=T0, rate=rate)
        got_second = await second.claim("q", 5, lease=30, token="b", now=T0, rate=rate)
        assert (len(got_first.jobs), len(got_second.jobs)) == (2, 1)
        assert got_second.throttled_until == pytest.approx(T0 + 1 / 3)

"""What the MongoDB backend promises beyond the conformance suite: push wake-ups by change
stream (and the polling fallback where there is none), enqueue inside the caller's
transaction, dependency release across clients, index use, and the reference's semantics
where a batch is ordered."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path

import anyio
import pytest
from pymongo import AsyncMongoClient

from asyncmq.backends import from_url
from asyncmq.backends.base import BaseBackend, Completion, Lease
from asyncmq.backends.inmemory import InMemoryBackend
from asyncmq.backends.mongodb import MongoDBBackend, documents
from asyncmq.jobs import Job, JobState
from tests.servers import free_port
from tests.servers import mongodb as server

T0 = 1_700_000_000.0

pytestmark = pytest.mark.anyio


def _job(queue: str, **fields: object) -> Job:
    return Job(task_id="tests.noop", queue=queue, created_at=T0, **fields)  # type: ignore[arg-type]


@pytest.fixture
def mongodb_url(servers: object) -> str:
    _, url = servers.url("mongodb")  # type: ignore[attr-defined]
    return str(url)


@pytest.fixture
async def pair(mongodb_url: str) -> AsyncIterator[tuple[MongoDBBackend, MongoDBBackend]]:
    """Two backends with their own clients on one database, as two processes would have."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    a = MongoDBBackend(mongodb_url, database=database, poll_interval=60.0)
    b = MongoDBBackend(mongodb_url, database=database, poll_interval=60.0)
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


def test_from_url_takes_the_database_from_the_path() -> None:
    named = MongoDBBackend.from_url("mongodb://127.0.0.1:1/jobs_db?serverSelectionTimeoutMS=10")
    plain = from_url("mongodb://127.0.0.1:1")
    assert isinstance(plain, MongoDBBackend)
    assert named._db.name == "jobs_db"
    assert plain._db.name == "asyncmq"


async def _wake_time(waiter: MongoDBBackend, wake: Awaitable[object]) -> float:
    """Seconds a waiter on queue "q" took to wake after ``wake`` ran 0.3 s into its wait."""
    await anyio.sleep(0.3)  # let the set-up's own events arrive, then consume them
    await waiter.wait_for_jobs("q", 0.01)
    woke_after: list[float] = []

    async def wait() -> None:
        started = time.monotonic()
        await waiter.wait_for_jobs("q", 20.0)
        woke_after.append(time.monotonic() - started - 0.3)

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await anyio.sleep(0.3)
        await wake
    return woke_after[0]


async def test_a_change_stream_wakes_a_waiter_on_another_client(
    pair: tuple[MongoDBBackend, MongoDBBackend],
) -> None:
    waiter, producer = pair
    await waiter.wait_for_jobs("q", 0.01)  # opens the change stream
    woke = [await _wake_time(waiter, producer.enqueue("q", [_job("q")], T0))]
    await producer.pause("q")
    woke.append(await _wake_time(waiter, producer.resume("q")))
    await producer.enqueue("q", [_job("q", run_at=T0 + 5)], T0)
    woke.append(await _wake_time(waiter, producer.promote_due("q", T0 + 10)))
    await producer.drain("q")
    await producer.enqueue("q", [_job("q", id="p"), _job("q", id="c", depends_on=["p"])], T0)
    (parent,) = (await producer.claim("q", 1, lease=30, token="t", now=T0)).jobs
    done = producer.complete("q", [Completion(Lease(parent.id, "t"), None)], T0)
    woke.append(await _wake_time(waiter, done))  # the release of "c" wakes
    # poll_interval=60 and a 20 s timeout: only the change stream wakes the waiter this early
    assert waiter._wakeups.unsupported is None
    assert max(woke) < 3.0, woke


async def test_enqueue_joins_the_callers_transaction(mongodb_url: str) -> None:
    database = f"t_{uuid.uuid4().hex[:12]}"
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_url)
    backend = MongoDBBackend(client, database=database)
    try:
        await backend.enqueue("q", [_job("q", id="warm-up")], T0)  # collections exist
        for commit in (False, True):
            async with client.start_session() as session:
                await session.start_transaction()
                parent, child = _job("q"), _job("q", depends_on=["warm-up"])
                await backend.enqueue("q", [parent, child], T0, connection=session)
                if commit:
                    await session.commit_transaction()
                else:
                    await session.abort_transaction()
            stored = await backend.get_job("q", parent.id)
            assert (stored is not None) is commit
        with pytest.raises(TypeError):
            await backend.enqueue("q", [_job("q")], T0, connection=object())
        counts = await backend.counts("q")
        assert (counts[JobState.WAITING], counts[JobState.WAITING_CHILDREN]) == (2, 1)
    finally:
        await backend.aclose()
        await client.drop_database(database)
        await client.close()


async def test_completions_on_two_clients_release_a_dependent_once(
    pair: tuple[MongoDBBackend, MongoDBBackend],
) -> None:
    a, b = pair
    parents = [_job("q", id=f"p{i}") for i in range(20)]
    await a.enqueue("q", [*parents, _job("q", id="child", depends_on=[p.id for p in parents])], T0)
    claimed = (await a.claim("q", 20, lease=30, token="t", now=T0)).jobs
    assert len(claimed) == 20

    async def settle(backend: MongoDBBackend, jobs: list[Job]) -> None:
        for j in jobs:
            await backend.complete("q", [Completion(Lease(j.id, "t"), None)], T0)

    async with anyio.create_task_group() as tg:
        tg.start_soon(settle, a, claimed[0::2])
        tg.start_soon(settle, b, claimed[1::2])
    assert (await a.counts("q"))[JobState.WAITING] == 1
    assert [j.id for j in (await b.claim("q", 5, lease=30, token="u", now=T0)).jobs] == ["child"]


async def _states(backend: BaseBackend, queue: str, ids: list[str]) -> dict[str, tuple[str, str]]:
    out = {}
    for job_id in ids:
        stored = await backend.get_job(queue, job_id)
        assert stored is not None
        out[job_id] = (stored.state.value, stored.error.message if stored.error else "")
    return out


async def test_dependency_order_within_one_call_matches_the_reference(
    pair: tuple[MongoDBBackend, MongoDBBackend],
) -> None:
    mongo, _ = pair
    reference = InMemoryBackend()
    batch = [
        _job("q", id="early", depends_on=["late"]),  # "late" does not exist yet
        _job("q", id="late"),
        _job("q", id="on-early", depends_on=["early"]),  # cascades from "early"
        _job("q", id="on-late", depends_on=["late"]),
        _job("q", id="late", args=[2]),  # a duplicate id changes nothing
    ]
    for backend in (mongo, reference):
        assert await backend.enqueue("q", batch, T0) == [j.id for j in batch]
    ids = ["early", "late", "on-early", "on-late"]
    assert await _states(mongo, "q", ids) == await _states(reference, "q", ids)
    assert await mongo.counts("q") == await reference.counts("q")


async def test_transitions_use_indexes(pair: tuple[MongoDBBackend, MongoDBBackend]) -> None:
    backend, _ = pair
    await backend.enqueue("q", [_job("q")], T0)
    jobs = backend._jobs
    queries = [
        jobs.find({"queue": "q", "state": "waiting"}, sort=documents.WAITING_ORDER, limit=4),
        jobs.find({"queue": "q", "state": "delayed", "run_at": {"$lte": T0}}),
        jobs.find({"queue": "q", "state": "active", "lease_until": {"$lte": T0}}),
        jobs.find({"queue": "q", "state": "completed", "finished_at": {"$lt": T0}}),
        jobs.find({"queue": "q", "state": "completed"}, sort=documents.FINISHED_ORDER, skip=3),
        jobs.find({"queue": "q", "state": "waiting-children", "deps_left": "x"}),
        jobs.find({"queue": "q", "deps_pending": True}),
        jobs.find({"queue": "q", "admitting": True}),
    ]
    for query in queries:
        plan = str((await query.explain())["queryPlanner"]["winningPlan"])
        assert "IXSCAN" in plan and "COLLSCAN" not in plan, plan


@pytest.fixture(scope="module")
def standalone_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SecantusDB that presents itself as a standalone server, so has no change streams."""
    command = server._command()
    if command is None:
        pytest.skip("secantusd-py is not installed")
    workdir: Path = tmp_path_factory.mktemp("standalone")
    port = free_port()
    argv = [command, "--host", "127.0.0.1", "--port", str(port), "--standalone"]
    process = subprocess.Popen(
        [*argv, "--storage-path", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        server.wait_until_listening(process, port, workdir)
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        process.kill()  # throwaway data: no need for the 3.5 s clean stop
        process.wait()


async def test_without_change_streams_waiting_polls(standalone_url: str) -> None:
    backend = MongoDBBackend(standalone_url, database="t", poll_interval=0.2)
    try:
        started = time.monotonic()
        with anyio.fail_after(5):
            await backend.wait_for_jobs("q", 30.0)
        assert time.monotonic() - started < 3.0
        assert backend._wakeups.unsupported is not None
        assert "40573" in backend._wakeups.unsupported
        await backend.enqueue("q", [_job("q")], T0)
        assert len((await backend.claim("q", 1, lease=30, token="t", now=T0)).jobs) == 1
    finally:
        await backend.aclose()


async def test_the_scanner_repairs_what_a_crash_left_half_done(
    pair: tuple[MongoDBBackend, MongoDBBackend],
) -> None:
    backend, _ = pair
    parent, child = _job("q", id="parent"), _job("q", id="child", depends_on=["parent"])
    await backend.enqueue("q", [parent, child], T0)
    active = (await backend.claim("q", 1, lease=30, token="t", now=T0)).jobs[0]
    # A worker completes the parent and dies before releasing the child: the first write only.
    await backend._jobs.update_one(
        {"queue": "q", "id": active.id, "lease_token": "t"},
        documents.finish_pipeline(JobState.COMPLETED, T0 + 1, result=None),
    )
    # A producer inserts a dependent of the completed parent and dies before admitting it.
    orphan = documents.to_doc(
        _job("q", id="orphan", depends_on=["parent"]), "q", JobState.WAITING_CHILDREN, 1
    )
    await backend._jobs.insert_one(orphan)
    assert (await backend.counts("q"))[JobState.WAITING_CHILDREN] == 2
    assert await backend.requeue_expired("q", T0 + 2, max_stalls=1) == 0
    claimed = await backend.claim("q", 5, lease=30, token="u", now=T0 + 3)
    assert sorted(j.id for j in claimed.jobs) == ["child", "orphan"]
    assert await backend._jobs.count_documents({"deps_pending": True}) == 0
    assert await backend._jobs.count_documents({"admitting": True}) == 0


@pytest.mark.parametrize(
    ("finished_before", "keep_last", "limit"),
    [(T0 + 3, 1, 1000), (T0 + 3, 5, 1000), (T0 + 2, None, 1), (None, 2, 3), (T0 + 5, 0, 2)],
)
async def test_clean_deletes_what_the_reference_deletes(
    pair: tuple[MongoDBBackend, MongoDBBackend],
    finished_before: float | None,
    keep_last: int | None,
    limit: int,
) -> None:
    mongo, _ = pair
    reference = InMemoryBackend()
    survivors = []
    for backend in (mongo, reference):
        await backend.enqueue("q", [_job("q", id=f"j{i}") for i in range(6)], T0)
        for i in range(6):  # finished at T0 .. T0+5, so bounds fall exactly on a job
            (active,) = (await backend.claim("q", 1, lease=30, token="t", now=T0)).jobs
            await backend.complete("q", [Completion(Lease(active.id, "t"), None)], T0 + i)
        deleted = await backend.clean(
            "q",
            JobState.COMPLETED,
            finished_before=finished_before,
            keep_last=keep_last,
            limit=limit,
        )
        left = await backend.list_jobs("q", JobState.COMPLETED)
        survivors.append((deleted, [j.id for j in left]))
    assert survivors[0] == survivors[1]


async def test_wake_ups_reach_only_the_queue_that_changed(
    pair: tuple[MongoDBBackend, MongoDBBackend],
) -> None:
    waiter, producer = pair
    await producer.enqueue("q", [_job("q", run_at=T0 + 5)], T0)
    await waiter.wait_for_jobs("other", 0.01)  # opens the change stream
    await anyio.sleep(0.3)
    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter.wait_for_jobs, "other", 1.5)
        await anyio.sleep(0.2)
        assert (await producer.promote_due("q", T0 + 10)).count == 1
        await producer.enqueue("q", [_job("q")], T0)
    assert time.monotonic() - started >= 1.4


async def _claim_all(backend: BaseBackend, now: float, token: str) -> list[str]:
    return [j.id for j in (await backend.claim("q", 20, lease=30, token=token, now=now)).jobs]


async def test_claim_order_after_batched_moves_matches_the_reference(
    pair: tuple[MongoDBBackend, MongoDBBackend],
) -> None:
    mongo, _ = pair
    orders = []
    for backend in (mongo, InMemoryBackend()):
        # released together (ids out of order, some with a past run_at), promoted
        # together (run_at out of id order), requeued together (started one by one)
        batch = [_job("q", id="parent")]
        batch += [
            _job("q", id=f"c{i}", depends_on=["parent"], run_at=r)
            for i, r in ((3, None), (1, T0 - 1), (2, None))
        ]
        batch += [_job("q", id=f"d{i}", run_at=T0 + r) for i, r in ((1, 3), (2, 1), (3, 2))]
        await backend.enqueue("q", batch, T0)
        (parent,) = (await backend.claim("q", 1, lease=30, token="p", now=T0)).jobs
        await backend.complete("q", [Completion(Lease(parent.id, "p"), None)], T0)
        await backend.promote_due("q", T0 + 5)
        released_and_promoted = await _claim_all(backend, T0 + 5, "a")
        await backend.enqueue("q", [_job("q", id=f"r{i}") for i in (2, 1, 3)], T0)
        for i in range(3):
            await backend.claim("q", 1, lease=1, token="s", now=T0 + 10 + i)
        await backend.requeue_expired("q", T0 + 20, max_stalls=5)
        orders.append((released_and_promoted, await _claim_all(backend, T0 + 20, "b")))
    assert orders[0] == orders[1]

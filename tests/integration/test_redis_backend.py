"""What the Redis backend promises beyond the conformance suite: one slot per queue, push
wake-ups across connections, a rate limit shared by every client, bulk enqueue in chunks,
corrupt records, construction from URLs and clients. Runs on one node and on the cluster."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from importlib import resources

import anyio
import pytest
from redis.asyncio import Redis, RedisCluster
from redis.crc import key_slot

from asyncmq.backends import from_url
from asyncmq.backends.base import Completion, Lease
from asyncmq.backends.redis import RedisBackend, keys
from asyncmq.backends.redis.records import JOB_FIELDS
from asyncmq.jobs import Job, JobState
from asyncmq.ratelimit import RateLimit

T0 = 1_700_000_000.0

pytestmark = pytest.mark.anyio


def _job(queue: str, **fields: object) -> Job:
    return Job(task_id="tests.noop", queue=queue, created_at=T0, **fields)  # type: ignore[arg-type]


@pytest.fixture(params=["redis", "redis_cluster"])
def redis_url(request: pytest.FixtureRequest, servers: object) -> str:
    _, url = servers.url(request.param)  # type: ignore[attr-defined]
    return str(url)


@pytest.fixture
async def pair(redis_url: str) -> AsyncIterator[tuple[RedisBackend, RedisBackend]]:
    """Two backends on one prefix, as two processes would have."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    async with (
        RedisBackend(redis_url, prefix=prefix) as a,
        RedisBackend(redis_url, prefix=prefix) as b,
    ):
        yield a, b


def test_every_key_of_a_queue_is_in_one_slot() -> None:
    queue_keys = keys.queue_keys("asyncmq", "emails:high")
    slots = {key_slot(k.encode()) for k in [*queue_keys, keys.job(queue_keys, "some-id")]}
    assert len(slots) == 1
    assert keys.pick(queue_keys, "marker") == "asyncmq:{emails:high}:marker"


def test_lua_reads_the_job_fields_in_python_order() -> None:
    common = resources.files("asyncmq.backends.redis").joinpath("scripts", "common.lua")
    found = re.search(r"local JOB_FIELDS = \{(.*?)\}", common.read_text("utf-8"), re.S)
    assert found is not None
    assert tuple(re.findall(r"'([a-z_]+)'", found.group(1))) == JOB_FIELDS


async def test_an_enqueue_elsewhere_wakes_a_waiter_at_once(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    waiter, producer = pair
    woke: list[float] = []

    async def wait() -> None:
        started = time.monotonic()
        await waiter.wait_for_jobs(queue_name, 10.0)
        woke.append(time.monotonic() - started)

    for move in ("enqueue", "resume", "requeue"):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            await anyio.sleep(0.1)
            if move == "enqueue":
                await producer.enqueue(queue_name, [_job(queue_name, id="j")], T0)
            elif move == "resume":
                await producer.resume(queue_name)
            else:
                await producer.claim(queue_name, 1, lease=1, token="t", now=T0)
                await waiter.wait_for_jobs(queue_name, 0.01)  # eat the claim's own wake-up
                await producer.requeue_expired(queue_name, T0 + 5, max_stalls=5)
    assert len(woke) == 3
    assert max(woke) < 0.1 + 1.0, woke


async def test_wait_and_claim_claims_in_the_round_trip_of_the_wake_up(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str, redis_url: str
) -> None:
    waiter, producer = pair
    got: list[list[Job]] = []

    async def wait() -> None:
        claimed = await waiter.wait_and_claim(
            queue_name, 5, timeout=10.0, lease=30, token="w", now=T0
        )
        got.append(claimed.jobs)

    # A fresh server loads the scripts on the first wait, which claims nothing.
    await waiter.wait_and_claim(queue_name, 5, timeout=0.01, lease=30, token="v", now=T0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await anyio.sleep(0.3)
        await producer.enqueue(queue_name, [_job(queue_name, id="j")], T0)
    if "cluster" in redis_url:  # a cluster client only waits; the worker claims next
        assert got == [[]]
        return
    ((taken,),) = got
    # The claim ran when the wait ended: its instant is the caller's `now` moved on by the
    # wait's length on the server's clock.
    assert taken.started_at is not None and T0 + 0.25 <= taken.started_at < T0 + 3
    assert taken.lease_until == pytest.approx(taken.started_at + 30)
    stored = await producer.get_job(queue_name, "j")
    assert stored is not None and stored.started_at == taken.started_at


async def test_wait_with_no_time_left_returns_at_once(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    with anyio.fail_after(1):
        await pair[0].wait_for_jobs(queue_name, 0)


async def test_the_rate_limit_is_shared_by_every_client(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    a, b = pair
    await a.enqueue(queue_name, [_job(queue_name) for _ in range(20)], T0)
    rate = RateLimit(5, 10.0)
    taken = 0
    for n in range(6):
        claimer = a if n % 2 else b
        got = await claimer.claim(
            queue_name, 3, lease=30, token=f"t{n}", now=T0 + n * 0.1, rate=rate
        )
        taken += len(got.jobs)
    assert taken == 5


async def test_bulk_enqueue_keeps_arrival_order_across_chunks(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    backend, _ = pair
    jobs = [_job(queue_name, id=f"j{i:05}") for i in range(2500)]
    assert await backend.enqueue(queue_name, jobs, T0) == [j.id for j in jobs]
    listed = await backend.list_jobs(queue_name, JobState.WAITING, offset=995, limit=10)
    assert [j.id for j in listed] == [f"j{i:05}" for i in range(995, 1005)]
    # with dependencies reaching back into an earlier chunk
    other = f"{queue_name}-deps"
    chained = [_job(other, id=f"c{i:05}") for i in range(1500)]
    chained.append(_job(other, id="last", depends_on=["c00000", "c01499"]))
    await backend.enqueue(other, chained, T0)
    counts = await backend.counts(other)
    assert (counts[JobState.WAITING], counts[JobState.WAITING_CHILDREN]) == (1500, 1)
    await backend.obliterate(other)


async def test_clean_deletes_in_batches(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    backend, _ = pair
    await backend.enqueue(queue_name, [_job(queue_name) for _ in range(1200)], T0)
    claimed = (await backend.claim(queue_name, 1200, lease=30, token="t", now=T0)).jobs
    done = [Completion(Lease(j.id, "t"), None) for j in claimed]
    assert all(await backend.complete(queue_name, done, T0 + 1))
    assert await backend.clean(queue_name, JobState.COMPLETED, keep_last=10, limit=5000) == 1190
    assert (await backend.counts(queue_name))[JobState.COMPLETED] == 10


async def test_a_corrupt_record_fails_alone(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str, redis_url: str
) -> None:
    backend, _ = pair
    await backend.enqueue(queue_name, [_job(queue_name, id="bad"), _job(queue_name, id="ok")], T0)
    key = keys.job(backend._keys_of(queue_name), "bad")
    await backend._redis.hset(key, "data", b"{not json")
    claimed = await backend.claim(queue_name, 5, lease=30, token="t", now=T0)
    assert [j.id for j in claimed.jobs] == ["ok"]
    failed = (await backend.counts(queue_name))[JobState.FAILED]
    assert failed == 1


async def test_built_from_a_url_or_a_client(redis_url: str, queue_name: str) -> None:
    built = from_url(redis_url)
    assert isinstance(built, RedisBackend)
    await built.aclose()
    with pytest.raises(ValueError, match="prefix"):
        RedisBackend(redis_url, prefix="a{b}")
    client: Redis | RedisCluster
    if redis_url.startswith("redis+cluster://"):
        client = RedisCluster.from_url("redis://" + redis_url[len("redis+cluster://") :])
    else:
        client = Redis.from_url(redis_url)
    async with RedisBackend(client, prefix=f"t{uuid.uuid4().hex[:12]}") as backend:
        await backend.enqueue(queue_name, [_job(queue_name, id="x")], T0)
        assert (await backend.claim(queue_name, 1, lease=30, token="t", now=T0)).jobs
        await backend.obliterate(queue_name)
    assert await client.ping()  # the caller's client stays open
    await client.aclose()


async def test_a_repeated_id_in_one_call_keeps_the_first(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    backend, _ = pair
    first, again = _job(queue_name, id="a", args=[1]), _job(queue_name, id="a", args=[2])
    assert await backend.enqueue(queue_name, [first, again], T0) == ["a", "a"]
    # an id stored already, beside a new one: the per-job check
    await backend.enqueue(queue_name, [_job(queue_name, id="a", args=[3]), _job(queue_name)], T0)
    stored = await backend.get_job(queue_name, "a")
    assert stored is not None and stored.args == [1]
    assert (await backend.counts(queue_name))[JobState.WAITING] == 2


async def test_scripts_come_back_after_a_script_flush(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    backend, _ = pair
    await backend._redis.script_flush()
    # two chunks with a dependency between them: the pipelined path
    jobs = [_job(queue_name, id=f"c{i:05}") for i in range(1001)]
    jobs.append(_job(queue_name, id="last", depends_on=["c00000"]))
    await backend.enqueue(queue_name, jobs, T0)
    await backend._redis.script_flush()
    claimed = await backend.claim(queue_name, 1, lease=30, token="t", now=T0)
    assert [j.id for j in claimed.jobs] == ["c00000"]
    assert (await backend.counts(queue_name))[JobState.WAITING_CHILDREN] == 1


async def test_clean_takes_the_newest_of_the_doomed_first(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    backend, _ = pair
    await backend.enqueue(queue_name, [_job(queue_name, id=f"j{i}") for i in range(3)], T0)
    for i in range(3):
        (active,) = (await backend.claim(queue_name, 1, lease=30, token="t", now=T0)).jobs
        await backend.complete(queue_name, [Completion(Lease(active.id, "t"), None)], T0 + i)
    assert await backend.clean(queue_name, JobState.COMPLETED, keep_last=0, limit=2) == 2
    assert [j.id for j in await backend.list_jobs(queue_name, JobState.COMPLETED)] == ["j0"]


async def test_the_pipelined_connection_stays_in_step(
    pair: tuple[RedisBackend, RedisBackend], queue_name: str
) -> None:
    backend, other = pair
    wire = backend._wire
    if wire is None:
        pytest.skip("a cluster's scripts run on redis-py, not on the pipelined connection")
    # A caller cancelled while its reply is due: the reply is read and dropped.
    with anyio.move_on_after(0.05):
        await wire.execute("BLPOP", f"{queue_name}-nothing", 0.2)
    assert await wire.execute("PING") == b"PONG"
    # A connection killed under it: the next call connects again (calls retry).
    await backend.enqueue(queue_name, [_job(queue_name, id="a")], T0)
    client_id = await wire.execute("CLIENT", "ID")
    await other._redis.execute_command("CLIENT", "KILL", "ID", client_id)
    assert (await backend.counts(queue_name))[JobState.WAITING] == 1
    assert await wire.execute("CLIENT", "ID") != client_id
    # A cancelled wait is ended on the server at once and keeps its connection.
    with anyio.move_on_after(0.05):
        await backend.wait_for_jobs(f"{queue_name}-idle", 5.0)
    (waiter,) = backend._idle_waiters
    assert waiter._replies is not None and not waiter._replies.lost
    held = await waiter.execute("CLIENT", "ID")
    assert held == waiter._replies.client_id
    started = time.monotonic()
    await backend.wait_for_jobs(f"{queue_name}-idle", 0.05)
    assert time.monotonic() - started < 0.5
    assert await waiter.execute("CLIENT", "ID") == held

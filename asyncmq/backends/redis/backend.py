"""RedisBackend: the backend contract on Redis or Redis Cluster, one Lua script per transition
(``scripts/<verb>.lua``), keys from :mod:`asyncmq.backends.redis.keys`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import anyio
import anyio.lowlevel
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
from asyncmq.backends.redis import keys
from asyncmq.backends.redis.clients import (
    AnyRedis,
    Pipelined,
    connect,
    pipelined,
    script_source,
    sibling,
)
from asyncmq.backends.redis.records import JOB_FIELDS, decode, enqueue_args, num, number, text
from asyncmq.jobs import Job, JobError, JobState
from asyncmq.ratelimit import RateLimit
from asyncmq.serializers import dumps, loads

_SCRIPTS = (
    "enqueue",
    "claim",
    "extend_lease",
    "complete",
    "retry",
    "fail",
    "promote_due",
    "requeue_expired",
    "counts",
    "list_jobs",
    "resume",
    "cancel",
    "retry_job",
    "remove",
    "clean",
    "drain",
    "obliterate",
    "update_progress",
    "save_repeatable",
    "record_worker",
    "remove_worker",
    "list_workers",
    "wait_start",
    "release",
)
# Jobs per script call where a call may touch many: long enough to amortise the round trip,
# short enough (about a millisecond of server time) not to stall other clients.
_BATCH = 1000
# A bulk enqueue on one server goes in chunks this size, so that the server runs one chunk
# while this process encodes the next (measured on two idle cores, 1,000-job add_bulk calls:
# about 105-115k jobs/s as one script call, 110-128k in chunks of 250; 125 and 500 no better).
_OVERLAP = 250
# Enqueue chunks of one bulk call in flight at once when they are independent.
_IN_FLIGHT = 4
# After a dropped connection wait_for_jobs pauses this long so a worker whose server is down
# does not spin.
_RECONNECT_PAUSE = 0.25


class RedisBackend(BaseBackend):
    """Jobs in Redis (``redis://``, ``rediss://``) or Redis Cluster (``redis+cluster://``).

    ``url_or_client`` may be a ``redis.asyncio.Redis`` or ``RedisCluster`` client, which the
    backend then uses but does not close. Every key starts with ``prefix`` and carries the
    queue as a hash tag. ``retries`` bounds how often a call is retried on a connection error
    (with backoff) before the error is raised. Every call is safe to retry: enqueue is
    idempotent by id, settles are fenced, and a retried claim gets back the jobs of an attempt
    whose reply was lost (with a given Cluster client, its own retry policy applies).
    """

    def __init__(
        self,
        url_or_client: str | Redis | RedisCluster = "redis://localhost:6379/0",
        *,
        prefix: str = "asyncmq",
        retries: int = 8,
    ) -> None:
        if "{" in prefix or "}" in prefix:
            raise ValueError("the key prefix cannot contain '{' or '}' (they mark hash tags)")
        self._prefix = prefix
        self._retries = retries
        self._owns = isinstance(url_or_client, str)
        client = (
            connect(url_or_client, retries) if isinstance(url_or_client, str) else url_or_client
        )
        self._redis: AnyRedis = client
        # Scripts, the hot path, run on one pipelined connection when the URL is a plain
        # redis:// one; on redis-py's clients otherwise.
        self._wire = pipelined(url_or_client) if isinstance(url_or_client, str) else None
        # Blocking pops hold their connection: each waits on one of its own, kept for reuse.
        self._url = url_or_client if isinstance(url_or_client, str) else ""
        self._waiters: list[Pipelined] = []
        self._idle_waiters: list[Pipelined] = []
        self._claimer: AnyRedis = client
        self._blocking: AnyRedis = client
        self._siblings: list[AnyRedis] = []
        if isinstance(client, Redis) and self._wire is None:
            # Claims retry in claim() itself; blocking pops hold a connection each, so they
            # get a pool of their own and never starve the calls on the main one, and no
            # socket timeout, which would cut a long wait short.
            self._claimer = sibling(client)
            self._blocking = sibling(client, socket_timeout=None)
            self._siblings = [self._claimer, self._blocking]
        elif isinstance(url_or_client, str):
            self._claimer = connect(url_or_client, 0)
            self._siblings = [self._claimer]
        self._scripts: dict[str, AsyncScript] = {
            name: client.register_script(script_source(name)) for name in _SCRIPTS
        }
        self._keys: dict[str, list[str]] = {}
        self._registered: set[str] = set()

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "asyncmq") -> RedisBackend:
        """``redis://host:port/db``, ``rediss://`` (TLS) or ``redis+cluster://host:port``."""
        return cls(url, prefix=prefix)

    # -- plumbing ------------------------------------------------------------------------

    def _keys_of(self, queue: str) -> list[str]:
        found = self._keys.get(queue)
        if found is None:
            found = self._keys[queue] = keys.queue_keys(self._prefix, queue)
        return found

    async def _call(self, name: str, queue: str, args: Sequence[Any], *, retry: bool = True) -> Any:
        """Run script ``name``; with ``retry`` (every call is safe to repeat) a dropped
        connection is retried with backoff up to ``retries`` times."""
        if self._wire is None:
            client = None if retry else self._claimer
            return await self._scripts[name](self._keys_of(queue), args, client=client)
        script = self._scripts[name]
        keys = self._keys_of(queue)
        failures = 0
        while True:
            try:
                try:
                    return await self._wire.execute("EVALSHA", script.sha, len(keys), *keys, *args)
                except NoScriptError:
                    # The server restarted or its scripts were flushed.
                    await self._wire.execute("SCRIPT", "LOAD", script.script)
                    return await self._wire.execute("EVALSHA", script.sha, len(keys), *keys, *args)
            except (RedisConnectionError, RedisTimeoutError):
                failures += 1
                if not retry or failures > self._retries:
                    raise
                await anyio.sleep(_backoff(failures))

    async def _call_many(self, name: str, queue: str, arglists: list[list[Any]]) -> None:
        """Run one script several times in order: pipelined on one server, one by one on a
        cluster (the calls may depend on each other, and a cluster pipeline may reorder)."""
        if len(arglists) == 1 or isinstance(self._redis, RedisCluster):
            for args in arglists:
                await self._call(name, queue, args)
            return
        script = self._scripts[name]
        queue_keys = self._keys_of(queue)
        if self._wire is not None:
            await self._pipelined_many(script, queue_keys, arglists)
            return
        for attempt in range(2):
            pipe = self._redis.pipeline(transaction=False)
            for args in arglists:
                pipe.evalsha(script.sha, len(queue_keys), *queue_keys, *args)
            try:
                await pipe.execute()
                return
            except NoScriptError:
                if attempt:
                    raise
                # The server restarted or was flushed; the calls are idempotent, so rerun.
                script.sha = await self._redis.script_load(script.script)

    async def _pipelined_many(
        self, script: AsyncScript, queue_keys: list[str], arglists: Iterable[list[Any]]
    ) -> None:
        """Run one script several times in order on the pipelined connection, each call sent
        as soon as ``arglists`` yields its arguments (the server runs one while the next is
        encoded). The calls must be idempotent: after a failure they all run again."""
        assert self._wire is not None
        head = ("EVALSHA", script.sha, len(queue_keys), *queue_keys)
        sent: list[tuple[Any, ...]] = []

        def commands() -> Iterator[tuple[Any, ...]]:
            for args in arglists:
                sent.append((*head, *args))
                yield sent[-1]

        pending = commands()
        source: Iterable[tuple[Any, ...]] = pending
        failures = 0
        loaded = False
        while True:
            try:
                replies = await self._wire.execute_many(source)
            except (RedisConnectionError, RedisTimeoutError) as exc:
                replies = [exc]
            for _ in pending:  # the calls not sent yet, so that a rerun has them all
                pass
            source = sent
            lost = [r for r in replies if isinstance(r, (RedisConnectionError, RedisTimeoutError))]
            if lost:
                failures += 1
                if failures > self._retries:
                    raise lost[0]
                await anyio.sleep(_backoff(failures))
            elif any(isinstance(r, NoScriptError) for r in replies) and not loaded:
                # The server restarted or its scripts were flushed.
                await self._wire.execute("SCRIPT", "LOAD", script.script)
                loaded = True
            else:
                for reply in replies:
                    if isinstance(reply, Exception):
                        raise reply
                return

    async def _register(self, queue: str) -> None:
        # Once per process and queue; the registry is only read by list_queues, which
        # checks each name it finds.
        if queue not in self._registered:
            await self._redis.sadd(keys.registry(self._prefix), queue)
            self._registered.add(queue)

    # -- transitions ---------------------------------------------------------------------

    async def enqueue(
        self, queue: str, jobs: Sequence[Job], now: float, *, connection: object | None = None
    ) -> list[str]:
        if connection is not None:
            raise TypeError("RedisBackend cannot join a caller's transaction (connection=)")
        if not jobs:
            return []
        await self._register(queue)
        now_s = num(now)
        if self._wire is not None and len(jobs) > _OVERLAP:
            # One connection runs calls in the order sent, so chunks keep arrival order and
            # may depend on earlier ones; each is sent as soon as it is encoded, and the
            # server runs it while the next is encoded.
            arglists = (
                enqueue_args(now_s, jobs[i : i + _OVERLAP]) for i in range(0, len(jobs), _OVERLAP)
            )
            await self._pipelined_many(self._scripts["enqueue"], self._keys_of(queue), arglists)
        elif len(jobs) <= _BATCH:
            await self._call("enqueue", queue, enqueue_args(now_s, jobs))
        elif any(job.depends_on for job in jobs) or len({job.id for job in jobs}) < len(jobs):
            # A chunk may depend on (or repeat an id of) an earlier one: keep them in order.
            chunks = [jobs[i : i + _BATCH] for i in range(0, len(jobs), _BATCH)]
            await self._call_many("enqueue", queue, [enqueue_args(now_s, c) for c in chunks])
        else:
            await self._enqueue_overlapped(queue, now_s, jobs)
        return [job.id for job in jobs]

    async def _enqueue_overlapped(self, queue: str, now_s: str, jobs: Sequence[Job]) -> None:
        """Independent chunks, a few in flight on separate connections: the server runs one
        chunk while this process encodes the next, so the two costs overlap."""
        in_flight = anyio.Semaphore(_IN_FLIGHT)
        meta = keys.pick(self._keys_of(queue), "meta")
        first_seq = await self._redis.hincrby(meta, "seq", len(jobs)) - len(jobs) + 1

        async def send(args: list[Any]) -> None:
            try:
                await self._call("enqueue", queue, args)
            finally:
                in_flight.release()

        async with anyio.create_task_group() as tg:
            for start in range(0, len(jobs), _BATCH):
                args = enqueue_args(now_s, jobs[start : start + _BATCH], first_seq + start)
                await in_flight.acquire()
                tg.start_soon(send, args)
                await anyio.lowlevel.checkpoint()  # let it write its command now

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
        if limit <= 0:
            return Claimed([])
        args = _claim_args(limit, lease, token, now, rate)
        failures = 0
        while True:
            try:
                reply = await self._call("claim", queue, args, retry=False)
                break
            except (RedisConnectionError, RedisTimeoutError):
                # The claim may have run with its reply lost: the retry says so, and gets
                # back the jobs that attempt took instead of orphaning them.
                failures += 1
                if failures > self._retries:
                    raise
                args[-1] = "1"
                await anyio.sleep(_backoff(failures))
        return await self._claimed(queue, token, reply, now)

    async def _claimed(self, queue: str, token: str, reply: list[Any], now: float) -> Claimed:
        """The Claimed of a claim script's reply."""
        jobs = []
        corrupt = []
        for row in reply[1:]:
            try:
                jobs.append(decode(queue, row))
            except (ValueError, TypeError, KeyError) as exc:
                # A record we cannot read fails alone; the rest of the claim goes on.
                error = JobError("CorruptJobError", f"cannot decode the stored job: {exc}")
                corrupt.append(Failure(Lease(text(row[0]), token), error))
        if corrupt:
            await self.fail(queue, corrupt, now)
        throttled = None if reply[0] is None else float(reply[0])
        return Claimed(jobs, throttled)

    async def extend_lease(self, queue: str, leases: Sequence[Lease], until: float) -> list[bool]:
        if not leases:
            return []
        args: list[Any] = [num(until), len(leases)]
        for lease in leases:
            args += (lease.job_id, lease.token)
        return [bool(x) for x in await self._call("extend_lease", queue, args)]

    async def complete(self, queue: str, items: Sequence[Completion], now: float) -> list[bool]:
        if not items:
            return []
        args: list[Any] = [num(now), len(items)]
        for item in items:
            result = b"" if item.result is None else dumps(item.result)
            args += (item.lease.job_id, item.lease.token, result)
        return [bool(x) for x in await self._call("complete", queue, args)]

    async def retry(self, queue: str, items: Sequence[Retrial], now: float) -> list[bool]:
        if not items:
            return []
        args: list[Any] = [num(now), len(items)]
        for item in items:
            error = dumps(item.error.to_dict())
            args += (item.lease.job_id, item.lease.token, error, num(item.run_at))
        return [bool(x) for x in await self._call("retry", queue, args)]

    async def fail(self, queue: str, items: Sequence[Failure], now: float) -> list[bool]:
        if not items:
            return []
        args: list[Any] = [num(now), len(items)]
        for item in items:
            args += (item.lease.job_id, item.lease.token, dumps(item.error.to_dict()))
        return [bool(x) for x in await self._call("fail", queue, args)]

    async def promote_due(self, queue: str, now: float) -> Promoted:
        count = 0
        while True:
            moved: int
            moved, looked, next_run_at = await self._call("promote_due", queue, [num(now), _BATCH])
            count += moved
            if looked < _BATCH:
                return Promoted(count, number(next_run_at))

    async def requeue_expired(self, queue: str, now: float, *, max_stalls: int) -> int:
        count = 0
        while True:
            moved: int
            looked: int
            moved, looked = await self._call(
                "requeue_expired", queue, [num(now), int(max_stalls), _BATCH]
            )
            count += moved
            if looked < _BATCH:
                return count

    async def wait_for_jobs(self, queue: str, timeout: float) -> None:
        if timeout <= 0:
            return
        marker = keys.pick(self._keys_of(queue), "marker")
        try:
            # The server ends the BLPOP at `timeout`; the scope is a backstop for a silent
            # network, where the reply would never come.
            with anyio.move_on_after(timeout + 1.0):
                if self._wire is not None:
                    await self._pop_marker(self._wire, marker, timeout)
                else:
                    await self._blocking.blpop([marker], timeout=max(timeout, 0.001))
        except (RedisConnectionError, RedisTimeoutError, OSError):
            # Spurious wake-ups are allowed: the worker loop carries on and, on its next
            # call, the connection is made again.
            await anyio.sleep(min(timeout, _RECONNECT_PAUSE))

    async def wait_and_claim(
        self,
        queue: str,
        limit: int,
        *,
        timeout: float,
        lease: float,
        token: str,
        now: float,
        rate: RateLimit | None = None,
    ) -> Claimed:
        """On one server: the blocking pop of the marker and the claim behind it go in one
        write on the waiter's connection, so the server runs the claim the moment the wait
        ends, a round trip sooner than the worker could ask (the claim takes jobs only if the
        wait got a wake-up; see claim.lua). On a cluster: wait only."""
        if self._wire is None or timeout <= 0 or limit <= 0:
            return await super().wait_and_claim(
                queue, limit, timeout=timeout, lease=lease, token=token, now=now, rate=rate
            )
        queue_keys = self._keys_of(queue)
        head = (len(queue_keys), *queue_keys)
        stamp, claim = self._scripts["wait_start"], self._scripts["claim"]
        commands = [
            ("EVALSHA", stamp.sha, *head, token, int((timeout + 60) * 1000)),
            (
                "BLMOVE",
                keys.pick(queue_keys, "marker"),
                keys.woke(queue_keys, token),
                "LEFT",
                "RIGHT",
                num(max(timeout, 0.001)),
            ),
            ("EVALSHA", claim.sha, *head, *_claim_args(limit, lease, token, now, rate), "1"),
        ]

        async def release(outcome: Any) -> None:
            # Cancelled (a stopping worker): jobs the claim took must not wait out a lease.
            if isinstance(outcome, list) and len(outcome) > 1:
                with anyio.move_on_after(5.0):
                    await self._call("release", queue, [token])

        waiter = self._take_waiter()
        replies: list[Any] | None = None
        try:
            with anyio.move_on_after(timeout + 1.0):  # as in wait_for_jobs
                replies = await waiter.execute_around_blocking(self._wire, commands, release)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            await anyio.sleep(min(timeout, _RECONNECT_PAUSE))
        finally:
            self._idle_waiters.append(waiter)
        if replies is None:
            return Claimed([])
        if any(isinstance(r, NoScriptError) for r in replies):
            # The server restarted or was flushed: load them for the next wait, and drop the
            # marker the wait may have moved (no script ran to clear it).
            for script in (stamp, claim):
                script.sha = await self._redis.script_load(script.script)
            await self._redis.delete(keys.woke(queue_keys, token))
            return Claimed([])
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return await self._claimed(queue, token, replies[2], now)

    def _take_waiter(self) -> Pipelined:
        """A connection of its own for a blocking call, reused across waits."""
        if self._idle_waiters:
            return self._idle_waiters.pop()
        made = pipelined(self._url)
        assert made is not None  # the URL gave self._wire already
        self._waiters.append(made)
        return made

    async def _pop_marker(self, wire: Pipelined, marker: str, timeout: float) -> None:
        waiter = self._take_waiter()
        try:
            # A cancelled wait (a stopping worker) is ended by CLIENT UNBLOCK sent on `wire`,
            # which keeps this connection for the next wait.
            (reply,) = await waiter.execute_around_blocking(
                wire, [("BLPOP", marker, num(max(timeout, 0.001)))], _nothing_to_undo
            )
            if isinstance(reply, Exception):
                raise reply
        finally:
            self._idle_waiters.append(waiter)

    # -- inspection and admin ------------------------------------------------------------

    async def get_job(self, queue: str, job_id: str) -> Job | None:
        key = keys.job(self._keys_of(queue), job_id)
        row = await self._redis.hmget(key, JOB_FIELDS)
        if row[0] is None:
            return None
        return decode(queue, [job_id, *row])

    async def list_jobs(
        self, queue: str, state: JobState, *, offset: int = 0, limit: int = 100
    ) -> list[Job]:
        state = JobState(state)
        if limit <= 0:
            return []
        rows = await self._call("list_jobs", queue, [state.value, max(offset, 0), limit])
        return [decode(queue, row) for row in rows]

    async def _status(self, queue: str) -> list[int]:
        return cast(list[int], await self._call("counts", queue, []))

    async def counts(self, queue: str) -> dict[JobState, int]:
        status = await self._status(queue)
        return dict(zip(JobState, status[:8], strict=True))

    async def list_queues(self) -> list[str]:
        names = sorted(text(n) for n in await self._redis.smembers(keys.registry(self._prefix)))
        return [name for name in names if any(await self._status(name))]

    async def pause(self, queue: str) -> None:
        await self._register(queue)
        await self._redis.hset(keys.pick(self._keys_of(queue), "meta"), "paused", 1)

    async def resume(self, queue: str) -> None:
        await self._call("resume", queue, [])

    async def is_paused(self, queue: str) -> bool:
        meta = keys.pick(self._keys_of(queue), "meta")
        return bool(await self._redis.hexists(meta, "paused"))

    async def cancel(self, queue: str, job_id: str, now: float) -> bool:
        return bool(await self._call("cancel", queue, [num(now), job_id]))

    async def retry_job(self, queue: str, job_id: str, now: float) -> bool:
        return bool(await self._call("retry_job", queue, [job_id]))

    async def remove(self, queue: str, job_id: str, now: float) -> bool:
        return bool(await self._call("remove", queue, [num(now), job_id]))

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
        before = "" if finished_before is None else num(finished_before)
        keep = "" if keep_last is None else max(int(keep_last), 0)
        deleted = 0
        while deleted < limit:
            batch = min(limit - deleted, _BATCH)
            n = int(await self._call("clean", queue, [state.value, before, keep, batch]))
            deleted += n
            if n < batch:
                break
        return deleted

    async def drain(self, queue: str) -> int:
        deleted = 0
        while True:
            n = int(await self._call("drain", queue, [_BATCH]))
            deleted += n
            if n < _BATCH:
                return deleted

    async def obliterate(self, queue: str) -> int:
        deleted = 0
        while True:
            n: int
            n, gone = await self._call("obliterate", queue, [_BATCH])
            deleted += n
            if gone:
                break
        await self._redis.srem(keys.registry(self._prefix), queue)
        self._registered.discard(queue)
        return deleted

    async def update_progress(self, queue: str, lease: Lease, progress: Any) -> bool:
        args = [lease.job_id, lease.token, dumps(progress)]
        return bool(await self._call("update_progress", queue, args))

    # -- repeatables and workers ---------------------------------------------------------

    async def save_repeatable(self, repeatable: Repeatable) -> None:
        await self._register(repeatable.queue)
        await self._swap_repeatable(repeatable.queue, repeatable.key, repeatable, None)

    async def _swap_repeatable(
        self, queue: str, key: str, new: Repeatable | None, paused: bool | None
    ) -> bool:
        """Compare-and-set: store ``new`` keeping the stored ``created_at`` and ``paused``,
        or (``new`` is None) set ``paused`` on the stored one. False if nothing to pause."""
        field = keys.pick(self._keys_of(queue), "repeatables")
        while True:
            raw = await self._redis.hget(field, key)
            old = None if raw is None else Repeatable.from_dict(loads(raw))
            if new is not None:
                data = new.to_dict()
                if old is not None:
                    data["created_at"], data["paused"] = old.created_at, old.paused
            elif old is None:
                return False
            else:
                data = {**old.to_dict(), "paused": paused}
            if await self._call("save_repeatable", queue, [key, raw or b"", dumps(data)]):
                return True

    async def list_repeatables(self, queue: str) -> list[Repeatable]:
        raw = await self._redis.hvals(keys.pick(self._keys_of(queue), "repeatables"))
        return [Repeatable.from_dict(loads(item)) for item in raw]

    async def remove_repeatable(self, queue: str, key: str) -> bool:
        field = keys.pick(self._keys_of(queue), "repeatables")
        return bool(await self._redis.hdel(field, key))

    async def set_repeatable_paused(self, queue: str, key: str, paused: bool) -> bool:
        return await self._swap_repeatable(queue, key, None, paused)

    async def record_worker(self, info: WorkerInfo) -> None:
        await self._register(info.queue)
        args = [info.id, dumps(info.to_dict()), num(info.heartbeat_at)]
        await self._call("record_worker", info.queue, args)

    async def remove_worker(self, queue: str, worker_id: str) -> None:
        await self._call("remove_worker", queue, [worker_id])

    async def list_workers(self, queue: str, *, seen_since: float) -> list[WorkerInfo]:
        raw = await self._call("list_workers", queue, [num(seen_since)])
        return [WorkerInfo.from_dict(loads(item)) for item in raw]

    # -- lifecycle -----------------------------------------------------------------------

    async def aclose(self) -> None:
        for waiter in self._waiters:
            await waiter.aclose()
        if self._wire is not None:
            await self._wire.aclose()
        for client in self._siblings:
            await client.aclose()
        if self._owns:
            await self._redis.aclose()


def _backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` failed attempts: 0.1 doubling to 1 (as redis-py's
    ExponentialBackoff(cap=1.0, base=0.05) the clients retry with)."""
    return min(0.05 * 2.0**failures, 1.0)


async def _nothing_to_undo(reply: Any) -> None:
    """A cancelled blocking pop of the marker: the wake-up it may have taken is harmless."""


def _claim_args(
    limit: int, lease: float, token: str, now: float, rate: RateLimit | None
) -> list[Any]:
    """ARGV of claim.lua up to the replay flag ('')."""
    return [
        num(now),
        limit,
        num(now + lease),
        token,
        "" if rate is None else rate.limit,
        "" if rate is None else num(rate.interval),
        max(int(lease * 1000), 1),
        "",
    ]

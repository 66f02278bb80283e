"""redis-py clients as the backend needs them (retry with backoff, commands packed by hiredis,
separate pools), the pipelined connection the scripts run on, and the Lua sources."""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from importlib import resources
from typing import Any, cast
from urllib.parse import urlsplit

import anyio
import hiredis
from redis._parsers import BaseParser
from redis.asyncio import ConnectionPool, Redis, SSLConnection
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection, Connection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

AnyRedis = Redis | RedisCluster


def script_source(name: str) -> str:
    """``scripts/<name>.lua`` with ``common.lua`` spliced in where it says so."""
    folder = resources.files("asyncmq.backends.redis").joinpath("scripts")
    text = folder.joinpath(f"{name}.lua").read_text("utf-8")
    common = folder.joinpath("common.lua").read_text("utf-8")
    return text.replace("--@include common", common, 1)


def _pack(args: tuple[Any, ...]) -> list[bytes]:
    # redis-py's asyncio connections pack commands in Python, about 3 us per argument: most of
    # the client time of a bulk enqueue. hiredis packs the same bytes in C, 7 times faster.
    first = args[0]
    if isinstance(first, str) and " " in first:
        args = (*first.split(), *args[1:])
    return [hiredis.pack_command(args)]


class _Packed(AbstractConnection):
    def pack_command(self, *args: Any) -> list[bytes]:
        return _pack(args)

    async def send_packed_command(
        self, command: str | bytes | Iterable[bytes], check_health: bool = True
    ) -> None:
        try:
            await super().send_packed_command(command, check_health)
        except AttributeError as exc:
            # redis-py 8.1 races here: a disconnect() still in flight on this connection (a
            # cluster client disconnects a node's free connections from another task after
            # a timeout) sets _writer to None after this task has reconnected it, and the
            # next write fails with AttributeError, which no retry layer knows. It is a lost
            # connection: say so, so the cluster's retry and claim()'s replay handle it.
            # Fixed upstream by https://github.com/redis/redis-py/pull/4288 (issue #4287).
            if self._writer is not None:
                raise
            raise RedisConnectionError("connection closed while in use") from exc


class _PackedConnection(_Packed, Connection):
    pass


class _PackedSSLConnection(_Packed, SSLConnection):
    pass


def connect(url: str, retries: int) -> AnyRedis:
    """A client for ``redis://``, ``rediss://`` or ``redis+cluster://``."""
    # Calls retry through redis-py (every call is safe to repeat): reconnect, back off 50 ms
    # doubling to 1 s.
    retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries)
    # A server that vanished without closing the socket is noticed by keepalive, and an
    # unreachable one fails the connect in bounded time (options in the URL still win).
    options: dict[str, Any] = {"socket_connect_timeout": 5.0, "socket_keepalive": True}
    scheme = urlsplit(url).scheme.lower()
    if scheme == "redis+cluster":
        cluster = RedisCluster.from_url("redis" + url[len(scheme) :], retry=retry, **options)
        # RedisCluster takes no connection class: set it where its nodes read it, the shared
        # keyword arguments every node is built from, and the startup nodes built already.
        packed = cast("type[Connection]", _packed(cluster.connection_kwargs["connection_class"]))
        cluster.connection_kwargs["connection_class"] = packed
        for node in cluster.nodes_manager.startup_nodes.values():
            node.connection_class = packed
        return cluster
    client = Redis.from_url(url, retry=retry, **options)
    pool = client.connection_pool
    pool.connection_class = _packed(pool.connection_class)
    return client


def _packed(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    if connection_class is Connection:
        return _PackedConnection
    if connection_class is SSLConnection:
        return _PackedSSLConnection
    return connection_class


def sibling(client: Redis, **options: Any) -> Redis:
    """A client on the same server with its own pool, no automatic retry, and ``options``
    (connection keyword arguments) of its own."""
    pool = client.connection_pool
    kwargs = {**pool.connection_kwargs, "retry": Retry(NoBackoff(), 0), **options}
    return Redis.from_pool(ConnectionPool(connection_class=pool.connection_class, **kwargs))


def pipelined(url: str, connect_timeout: float = 5.0) -> Pipelined | None:
    """A :class:`Pipelined` connection for a plain ``redis://`` URL; None when the URL asks
    for anything more (TLS, a unix socket, socket options), which redis-py then serves."""
    if urlsplit(url).scheme.lower() != "redis":
        return None
    options = cast("dict[str, Any]", parse_url(url))
    if not set(options) <= {"host", "port", "db", "username", "password"}:
        return None
    return Pipelined(
        options.get("host", "localhost"),
        options.get("port", 6379),
        db=options.get("db", 0),
        username=options.get("username"),
        password=options.get("password"),
        connect_timeout=connect_timeout,
    )


class Pipelined:
    """One connection to a single Redis server shared by every task of a backend: each
    request is written whole as it is made, and replies, which Redis sends in request order,
    go to their callers in that order. Calls in flight at once are pipelined for free.

    It runs the backend's scripts, its hot path: redis-py's pool, lock, connection checks and
    instrumentation cost about 40 us of CPU per call, as much as the round trip itself.
    Replies are what redis-py returns undecoded (bytes, ints, lists, None) and errors are
    redis-py's exceptions; a lost connection fails the calls in flight with
    ``redis.exceptions.ConnectionError`` and the next call connects again. A caller
    cancelled while waiting leaves the connection in step: its reply is read and dropped.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self._address = (host, port)
        self._setup: list[tuple[Any, ...]] = []
        if password is not None:
            self._setup.append(
                ("AUTH", password) if username is None else ("AUTH", username, password)
            )
        if db:
            self._setup.append(("SELECT", db))
        self._connect_timeout = connect_timeout
        self._replies: _Replies | None = None
        self._connecting: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def execute(self, *args: Any) -> Any:
        """Send one command and return its reply."""
        replies = self._current() or await self._connect()
        return await replies.request(_pack(args)[0])

    async def execute_many(self, commands: Iterable[tuple[Any, ...]]) -> list[Any]:
        """Send the commands in order, each as soon as ``commands`` yields it (so the server
        runs one while the next is built); their replies, an error reply as the exception it
        maps to (returned, not raised)."""
        replies = self._current() or await self._connect()
        waiters = [replies.request(_pack(command)[0]) for command in commands]
        return list(await asyncio.gather(*waiters, return_exceptions=True))

    async def execute_around_blocking(
        self,
        unblocker: Pipelined,
        commands: Sequence[tuple[Any, ...]],
        on_cancel: Callable[[Any], Awaitable[None]],
    ) -> list[Any]:
        """Send ``commands`` (one of them blocking) in one write and return their replies,
        an error reply as the exception it maps to.

        Cancelled before the last reply: the blocking command is ended with CLIENT UNBLOCK
        on ``unblocker``, the commands behind it still run on the server, and the last
        reply (or the exception it became) goes to ``on_cancel``, shielded, before the
        cancellation goes on. If the connection cannot be kept in step it is closed, and
        the server then drops what had not run yet. Either way the connection stays usable
        (or reconnects on its next call) rather than being dropped on every cancelled wait.
        """
        replies = self._current() or await self._connect()
        if replies.client_id is None:
            replies.client_id = await replies.request(_pack(("CLIENT", "ID"))[0])
        waiters = [replies.request(_pack(command)[0]) for command in commands]
        try:
            # Replies come in order: the last one done means all are. (asyncio.wait leaves the
            # futures alone when this task is cancelled; awaiting one would cancel it.)
            await asyncio.wait([waiters[-1]])
        except asyncio.CancelledError:
            with anyio.CancelScope(shield=True):
                if not waiters[-1].done() and not unblocker.send_and_forget(
                    "CLIENT", "UNBLOCK", replies.client_id
                ):
                    replies.close()
                with anyio.move_on_after(5.0):
                    await asyncio.wait([waiters[-1]])
                last = waiters[-1]
                if not last.done():
                    replies.close()
                    outcome: Any = RedisConnectionError("no reply after CLIENT UNBLOCK")
                else:
                    outcome = last.exception() or last.result()
                await on_cancel(outcome)
            raise
        return [w.exception() or w.result() for w in waiters]

    def send_and_forget(self, *args: Any) -> bool:
        """Send a command whose reply nobody waits for; False if not connected."""
        replies = self._current()
        if replies is None:
            return False
        replies.request(_pack(args)[0]).add_done_callback(_dropped)
        return True

    def _current(self) -> _Replies | None:
        """The connection, unless lost or made on another event loop (a program may call
        ``anyio.run`` more than once with one backend)."""
        replies = self._replies
        if replies is None or replies.lost or replies.loop is not asyncio.get_running_loop():
            return None
        return replies

    async def _connect(self) -> _Replies:
        loop = asyncio.get_running_loop()
        if self._connecting is None or self._connecting[0] is not loop:
            self._connecting = (loop, asyncio.Lock())
        async with self._connecting[1]:
            current = self._current()
            if current is not None:
                return current  # another caller connected meanwhile
            host, port = self._address
            try:
                transport, replies = await asyncio.wait_for(
                    loop.create_connection(_Replies, host, port), self._connect_timeout
                )
            except (OSError, asyncio.TimeoutError) as exc:
                message = f"cannot connect to Redis at {host}:{port}: {exc!r}"
                raise RedisConnectionError(message) from exc
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # A server gone without closing the socket is noticed in bounded time.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            try:
                for command in self._setup:
                    await replies.request(_pack(command)[0])
            except BaseException:
                transport.close()
                raise
            self._replies = replies
            return replies

    async def aclose(self) -> None:
        """Close the connection; calls still in flight fail with a connection error."""
        replies, self._replies = self._replies, None
        if replies is not None and replies.loop is asyncio.get_running_loop():
            replies.close()  # (one of a finished event loop went with it)


def _dropped(waiter: asyncio.Future[Any]) -> None:
    if not waiter.cancelled():
        waiter.exception()  # retrieved, so that asyncio does not log it


# redis-py's own mapping of an error reply to its exception (NOSCRIPT -> NoScriptError...).
_parse_error = cast("Callable[[str], Exception]", BaseParser.parse_error)


class _Replies(asyncio.Protocol):
    """The reading side of :class:`Pipelined`: the callers' futures in request order."""

    def __init__(self) -> None:
        self._reader = hiredis.Reader()
        self.loop = asyncio.get_running_loop()
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._transport: asyncio.Transport | None = None
        self.lost = False
        self.client_id: int | None = None  # the server's id for this connection, once asked

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def request(self, packed: bytes) -> asyncio.Future[Any]:
        if self.lost or self._transport is None:
            raise RedisConnectionError("the connection to Redis was lost")
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._transport.write(packed)
        return waiter

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        try:
            while (reply := self._reader.gets()) is not False:
                waiter = self._waiting.popleft()
                if waiter.done():
                    continue  # its caller was cancelled
                if isinstance(reply, hiredis.ReplyError):
                    waiter.set_exception(_parse_error(str(reply)))
                else:
                    waiter.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as exc:
            # Out of step with the server: nothing read from here on can be trusted.
            self._fail(RedisConnectionError(f"bad reply from Redis: {exc!r}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"the connection to Redis was lost: {exc or 'closed'}"))

    def close(self) -> None:
        self.lost = True
        if self._transport is not None:
            self._transport.close()

    def _fail(self, error: Exception) -> None:
        self.lost = True
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(error)

"""redis-py clients as the backend needs them: retry with backoff, commands packed by
hiredis, separate pools, and the Lua sources."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any, cast
from urllib.parse import urlsplit

import hiredis
from redis.asyncio import ConnectionPool, Redis, SSLConnection
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection, Connection
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

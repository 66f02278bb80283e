"""The Redis backend (``pip install 'asyncmq[redis]'``): Redis or Redis Cluster through
redis-py's asyncio client, one Lua script per state transition."""

from __future__ import annotations

from asyncmq.backends.redis.backend import RedisBackend

__all__ = ["RedisBackend"]

"""Push wake-ups: one dedicated connection LISTENs on the backend's channel (the payload is the
queue name) and wakes the tasks waiting on that queue. A lost connection wakes every waiter
and is replaced on the next wait.

A notification that arrives while nobody waits is kept (the queue's event stays set) and the
next wait returns at once: a worker whose claim raced with an enqueue (claim empty, then wait)
does not sleep through it. Two waiters of one queue in that window can still miss it between
them (one returns at once, the other waits for the next notification or its timeout); each
queue's worker pool waits from one task, so that takes two pools of one queue on one backend.
A wait that had to (re)connect returns at once: notifications sent before LISTEN took effect
were lost."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from asyncmq.backends.postgres.errors import TRANSIENT

# How long a wait sleeps when the server cannot be reached, so a worker loop does not spin.
_UNREACHABLE_PAUSE = 1.0


class Listener:
    """Waits for notifications on ``channel``; ``connect`` opens the dedicated connection and
    ``release`` gives it back at close."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        channel: str,
        release: Callable[[Any], Awaitable[None]],
    ) -> None:
        self._connect = connect
        self._release = release
        self._channel = channel
        self._connection: Any = None
        self._lock = anyio.Lock()
        self._events: dict[str, anyio.Event] = {}
        self._closed = False

    async def wait(self, queue: str, timeout: float) -> None:
        """Return on a notification for ``queue``, a lost connection, or after ``timeout``."""
        with anyio.move_on_after(timeout if math.isfinite(timeout) else None):
            try:
                if await self._listen():
                    return
            except TRANSIENT:
                await anyio.sleep(min(timeout, _UNREACHABLE_PAUSE))
                return
            event = self._events.get(queue)
            if event is None:
                event = self._events[queue] = anyio.Event()
            elif event.is_set():
                self._events[queue] = anyio.Event()
                return
            await event.wait()
            if self._events.get(queue) is event:
                self._events[queue] = anyio.Event()

    async def _listen(self) -> bool:
        """Connect and LISTEN unless done; True if it had to."""
        if self._connection is not None:
            return False
        async with self._lock:
            if self._connection is not None or self._closed:
                return False
            connection = await self._connect()
            try:
                connection.add_termination_listener(self._lost)
                await connection.add_listener(self._channel, self._notified)
            except BaseException:
                connection.terminate()
                raise
            self._connection = connection
            return True

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        event = self._events.get(payload)
        if event is None:
            event = self._events[payload] = anyio.Event()
        event.set()

    def _lost(self, connection: Any) -> None:
        if connection is self._connection:
            self._connection = None
        self._wake_all()

    def _wake_all(self) -> None:
        events, self._events = self._events, {}
        for event in events.values():
            event.set()

    async def aclose(self) -> None:
        self._closed = True
        connection, self._connection = self._connection, None
        self._wake_all()
        if connection is not None:
            connection.remove_termination_listener(self._lost)
            try:
                with anyio.fail_after(5):
                    await self._release(connection)
            except TRANSIENT:  # TimeoutError is among them
                connection.terminate()

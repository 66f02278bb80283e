"""Wake-ups for ``wait_for_jobs``: one change stream per backend fans out to waiting queues.

Where the server has no change streams (a standalone ``mongod``, some wire-compatible
servers) the first attempt's error says so, once, and waiting becomes a bounded sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import anyio
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from asyncmq.backends.mongodb.documents import DELAYED, WAITING

# Server answers meaning "change streams are not available here", not "try again":
# 13 Unauthorized (no changeStream privilege), 20 IllegalOperation, 115
# CommandNotSupported, 40324 unknown pipeline stage, 40573 "The $changeStream stage is only
# supported on replica sets".
_UNSUPPORTED = frozenset({13, 20, 115, 40324, 40573})
_RECONNECT_MAX = 5.0

log = logging.getLogger("asyncmq.backends.mongodb")


class Wakeups:
    """Per-queue flags set by the change stream; a flag stays set until a wait consumes it,
    so an enqueue between a worker's empty claim and its wait is not missed."""

    def __init__(
        self, db: AsyncDatabase[Any], jobs: str, queues: str, poll_interval: float
    ) -> None:
        self._db = db
        self._jobs = jobs
        self._queues = queues
        self._poll_interval = poll_interval
        self._events: dict[str, anyio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = anyio.Event()
        self.unsupported: str | None = None

    async def wait(self, queue: str, timeout: float) -> None:
        if self.unsupported is None and (self._task is None or self._task.done()):
            if self._task is not None and not self._task.cancelled() and self._task.exception():
                log.error("the change-stream watcher stopped", exc_info=self._task.exception())
            self._task = asyncio.get_running_loop().create_task(self._run())
        opening = not self._ready.is_set()
        with anyio.move_on_after(min(timeout, 5.0)):
            await self._ready.wait()
        if opening:
            # Changes made before the stream opened were not seen: let the caller look.
            return
        if self.unsupported is not None:
            await anyio.sleep(min(timeout, self._poll_interval))
            return
        event = self._events.get(queue)
        if event is None:
            event = self._events[queue] = anyio.Event()
        with anyio.move_on_after(timeout):
            await event.wait()
        if event.is_set() and self._events.get(queue) is event:
            del self._events[queue]

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, PyMongoError):
                await self._task
            self._task = None

    def _wake(self, queue: str | None) -> None:
        if queue is None:
            for event in self._events.values():
                event.set()
        else:
            # Set even with nobody waiting yet: the flag is what carries a change made between
            # a worker's empty claim and its wait (one small Event per queue seen).
            one = self._events.get(queue)
            if one is None:
                one = self._events[queue] = anyio.Event()
            one.set()

    def _pipeline(self) -> list[dict[str, Any]]:
        ready = {"$in": [WAITING, DELAYED]}
        match = {
            "$or": [
                {
                    "ns.coll": self._jobs,
                    "operationType": {"$in": ["insert", "replace"]},
                    "fullDocument.state": ready,
                },
                {
                    "ns.coll": self._jobs,
                    "operationType": "update",
                    "updateDescription.updatedFields.state": ready,
                },
                {
                    "ns.coll": self._queues,
                    "operationType": "update",
                    "updateDescription.updatedFields.paused": False,
                },
            ]
        }
        keep = {"ns": 1, "documentKey": 1}
        return [{"$match": match}, {"$project": keep}]

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                async with await self._db.watch(self._pipeline()) as stream:
                    self._ready.set()
                    backoff = 0.1
                    async for change in stream:
                        self._dispatch(change)
            except OperationFailure as exc:
                if exc.code in _UNSUPPORTED:
                    self.unsupported = f"change streams unavailable ({exc.code}): {exc}"
                    log.warning(
                        "%s; waiting polls every %ss", self.unsupported, self._poll_interval
                    )
                    self._ready.set()
                    self._wake(None)
                    return
                self._wake(None)
            except PyMongoError:
                # Connection trouble: events may have been missed, so wake everyone (a
                # spurious wake-up costs one empty claim) and reopen with backoff.
                self._wake(None)
            await anyio.sleep(backoff)
            backoff = min(backoff * 2, _RECONNECT_MAX)

    def _dispatch(self, change: dict[str, Any]) -> None:
        key = change.get("documentKey", {}).get("_id")
        if change.get("ns", {}).get("coll") == self._queues:
            self._wake(str(key))
        elif isinstance(key, dict) and "queue" in key:
            self._wake(str(key["queue"]))
        else:
            self._wake(None)

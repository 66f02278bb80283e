"""Settings read from the environment, with the defaults a fresh machine needs, and the default
backend: one instance per running event loop, closed when that loop shuts down."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncmq.backends.base import BaseBackend

DEFAULT_BACKEND_URL = "sqlite:///asyncmq.db"


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


@dataclass
class Settings:
    """``ASYNCMQ_BACKEND_URL`` picks the default backend (an SQLite file ``asyncmq.db`` in the
    working directory when unset); ``ASYNCMQ_SCAN_INTERVAL``, ``ASYNCMQ_LEASE`` and
    ``ASYNCMQ_MAX_STALLS`` tune every queue that does not set them itself.

    What :attr:`backend` (the backend of every ``Queue`` built without one) guarantees:

    * Inside a running asyncio event loop it is one instance per loop (and ``backend_url``),
      built on first use there and shared by every queue of that loop, so connections are
      never used from two loops. It is closed when the loop shuts down: ``asyncio.run``,
      ``asyncio.Runner`` and ``anyio.run`` close it before closing the loop. So
      ``asyncio.run(queue.add(...))`` may run any number of times, from any number of threads
      at once. Each loop opens its own connections; for many short calls from sync code use
      :class:`asyncmq.blocking.BlockingQueue`, which keeps one loop for the whole process.
    * With ``memory://`` every loop therefore has a store of its own.
    * A loop closed without ``loop.shutdown_asyncgens()`` (``run_until_complete`` and then
      ``close()`` by hand) leaves its instance unclosed; it is dropped, never reused.
    * Outside a running asyncio loop (sync code, or another async library) it is one shared
      instance that, like an explicit backend, belongs to the first loop that uses it.
    * A forked child never uses or closes its parent's instances: it opens its own.

    A backend set here (``settings.backend = b``) or given to ``Queue(backend=b)`` is the
    caller's: it belongs to the one event loop that first uses it, and the caller closes it.
    """

    backend_url: str = field(
        default_factory=lambda: os.environ.get("ASYNCMQ_BACKEND_URL") or DEFAULT_BACKEND_URL
    )
    scan_interval: float = field(default_factory=lambda: _float("ASYNCMQ_SCAN_INTERVAL", 1.0))
    lease: float = field(default_factory=lambda: _float("ASYNCMQ_LEASE", 10.0))
    max_stalls: int = field(default_factory=lambda: int(_float("ASYNCMQ_MAX_STALLS", 1)))
    _backend: BaseBackend | None = field(default=None, repr=False)
    _detached: BaseBackend | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def backend(self) -> BaseBackend:
        """The default backend: the one set here, else the running loop's (see above)."""
        if self._backend is not None:
            return self._backend
        loop = asyncio._get_running_loop()
        if loop is None:
            if self._detached is None:
                from asyncmq.backends import from_url

                self._detached = from_url(self.backend_url)
            return self._detached
        found = _per_loop.get((loop, self.backend_url))
        return found.backend if found is not None else _open(loop, self.backend_url)

    @backend.setter
    def backend(self, value: BaseBackend) -> None:
        self._backend = value


class _LoopDefault:
    """The default backend of one event loop, closed as the loop shuts down.

    Runners close a loop's async generators (``loop.shutdown_asyncgens()``) after cancelling
    its tasks and before closing it: a generator started on the loop and suspended for its
    whole life closes the backend then, whichever runner it is. The registry holds the entry
    (and so the loop) until then; a loop closed without that step is dropped at the next open.
    """

    def __init__(self, key: tuple[asyncio.AbstractEventLoop, str], backend: BaseBackend) -> None:
        self.key = key
        self.backend = backend
        self.abandoned = False
        self._closer = self._close_at_shutdown()

    async def _close_at_shutdown(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            _forget(self)
            if not self.abandoned:
                await self.backend.aclose()

    def start(self) -> None:
        """Hand the closer to the running loop (on its thread): the first step registers it
        with the loop's async generator hooks and runs it up to its ``yield``."""
        if sys.get_asyncgen_hooks().firstiter is None:
            return  # a loop without async generator hooks: nothing would ever close it
        with contextlib.suppress(StopIteration):
            self._closer.asend(None).send(None)

    def abandon(self) -> None:
        """Forget the backend without touching it: its loop is gone or was the parent's."""
        self.abandoned = True
        try:
            self._closer.aclose().send(None)  # no await inside: done in one step
        except StopIteration:
            pass
        except RuntimeError:
            pass  # already closing (a child forked while its parent's loop shut down)


_per_loop: dict[tuple[asyncio.AbstractEventLoop, str], _LoopDefault] = {}
_lock = threading.RLock()
# Entries a forked child inherited: kept, so that collecting them never closes a socket or
# schedules a callback on the parent's loop.
_inherited: list[_LoopDefault] = []


def _open(loop: asyncio.AbstractEventLoop, url: str) -> BaseBackend:
    from asyncmq.backends import from_url

    with _lock:
        found = _per_loop.get((loop, url))
        if found is None:
            for stale in [e for e in _per_loop.values() if e.key[0].is_closed()]:
                stale.abandon()
            found = _per_loop[loop, url] = _LoopDefault((loop, url), from_url(url))
            found.start()
    return found.backend


def _forget(entry: _LoopDefault) -> None:
    with _lock:
        if _per_loop.get(entry.key) is entry:
            del _per_loop[entry.key]


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.RLock()
    inherited = list(_per_loop.values())
    _per_loop.clear()
    for entry in inherited:
        entry.abandon()
    _inherited.extend(inherited)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

settings = Settings()

"""Blocking calls into the async API, for code that has no event loop (Django or Flask views,
scripts, threads): one event loop per process, kept from call to call, runs every call.

``BlockingQueue("emails").add(...)`` returns what ``await Queue("emails").add(...)`` returns, for
every coroutine method of :class:`~asyncmq.queues.Queue`; :func:`enqueue` is
:func:`asyncmq.enqueue`; :func:`blocking` makes any other async function blocking and
:func:`run` runs any coroutine. Exceptions come out with their own type, and the caller's
context variables go with the call (so the job carries the caller's declared context). The loop
starts with the first call and keeps its connections (its default backend, see
:class:`~asyncmq.settings.Settings`) for every later call from any thread; a forked child gets
a loop of its own and never touches its parent's connections; :func:`close`, also run at
interpreter exit, closes the default backends the loop opened and the loop. Called from a
thread whose event loop is running, a call raises ``RuntimeError`` instead of blocking (or
deadlocking) that loop.

The loop has no thread of its own: the calling threads run it in turn. A call finding it idle
runs it in the calling thread until that call is done; a call arriving meanwhile from another
thread is handed to the running loop and waits; a thread whose call is done hands the loop to
one still waiting. A lone thread's call so costs what ``await`` costs, where a hop to a loop
thread and back costs two thread wake-ups per call: about a third of a Redis add on our
2-vCPU host (``python -m benchmarks.blocking``). Nothing runs on the loop between calls, and
nothing a producer starts needs it to.

Typing. ``BlockingQueue`` is generic at run time: ``__getattr__`` wraps whatever coroutine
method the queue has, so a method added to ``Queue`` works here unchanged. mypy cannot derive
a class's methods from another's, so the class also declares, for type checkers only, one
line per method, ``add = _blocking_method(Queue.add)``: the parameters and result types come
from ``Queue`` itself through a ``ParamSpec``, never copied, so they cannot drift. A method not
declared there still works and is typed ``Callable[..., Any]``; a test keeps the list whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import os
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from asyncmq.backends.base import BaseBackend
from asyncmq.queues import Queue
from asyncmq.queues import enqueue as _enqueue

__all__ = ["BlockingQueue", "blocking", "close", "enqueue", "run"]

P = ParamSpec("P")
T = TypeVar("T")

_IN_LOOP = (
    "asyncmq.blocking was called from a thread whose event loop is running, where waiting "
    "would block that loop (or deadlock it): await the async API instead, e.g. "
    "`await Queue(name).add(...)` or `await asyncmq.enqueue(...)`"
)
_CLOSED = "asyncmq.blocking.close() closed the event loop of this call"
_running_loop = asyncio._get_running_loop


class _Call(Generic[T]):
    """One coroutine run on the shared loop, and what its caller waits on."""

    __slots__ = ("_coro", "_error", "_result", "_task", "done", "finished", "leading")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self._coro = coro
        # Released when the call finishes, or by a thread handing the loop over to its caller.
        self.done = threading.Lock()
        self.done.acquire()
        self.finished = False
        self.leading = False  # its caller runs the loop until the call finishes
        self._error: BaseException | None = None
        self._task: asyncio.Task[Any] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        error: BaseException | None = None
        try:
            self._result = await self._coro
        except asyncio.CancelledError:
            error = RuntimeError(_CLOSED)
        except BaseException as exc:  # KeyboardInterrupt or SystemExit too: the caller's
            error = exc
        self.finish(error)

    def finish(self, error: BaseException | None) -> None:
        self._error = error
        self.finished = True
        if self.leading:
            # Run first in the next turn of the loop, which also runs the task's own done
            # callbacks (scheduled when the coroutine returns, after this).
            asyncio.get_running_loop().call_soon(asyncio.get_running_loop().stop)
        else:
            self.done.release()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        else:
            self._coro.close()  # not started: it ends at once, with an error nobody reads

    def outcome(self) -> T:
        error = self._error
        if error is None:
            return self._result
        self._error = None  # no cycle: error -> traceback -> this frame -> self
        try:
            raise error
        finally:
            del error


class _SharedLoop:
    """The process's event loop for blocking calls, run by the calling threads in turn.

    A thread runs it with ``run_until_complete(host)``, a task that lives as long as the loop,
    and stops it when its call is done. anyio takes the task a ``run_until_complete`` runs for
    the root that owns its worker threads (the SQLite backend's), so they are kept from call to
    call, as in ``asyncio.run(main())``, instead of started for each call (half the throughput).
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._state = threading.Lock()
        self._idle = threading.Condition(self._state)
        self._waiting: set[_Call[Any]] = set()  # calls not finished, or not yet collected
        self._running = False  # a thread runs the loop, or is about to
        self._closed = False
        self._closing: asyncio.Future[None] = self.loop.create_future()
        self._host = self.loop.create_task(self._hold())

    async def _hold(self) -> None:
        await self._closing

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        call = _Call(coro)
        context = contextvars.copy_context()  # the caller's, for the task
        with self._state:
            if self._closed:
                coro.close()
                raise RuntimeError(_CLOSED)
            self._waiting.add(call)
            call.leading = lead = not self._running
            self._running = True
        if lead:
            self.loop.call_soon(self._start, call, context=context)
            self._lead(call)
        else:
            self.loop.call_soon_threadsafe(self._start, call, context=context)
            self._follow(call)
        return call.outcome()

    def _start(self, call: _Call[Any]) -> None:
        if self._closing.done():
            call.finish(RuntimeError(_CLOSED))
        else:
            call.start(self.loop)

    def _lead(self, call: _Call[Any]) -> None:
        try:
            while not call.finished:
                with contextlib.suppress(RuntimeError):  # "stopped before Future completed"
                    self.loop.run_until_complete(self._host)  # until the call stops it
        except BaseException:  # KeyboardInterrupt while running the loop
            if not call.finished:
                self._abandon(call)
            raise
        finally:
            self._hand_over(call)

    def _follow(self, call: _Call[Any]) -> None:
        try:
            call.done.acquire()
        except BaseException:  # KeyboardInterrupt while waiting
            self._abandon(call)
            if call.leading:  # the loop was handed over just now: pass it on
                self._hand_over(call)
            raise
        if call.leading:
            self._lead(call)
        else:
            with self._state:
                self._waiting.discard(call)

    def _hand_over(self, call: _Call[Any]) -> None:
        """Stop running the loop; give it to a caller whose call is not finished (none
        finishes meanwhile: the loop is stopped)."""
        with self._state:
            self._waiting.discard(call)
            for other in self._waiting:
                if not other.finished:
                    other.leading = True
                    other.done.release()
                    return
            self._running = False
            self._idle.notify_all()

    def _abandon(self, call: _Call[Any]) -> None:
        with self._state:
            self._waiting.discard(call)
        call.leading = False  # its end must not stop the loop under another caller
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing left to stop
            self.loop.call_soon_threadsafe(call.cancel)

    def close(self) -> None:
        """Cancel the calls in flight and wait for them, then end as ``asyncio.run`` does:
        the loop's async generators (its default backends, see asyncmq.settings), its
        default executor, the loop."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            if self._running:
                self.loop.call_soon_threadsafe(self._end_calls)
            while self._running:
                self._idle.wait()
            self._running = True
        self.loop.run_until_complete(self._shutdown())
        self.loop.close()

    def _end_calls(self) -> None:
        if not self._closing.done():
            self._closing.set_result(None)
        keep = (self._host, asyncio.current_task(self.loop))
        for task in asyncio.all_tasks(self.loop):
            if task not in keep:
                task.cancel()

    async def _shutdown(self) -> None:
        self._end_calls()
        me = asyncio.current_task()
        while others := [t for t in asyncio.all_tasks() if t is not me]:
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
        await self.loop.shutdown_asyncgens()
        await self.loop.shutdown_default_executor()


_current: _SharedLoop | None = None
_starting = threading.Lock()
# Loops a forked child inherited: kept, so that collecting them never closes their sockets.
_inherited: list[_SharedLoop] = []


def _shared() -> _SharedLoop:
    global _current
    with _starting:
        if _current is None:
            _current = _SharedLoop()
        return _current


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the shared loop and return its result (or raise its exception)."""
    if _running_loop() is not None:
        coro.close()  # never to be awaited: closed, so that Python does not warn about it
        raise RuntimeError(_IN_LOOP)
    return (_current or _shared()).call(coro)


def blocking(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """``fn``, an async function, as a blocking one run on the shared loop."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        if _running_loop() is not None:
            raise RuntimeError(_IN_LOOP)
        return (_current or _shared()).call(fn(*args, **kwargs))

    return call


enqueue = blocking(_enqueue)


def close() -> None:
    """Cancel the calls in flight, close the default backends the shared loop opened and the
    loop; a later call starts a new one. Done at interpreter exit."""
    global _current
    if _running_loop() is not None:
        raise RuntimeError(_IN_LOOP)
    with _starting:
        closing, _current = _current, None
    if closing is not None:
        closing.close()


def _after_fork_in_child() -> None:
    global _current, _starting
    _starting = threading.Lock()
    if _current is not None:
        _inherited.append(_current)
        _current = None


os.register_at_fork(after_in_child=_after_fork_in_child)
# Before the interpreter joins its non-daemon threads (atexit runs after that): anyio's worker
# threads (the SQLite backend's) may still wait for a stop that only a turn of the loop gives.
threading._register_atexit(close)  # type: ignore[attr-defined]


if TYPE_CHECKING:
    from typing import Concatenate

    class _BlockingMethod(Generic[P, T]):
        def __get__(self, instance: object, owner: type | None = None) -> Callable[P, T]: ...

    def _blocking_method(
        method: Callable[Concatenate[Queue, P], Coroutine[Any, Any, T]],
    ) -> _BlockingMethod[P, T]: ...

    # A method taking **options matches Concatenate only with a positional-only self: this
    # keeps its result type alone.
    def _blocking_result(
        method: Callable[..., Coroutine[Any, Any, T]],
    ) -> _BlockingMethod[..., T]: ...


_NOT_BLOCKING = {
    "run": "Queue.run() processes jobs until cancelled: use Queue.start() or `asyncmq worker`",
}


class BlockingQueue:
    """A :class:`~asyncmq.queues.Queue` whose coroutine methods block and return their result:
    ``BlockingQueue("emails").add("app.send", ["a@b.c"])`` returns the job id.

    Takes ``Queue``'s arguments, or a ``Queue`` to wrap (``.queue`` is the ``Queue``). Without
    a backend it uses the background loop's default backend. A backend given here is used on
    the background loop only; the caller closes it there: ``asyncmq.blocking.run(b.aclose())``.
    """

    def __init__(
        self, queue: str | Queue, backend: BaseBackend | None = None, **options: Any
    ) -> None:
        if isinstance(queue, Queue):
            if backend is not None or options:
                raise TypeError("BlockingQueue(queue) takes no other argument with a Queue")
            self.queue = queue
        else:
            self.queue = Queue(queue, backend, **options)

    @property
    def name(self) -> str:
        return self.queue.name

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or name == "queue":
            raise AttributeError(name)  # also while unpickling, before __init__ ran
        if name in _NOT_BLOCKING:
            raise AttributeError(f"BlockingQueue has no {name}(): {_NOT_BLOCKING[name]}")
        method = getattr(self.queue, name)
        if not inspect.iscoroutinefunction(method):
            raise AttributeError(
                f"Queue.{name} is not a coroutine method; use BlockingQueue.queue.{name}"
            )
        call = self.__dict__[name] = blocking(method)  # found directly from now on
        return call

    def __repr__(self) -> str:
        return f"BlockingQueue({self.queue!r})"

    if TYPE_CHECKING:
        # For type checkers only (see the module docstring); at run time __getattr__ serves.
        add = _blocking_method(Queue.add)
        add_task = _blocking_method(Queue.add_task)
        add_bulk = _blocking_method(Queue.add_bulk)
        add_repeatable = _blocking_result(Queue.add_repeatable)
        enqueue = _blocking_method(Queue.enqueue)
        enqueue_delayed = _blocking_method(Queue.enqueue_delayed)
        delay = _blocking_method(Queue.delay)
        pause = _blocking_method(Queue.pause)
        resume = _blocking_method(Queue.resume)
        is_paused = _blocking_method(Queue.is_paused)
        clean = _blocking_method(Queue.clean)
        drain = _blocking_method(Queue.drain)
        obliterate = _blocking_method(Queue.obliterate)
        get_job = _blocking_method(Queue.get_job)
        list_jobs = _blocking_method(Queue.list_jobs)
        queue_stats = _blocking_method(Queue.queue_stats)
        cancel_job = _blocking_method(Queue.cancel_job)
        is_job_cancelled = _blocking_method(Queue.is_job_cancelled)
        retry_job = _blocking_method(Queue.retry_job)
        remove_job = _blocking_method(Queue.remove_job)
        list_delayed = _blocking_method(Queue.list_delayed)
        get_due_delayed = _blocking_method(Queue.get_due_delayed)
        remove_delayed = _blocking_method(Queue.remove_delayed)
        list_repeatables = _blocking_method(Queue.list_repeatables)
        pause_repeatable = _blocking_method(Queue.pause_repeatable)
        resume_repeatable = _blocking_method(Queue.resume_repeatable)
        remove_repeatable = _blocking_method(Queue.remove_repeatable)
        result = _blocking_method(Queue.result)

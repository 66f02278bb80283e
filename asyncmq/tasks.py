"""``@task`` and the task registry: the allowlist of functions a worker may run."""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from asyncmq.backoff import Backoff
from asyncmq.errors import UnknownTaskError

if TYPE_CHECKING:
    from asyncmq.backends.base import BaseBackend
    from asyncmq.jobs import Job

P = ParamSpec("P")
R = TypeVar("R")

_registry: dict[str, Task[Any, Any]] = {}


class Task(Generic[P, R]):
    """A registered task: call it to run the function here, ``enqueue`` it to run it on a worker.

    Its id is ``"<module>.<function>"`` unless ``name`` was given to ``@task``.
    """

    def __init__(
        self,
        func: Callable[P, R],
        *,
        queue: str,
        name: str | None = None,
        retries: int = 0,
        ttl: float | None = None,
        backoff: Backoff | float | None = None,
        timeout: float | None = None,
        priority: int = 5,
    ) -> None:
        self.func = func
        self.id = name or f"{func.__module__}.{func.__qualname__}"
        self.queue = queue
        self.retries = retries
        self.ttl = ttl
        self.backoff = Backoff.from_value(backoff)
        self.timeout = timeout
        self.priority = priority
        self.is_async = inspect.iscoroutinefunction(func)
        functools.update_wrapper(self, func)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    async def enqueue(
        self,
        *args: Any,
        backend: BaseBackend | None = None,
        delay: float | None = None,
        run_at: datetime | float | None = None,
        priority: int | None = None,
        job_id: str | None = None,
        depends_on: list[str] | None = None,
        hard_timeout: float | None = None,
        **kwargs: Any,
    ) -> str:
        """Add a job running this task on its queue and return the job id (delayed or not).

        ``backend``, ``delay``, ``run_at``, ``priority``, ``job_id``, ``depends_on`` and
        ``hard_timeout`` configure the job as in ``Queue.add``; every other argument goes to
        the function.
        """
        from asyncmq.queues import Queue

        return await Queue(self.queue, backend=backend).add(
            self,
            args=list(args),
            kwargs=kwargs,
            delay=delay,
            run_at=run_at,
            priority=priority,
            job_id=job_id,
            depends_on=depends_on,
            hard_timeout=hard_timeout,
        )

    def __repr__(self) -> str:
        return f"<Task {self.id} queue={self.queue!r}>"


@overload
def task(func: Callable[P, R], /) -> Task[P, R]: ...


@overload
def task(
    *,
    queue: str = "default",
    name: str | None = None,
    retries: int = 0,
    ttl: float | None = None,
    backoff: Backoff | float | None = None,
    timeout: float | None = None,
    priority: int = 5,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(
    func: Callable[P, R] | None = None,
    /,
    *,
    queue: str = "default",
    name: str | None = None,
    retries: int = 0,
    ttl: float | None = None,
    backoff: Backoff | float | None = None,
    timeout: float | None = None,
    priority: int = 5,
) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
    """Register a function (sync or async) as a task that workers may run.

    The options become the defaults of every job of this task; ``queue.add`` may override
    them per job. ``timeout`` is a soft limit in seconds: the attempt is cancelled and counts
    as failed. Registering a second function under an existing id raises ``ValueError``.
    """

    def register(fn: Callable[P, R]) -> Task[P, R]:
        registered = Task(
            fn,
            queue=queue,
            name=name,
            retries=retries,
            ttl=ttl,
            backoff=backoff,
            timeout=timeout,
            priority=priority,
        )
        existing = _registry.get(registered.id)
        if existing is not None and existing.func is not fn:
            same_place = (existing.func.__module__, existing.func.__qualname__) == (
                fn.__module__,
                fn.__qualname__,
            )
            if not same_place:
                raise ValueError(f"task id {registered.id!r} is already registered")
        _registry[registered.id] = registered
        return registered

    if func is not None:
        return register(func)
    return register


def get_task(task_id: str) -> Task[Any, Any]:
    """The registered task with this id; :class:`UnknownTaskError` names it if there is none."""
    try:
        return _registry[task_id]
    except KeyError:
        raise UnknownTaskError(
            f"task {task_id!r} is not registered in this worker: import the module that "
            "defines it with @task before starting the worker"
        ) from None


def find_task(task_id: str) -> Task[Any, Any] | None:
    """The registered task with this id, or ``None``."""
    return _registry.get(task_id)


def registered_tasks() -> dict[str, Task[Any, Any]]:
    """A copy of the registry: task id to task."""
    return dict(_registry)


@dataclass
class JobContext:
    """What a running task can learn about its job and report back."""

    job: Job
    _report: Callable[[Any], Any]

    async def report_progress(self, progress: Any) -> None:
        """Store ``progress`` (any JSON value, e.g. a percentage) on the job."""
        await self._report(progress)


_current: contextvars.ContextVar[JobContext] = contextvars.ContextVar("asyncmq_current_job")


def current_job() -> JobContext:
    """The job being run by the calling task; ``LookupError`` saying so outside a job."""
    try:
        return _current.get()
    except LookupError:
        raise LookupError(
            "current_job() was called outside a running job: it works only inside a task "
            "that a worker (or the sync:// driver) is running"
        ) from None


async def report_progress(progress: Any) -> None:
    """Shortcut for ``current_job().report_progress(progress)`` inside an async task.

    A sync task runs in a worker thread and reports with
    ``anyio.from_thread.run(report_progress, value)``.
    """
    await current_job().report_progress(progress)

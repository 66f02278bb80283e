"""JobBuilder: new Jobs from ``add()``'s options, the per-job half of every enqueue.

``add_bulk`` builds thousands of jobs per call, so the builder does per call what need not be
done per job: each task's defaults are looked up once, and ids are drawn in one batch.
"""

from __future__ import annotations

import gc
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, overload

from asyncmq.backoff import Backoff
from asyncmq.errors import SerializationError
from asyncmq.functions import function_id
from asyncmq.jobs import Job, new_job_ids, unique_ids
from asyncmq.serializers import check_arguments
from asyncmq.tasks import Task, find_task

TaskRef = str | Task[Any, Any] | Callable[..., Any]
"""A task id (``"module.function"``), a ``@task`` or a plain module-level function."""
Instant = datetime | float
"""A timezone-aware ``datetime`` or epoch seconds."""
# (task id, priority, retries, ttl, backoff, timeout) before per-job options
_Defaults = tuple[str, int, int, float | None, Backoff | None, float | None]
_NO_TASK_DEFAULTS = (5, 0, None, None, None)


class JobBuilder:
    """Builds the jobs of one enqueue call into ``queue``, all created at ``now``.

    Per-job options win over the task's ``@task`` defaults; an explicit ``0`` or ``False``
    counts as set. A task id that is not registered here (a worker elsewhere may know it)
    and a plain function get the global defaults: priority 5, no retries, no ttl, backoff or
    timeout. Every job carries ``context`` (see :func:`asyncmq.propagation.capture`).
    """

    __slots__ = ("_defaults", "_ids", "context", "now", "queue")

    def __init__(
        self,
        queue: str,
        now: float,
        expected: int = 1,
        *,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.queue = queue
        self.now = now
        self.context = context or {}
        self._defaults: dict[Any, _Defaults] = {}
        self._ids = iter(new_job_ids(expected))

    def build(
        self,
        task_id: TaskRef,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        delay: float | None = None,
        priority: int | None = None,
        retries: int | None = None,
        ttl: float | None = None,
        backoff: Backoff | float | Mapping[str, Any] | None = None,
        timeout: float | None = None,
        job_id: str | None = None,
        depends_on: Iterable[str] | None = None,
        run_at: Instant | None = None,
        hard_timeout: float | None = None,
    ) -> Job:
        """One job; raises ``SerializationError`` (a ``TypeError``) naming a bad argument.

        The options are ``add()``'s, here positional as well: :meth:`build_from` passes them
        by position, once per job of a bulk call.
        """
        name, t_priority, t_retries, t_ttl, t_backoff, t_timeout = self._task_defaults(task_id)
        args = list(args) if args else []
        kwargs = dict(kwargs) if kwargs else {}
        check_arguments(args, kwargs)
        now = self.now
        if job_id is None:
            job_id = next(self._ids, None) or new_job_ids(1)[0]
        if run_at is not None:
            run_at = _when(run_at, delay)
        elif delay:
            run_at = now + delay
        # Positional, in Job's field order: half the cost of the keyword call, per job.
        return Job(
            name,  # task_id
            args,
            kwargs,
            job_id,  # id
            self.queue,
            t_priority if priority is None else priority,
            t_retries if retries is None else (retries or 0),
            t_backoff if backoff is None else Backoff.from_value(backoff),
            t_ttl if ttl is None else ttl,
            t_timeout if timeout is None else timeout,
            unique_ids(list(depends_on)) if depends_on else [],  # depends_on
            now,  # created_at
            run_at,
            hard_timeout,
            self.context,
        )

    def build_from(self, spec: Mapping[str, Any], *, caller: str, index: int) -> Job:
        """One job from a dict of ``task_id`` (or ``task``) and ``add()``'s keyword arguments,
        as ``add_bulk`` and ``add_flow`` take them; ``caller`` and ``index`` name it in errors."""
        get = spec.get
        task_id = get("task_id") or get("task")
        if task_id is None:
            raise ValueError(f"{caller}() job {index} has no 'task_id'")
        if not spec.keys() <= _SPEC_KEYS:
            unknown = ", ".join(sorted(map(str, spec.keys() - _SPEC_KEYS)))
            raise TypeError(f"{caller}() job {index} has unknown options: {unknown}")
        # Looked up one by one rather than passed on as **spec: this runs once per job of a
        # bulk call, and a keyword call costs more than the lookups.
        try:
            return self.build(
                task_id,
                get("args"),
                get("kwargs"),
                get("delay"),
                get("priority"),
                get("retries"),
                get("ttl"),
                get("backoff"),
                get("timeout"),
                get("job_id"),
                get("depends_on"),
                get("run_at"),
                get("hard_timeout"),
            )
        except SerializationError as exc:
            raise SerializationError(f"{caller}() job {index}: {exc}") from None

    def build_many(
        self, specs: Sequence[Mapping[str, Any]], *, caller: str, start: int = 0
    ) -> list[Job]:
        """A job from each dict, as :meth:`build_from` makes it (``start`` is the index of
        the first dict in the caller's whole list, for errors).

        The cyclic garbage collector is paused meanwhile: a thousand jobs are some six
        thousand new containers, enough to set off several collections whose work is all in
        vain (nothing here is garbage yet), and now and then a full one that walks the whole
        heap: 8 ms against the 2.5 ms this takes, measured with asyncpg loaded.
        """
        build_from = self.build_from
        with _collector_paused():
            return [build_from(spec, caller=caller, index=i) for i, spec in enumerate(specs, start)]

    def _task_defaults(self, task_id: TaskRef) -> _Defaults:
        found = self._defaults.get(task_id)
        if found is None:
            if isinstance(task_id, Task):
                task: Task[Any, Any] | None = task_id
                name = task_id.id
            elif isinstance(task_id, str):
                task, name = find_task(task_id), task_id
            else:
                name = function_id(task_id)
                task = find_task(name)
            if task is None:
                found = (name, *_NO_TASK_DEFAULTS)
            else:
                found = (name, task.priority, task.retries, task.ttl, task.backoff, task.timeout)
            self._defaults[task_id] = found
        return found


class JobBatch(Sequence[Job]):
    """The jobs of one ``add_bulk`` call, each built the first time it is read, then kept.

    Given to a backend that declares ``lazy_enqueue``, so that building overlaps the store's
    work: PostgreSQL builds each chunk of its COPY while the server stores the last one.
    Reading a job may raise the error its dict causes, exactly as building it first would.
    """

    def __init__(
        self, builder: JobBuilder, specs: Sequence[Mapping[str, Any]], *, caller: str
    ) -> None:
        self._builder = builder
        self._specs = specs
        self._caller = caller
        self._built: list[Job] = []

    def __len__(self) -> int:
        return len(self._specs)

    @overload
    def __getitem__(self, index: int) -> Job: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Job]: ...

    def __getitem__(self, index: int | slice) -> Job | Sequence[Job]:
        if isinstance(index, slice):
            _, stop, step = index.indices(len(self._specs))
            self._build_to(len(self._specs) if step < 0 else stop)
        else:
            self._build_to((index + len(self._specs) if index < 0 else index) + 1)
        return self._built[index]

    def __iter__(self) -> Iterator[Job]:
        for start in range(0, len(self._specs), _BATCH_STEP):
            self._build_to(start + _BATCH_STEP)
            yield from self._built[start : start + _BATCH_STEP]

    def _build_to(self, stop: int) -> None:
        done = len(self._built)
        if stop > done:
            self._built += self._builder.build_many(
                self._specs[done:stop], caller=self._caller, start=done
            )


# Jobs a JobBatch builds at a time when iterated.
_BATCH_STEP = 100

# What a job dict of add_bulk() or add_flow() may hold: task_id (or task) and add()'s options.
_SPEC_KEYS = frozenset(inspect.signature(JobBuilder.build).parameters) - {"self"} | {"task"}


def _when(run_at: Instant, delay: float | None) -> float:
    """``run_at`` in epoch seconds; refuses a naive datetime and ``delay`` given with it."""
    if delay is not None:
        raise ValueError("give delay= (seconds from now) or run_at= (an instant), not both")
    if isinstance(run_at, datetime):
        if run_at.tzinfo is None or run_at.utcoffset() is None:
            raise ValueError(
                f"run_at={run_at!r} has no timezone, so the instant it names is unknown: "
                "pass an aware datetime (e.g. datetime.now(timezone.utc) + timedelta(...))"
            )
        return run_at.timestamp()
    if isinstance(run_at, bool) or not isinstance(run_at, int | float):
        raise TypeError(f"run_at must be an aware datetime or epoch seconds, not {run_at!r}")
    return float(run_at)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a burst of allocations (no awaits inside), then
    put it back as it was: an application that disabled it keeps it disabled."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# add_task()'s spelling of add()'s options: dunder keyword arguments, which a task's own
# parameters are unlikely to use (FastApp's __soft_timeout_s / __hard_timeout_s, and ours).
_CALL_OPTIONS = {
    "__soft_timeout_s": "timeout",
    "__hard_timeout_s": "hard_timeout",
    "__delay_s": "delay",
    "__run_at": "run_at",
    "__priority": "priority",
    "__job_id": "job_id",
    "__retries": "retries",
    "__ttl_s": "ttl",
    "__depends_on": "depends_on",
}


def split_call_options(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``add_task``'s keyword arguments as (the function's kwargs, ``add()``'s options).

    Options are the keys of ``_CALL_OPTIONS``, also in the form Python's name mangling gives
    them inside a class body (``_Views__delay_s``); any other name starting with ``__`` is
    refused, so a misspelt option is not passed to the function.
    """
    if not any("__" in key for key in kwargs):
        return kwargs, {}
    own: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in kwargs.items():
        # "__x" as written, or "_Class__x" as written inside a class body.
        dunder = key[key.index("__") :] if key.startswith("_") and "__" in key else ""
        if dunder in _CALL_OPTIONS:
            options[_CALL_OPTIONS[dunder]] = value
        elif key.startswith("__"):
            known = ", ".join(_CALL_OPTIONS)
            raise TypeError(f"unknown option {key!r}; the options of add_task() are {known}")
        else:
            own[key] = value
    return own, options

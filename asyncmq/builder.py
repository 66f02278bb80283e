"""JobBuilder: new Jobs from ``add()``'s options, the per-job half of every enqueue.

``add_bulk`` builds thousands of jobs per call, so the builder does per call what need not be
done per job: each task's defaults are looked up once, and ids are drawn in one batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from asyncmq.backoff import Backoff
from asyncmq.jobs import Job, new_job_ids, unique_ids
from asyncmq.serializers import check_arguments
from asyncmq.tasks import Task, find_task

TaskRef = str | Task[Any, Any]
# (task id, priority, retries, ttl, backoff, timeout) before per-job options
_Defaults = tuple[str, int, int, float | None, Backoff | None, float | None]
_NO_TASK_DEFAULTS = (5, 0, None, None, None)


class JobBuilder:
    """Builds the jobs of one enqueue call into ``queue``, all created at ``now``.

    Per-job options win over the task's ``@task`` defaults; an explicit ``0`` or ``False``
    counts as set. A task id that is not registered here (a worker elsewhere may know it)
    gets the global defaults: priority 5, no retries, no ttl, backoff or timeout.
    """

    __slots__ = ("_defaults", "_ids", "now", "queue")

    def __init__(self, queue: str, now: float, expected: int = 1) -> None:
        self.queue = queue
        self.now = now
        self._defaults: dict[Any, _Defaults] = {}
        self._ids = iter(new_job_ids(expected))

    def build(
        self,
        task_id: TaskRef,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        *,
        delay: float | None = None,
        priority: int | None = None,
        retries: int | None = None,
        ttl: float | None = None,
        backoff: Backoff | float | Mapping[str, Any] | None = None,
        timeout: float | None = None,
        job_id: str | None = None,
        depends_on: Iterable[str] | None = None,
    ) -> Job:
        """One job; raises ``SerializationError`` (a ``TypeError``) naming a bad argument."""
        name, t_priority, t_retries, t_ttl, t_backoff, t_timeout = self._task_defaults(task_id)
        args = list(args) if args else []
        kwargs = dict(kwargs) if kwargs else {}
        check_arguments(args, kwargs)
        now = self.now
        if job_id is None:
            job_id = next(self._ids, None) or new_job_ids(1)[0]
        return Job(
            task_id=name,
            args=args,
            kwargs=kwargs,
            id=job_id,
            queue=self.queue,
            priority=t_priority if priority is None else priority,
            retries=t_retries if retries is None else (retries or 0),
            backoff=t_backoff if backoff is None else Backoff.from_value(backoff),
            ttl=t_ttl if ttl is None else ttl,
            timeout=t_timeout if timeout is None else timeout,
            depends_on=unique_ids(list(depends_on)) if depends_on else [],
            created_at=now,
            run_at=now + delay if delay else None,
        )

    def build_from(self, spec: Mapping[str, Any], *, caller: str, index: int) -> Job:
        """One job from a dict of ``task_id`` (or ``task``) and ``add()``'s keyword arguments,
        as ``add_bulk`` and ``add_flow`` take them; ``caller`` and ``index`` name it in errors."""
        options = dict(spec)
        task_id = options.pop("task_id", None) or options.pop("task", None)
        if task_id is None:
            raise ValueError(f"{caller}() job {index} has no 'task_id'")
        return self.build(task_id, **options)

    def _task_defaults(self, task_id: TaskRef) -> _Defaults:
        found = self._defaults.get(task_id)
        if found is None:
            task = task_id if isinstance(task_id, Task) else find_task(task_id)
            name = task_id.id if isinstance(task_id, Task) else task_id
            if task is None:
                found = (name, *_NO_TASK_DEFAULTS)
            else:
                found = (name, task.priority, task.retries, task.ttl, task.backoff, task.timeout)
            self._defaults[task_id] = found
        return found

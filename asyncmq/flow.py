"""``FlowProducer``: enqueue a graph of dependent jobs in one backend call."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from asyncmq.backends.base import BaseBackend
from asyncmq.builder import JobBuilder
from asyncmq.jobs import Job
from asyncmq.serializers import check_arguments
from asyncmq.settings import settings


class FlowProducer:
    """Adds whole job graphs atomically: either every job of a flow is enqueued or none is
    (one ``enqueue`` call, so one Lua script, SQL transaction or ordered Mongo batch)."""

    def __init__(self, backend: BaseBackend | None = None) -> None:
        self.backend = backend or settings.backend

    async def add_flow(self, queue: str, jobs: Sequence[Job | Mapping[str, Any]]) -> list[str]:
        """Enqueue ``jobs`` (``Job`` objects, or dicts of ``add()``'s arguments such as
        ``task_id``, ``args``, ``job_id``, ``depends_on``) into ``queue`` and return their
        ids in the order given. ``depends_on`` may name jobs of the same flow in any order, or
        jobs already in the queue; a cycle raises ``ValueError`` and enqueues nothing."""
        now = time.time()
        jobs = list(jobs)
        builder = JobBuilder(queue, now, len(jobs))
        built: list[Job] = []
        for given in jobs:
            if isinstance(given, Job):
                job = given
                check_arguments(job.args, job.kwargs)
            else:
                # Dicts take add()'s options, so the task's defaults apply as in add_bulk().
                job = builder.build_from(given, caller="add_flow", index=len(built))
            job.queue = queue
            if not job.created_at:
                job.created_at = now
            built.append(job)
        await self.backend.enqueue(queue, _parents_first(built), now)
        return [job.id for job in built]


def _parents_first(jobs: list[Job]) -> list[Job]:
    """Order the flow so each job comes after the flow jobs it depends on."""
    by_id = {job.id: job for job in jobs}
    ordered: list[Job] = []
    state: dict[str, str] = {}

    def visit(job: Job, path: tuple[str, ...]) -> None:
        mark = state.get(job.id)
        if mark == "done":
            return
        if mark == "visiting":
            cycle = " -> ".join((*path, job.id))
            raise ValueError(f"the flow has a dependency cycle: {cycle}")
        state[job.id] = "visiting"
        for dep in job.depends_on:
            if dep in by_id:
                visit(by_id[dep], (*path, job.id))
        state[job.id] = "done"
        ordered.append(job)

    for job in jobs:
        visit(job, ())
    return ordered

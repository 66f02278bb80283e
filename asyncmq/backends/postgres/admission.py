"""Where each job of an enqueue with dependencies lands, decided from the states of the rows
it depends on (locked by enqueue.sql:lock_dependencies): the in-memory backend's ``_admit``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncmq.backends.base import dependency_error
from asyncmq.backends.postgres.rows import error_json, job_arrays
from asyncmq.jobs import FINISHED_STATES, Job, JobError, JobState
from asyncmq.serializers import dumps


def admit(
    job: Job, known: dict[str, str], now: float
) -> tuple[JobState, list[str], JobError | None]:
    """The state a new job lands in, its unmet dependencies, and the error when it fails at
    once (a dependency that does not exist or ended other than completed)."""
    unmet: dict[str, None] = {}
    for dep_id in job.depends_on:
        state = known.get(dep_id)
        if state is None:
            return JobState.FAILED, [], dependency_error(dep_id, "does not exist")
        if state in FINISHED_STATES and state != JobState.COMPLETED:
            return JobState.FAILED, [], dependency_error(dep_id, state)
        if state != JobState.COMPLETED:
            unmet[dep_id] = None
    if unmet:
        return JobState.WAITING_CHILDREN, list(unmet), None
    if job.run_at is not None and job.run_at > now:
        return JobState.DELAYED, [], None
    return JobState.WAITING, [], None


def resolved_arrays(jobs: Sequence[Job], known: dict[str, str], now: float) -> list[Any]:
    """Parameters ``$2`` onwards of enqueue.sql:insert_resolved for the jobs whose ids are not
    in ``known`` (the existing rows' states; updated with the new jobs' as they land, since a
    job may depend on an earlier one of the same batch)."""
    new: list[Job] = []
    states: list[str] = []
    pending: list[int] = []
    errors: list[str | None] = []
    ended: list[float | None] = []
    children: list[str] = []
    parents: list[str] = []
    for job in jobs:
        if job.id in known:
            continue
        known[job.id] = JobState.WAITING.value  # as stored before its dependencies are read
        state, unmet, error = admit(job, known, now)
        known[job.id] = state.value
        new.append(job)
        states.append(state.value)
        pending.append(len(unmet))
        errors.append(None if error is None else error_json(error))
        ended.append(None if error is None else now)
        children += [job.id] * len(unmet)
        parents += unmet
    in_batch = set(parents)
    return [
        *job_arrays(new),
        [dumps(j.depends_on).decode() for j in new],
        states,
        pending,
        errors,
        ended,
        [j.id in in_batch for j in new],
        children,
        parents,
    ]

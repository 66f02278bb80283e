"""Dependencies between jobs of one queue: admitting a new dependent, releasing it when its
last dependency completes, failing it (transitively) when one does not, and repairing what
a crash between two of these writes left half done."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from asyncmq.backends.base import dependency_error
from asyncmq.backends.mongodb import documents as d
from asyncmq.jobs import FINISHED_STATES, Job, JobError, JobState, unique_ids

Session = AsyncClientSession | None


class Dependencies:
    """Every write here is idempotent, so a repair may redo it while its first author is
    still running: ``deps_left`` loses an id at most once, and a dependent is failed only
    from ``waiting-children``."""

    def __init__(
        self, jobs: AsyncCollection[Any], seq: Callable[[float], int], op: Callable[[], str]
    ) -> None:
        self._jobs = jobs
        self._seq = seq
        self._op = op

    async def admit(
        self,
        queue: str,
        jobs: Sequence[Job],
        inserted: list[int],
        now: float,
        session: Session = None,
    ) -> None:
        """Resolve the dependencies of ``jobs[i]`` for each ``i`` in ``inserted`` that has
        some; they were just inserted ``waiting-children`` and ``admitting``.

        Each dependency is first flagged ``has_dependents``, then read: a settle that lands
        before the flag is seen in that read (and acted on here), one after it sees the flag
        and releases or fails the dependents itself.
        """
        children = [i for i in inserted if jobs[i].depends_on]
        if not children:
            return
        first_new: dict[str, int] = {}
        for i in inserted:
            first_new.setdefault(jobs[i].id, i)
        # A dependency inserted later in the same call did not exist yet, as in the reference.
        states = await self._flag_and_read(
            queue, {dep for i in children for dep in jobs[i].depends_on}, session
        )
        met: set[str] = set()
        for i in children:
            deps = unique_ids(jobs[i].depends_on)
            unborn = {dep for dep in deps if first_new.get(dep, -1) > i}
            known = {dep: states[dep] for dep in deps if dep in states and dep not in unborn}
            met.update(await self._resolve(queue, jobs[i].id, deps, known, now, session))
        for dep in sorted(met):
            await self.release(queue, dep, now, session)
        await self._jobs.update_many(
            {"queue": queue, "id": {"$in": [jobs[i].id for i in children]}},
            {"$unset": {"admitting": ""}},
            session=session,
        )

    async def _flag_and_read(
        self, queue: str, wanted: set[str], session: Session
    ) -> dict[str, JobState]:
        ids = sorted(wanted)
        await self._jobs.update_many(
            {"queue": queue, "id": {"$in": ids}},
            {"$set": {"has_dependents": True}},
            session=session,
        )
        found = self._jobs.find(
            {"queue": queue, "id": {"$in": ids}}, {"id": 1, "state": 1}, session=session
        )
        return {doc["id"]: JobState(doc["state"]) async for doc in found}

    async def _resolve(
        self,
        queue: str,
        job_id: str,
        depends_on: list[str],
        states: dict[str, JobState],
        now: float,
        session: Session,
    ) -> list[str]:
        """Fail the job at its first missing or unsuccessful dependency (in its order, as
        the reference); else return the dependencies already completed, to release."""
        met = []
        for dep in depends_on:
            state = states.get(dep)
            if state is None or (state in FINISHED_STATES and state is not JobState.COMPLETED):
                what = "does not exist" if state is None else state.value
                await self._fail(queue, job_id, dependency_error(dep, what), now, session)
                return []
            if state is JobState.COMPLETED:
                met.append(dep)
        return met

    async def _fail(
        self, queue: str, job_id: str, error: JobError, now: float, session: Session
    ) -> None:
        result = await self._jobs.update_one(
            {"queue": queue, "id": job_id, "state": d.WAITING_CHILDREN},
            d.finish_pipeline(JobState.FAILED, now, error=error.to_dict()),
            session=session,
        )
        if result.modified_count:
            await self.cascade(queue, job_id, JobState.FAILED.value, now, session)

    async def release(self, queue: str, dep: str, now: float, session: Session = None) -> None:
        """Drop the completed ``dep`` from its dependents; the last one moves each on."""
        await self._jobs.update_many(
            {"queue": queue, "state": d.WAITING_CHILDREN, "deps_left": dep},
            d.release_pipeline(dep, now, self._seq(now)),
            session=session,
        )

    async def cascade(
        self, queue: str, dep: str, what: str, now: float, session: Session = None
    ) -> None:
        """Fail every job waiting on ``dep``, then every job waiting on those, and so on."""
        pending = [(dep, what)]
        while pending:
            parent, reason = pending.pop()
            op = self._op()
            error = dependency_error(parent, reason).to_dict()
            result = await self._jobs.update_many(
                {"queue": queue, "state": d.WAITING_CHILDREN, "deps_left": parent},
                [*d.finish_pipeline(JobState.FAILED, now, error=error), {"$set": {"op": op}}],
                session=session,
            )
            if result.modified_count:
                found = self._jobs.find(
                    {"queue": queue, "op": op, "deps_pending": True}, {"id": 1}, session=session
                )
                failed = [doc["id"] async for doc in found]
                pending.extend((job_id, JobState.FAILED.value) for job_id in failed)
                await self._done(queue, failed, session)

    async def finished(self, queue: str, job_ids: list[str], state: JobState, now: float) -> None:
        """Release or fail the dependents of jobs that just ended in ``state``."""
        for job_id in job_ids:
            if state is JobState.COMPLETED:
                await self.release(queue, job_id, now)
            else:
                await self.cascade(queue, job_id, state.value, now)
        await self._done(queue, job_ids, None)

    async def _done(self, queue: str, job_ids: list[str], session: Session) -> None:
        if job_ids:
            await self._jobs.update_many(
                {"queue": queue, "id": {"$in": job_ids}},
                {"$unset": {"deps_pending": ""}},
                session=session,
            )

    async def repair(self, queue: str, now: float) -> None:
        """Finish what a crashed process left between two writes: dependents of a finished
        job not yet released or failed, and new dependents not yet admitted."""
        # Two reads, one per partial index: SecantusDB 0.7.0b3 answers an "$or" of the two
        # with a collection scan where MongoDB would union both index scans.
        found = self._jobs.find({"queue": queue, "deps_pending": True}, {"id": 1, "state": 1})
        by_state: dict[JobState, list[str]] = {}
        async for doc in found:
            by_state.setdefault(JobState(doc["state"]), []).append(doc["id"])
        for state, job_ids in by_state.items():
            if state in FINISHED_STATES:
                await self.finished(queue, job_ids, state, now)
        found = self._jobs.find({"queue": queue, "admitting": True}, {"id": 1, "deps_left": 1})
        admitting = [doc async for doc in found]
        if not admitting:
            return
        states = await self._flag_and_read(
            queue, {dep for doc in admitting for dep in doc.get("deps_left", [])}, None
        )
        met: set[str] = set()
        for doc in admitting:
            deps = doc.get("deps_left", [])
            met.update(await self._resolve(queue, doc["id"], deps, states, now, None))
        for dep in sorted(met):
            await self.release(queue, dep, now)
        await self._jobs.update_many(
            {"queue": queue, "id": {"$in": [doc["id"] for doc in admitting]}},
            {"$unset": {"admitting": ""}},
        )

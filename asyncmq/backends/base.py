"""The backend contract: every durable step of a job, as atomic state transitions.

Each transition is one atomic round trip (a Lua script, one SQL statement or transaction, one
filtered Mongo update, or an ``await``-free method body in memory). Backends never read the
clock: every instant comes in as ``now`` (epoch seconds), so tests can drive time.

Invariants every backend keeps (each is a test in ``tests/conformance/``):

* No job is returned by two overlapping :meth:`claim` calls, from any number of processes.
* A settle, lease extension or progress update whose lease token no longer matches changes
  nothing and returns ``False`` (fencing).
* A job is never lost: an ``active`` job whose lease ran out comes back through
  :meth:`requeue_expired`.
* :meth:`enqueue` is idempotent by job id.
* Dependencies live in the same queue. A job with unmet ``depends_on`` waits in
  ``waiting-children``; it is released (to ``waiting``, or ``delayed`` if its ``run_at`` is
  still ahead) exactly once, when its last dependency completes. A dependency that is already
  ``completed`` counts as met. When a dependency ends ``failed``, ``expired`` or ``cancelled``,
  or is removed or does not exist, every job waiting on it (transitively) ends ``failed`` with a
  :data:`DEPENDENCY_FAILED` error whose message names the dependency.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from asyncmq.jobs import Job, JobError, JobState
from asyncmq.ratelimit import RateLimit

_Backend = TypeVar("_Backend", bound="BaseBackend")

DEPENDENCY_FAILED = "DependencyFailedError"
STALLED = "StalledJobError"


def dependency_error(dependency_id: str, what: str) -> JobError:
    """The error a dependent gets: ``what`` is the dependency's end state or ``does not exist``."""
    if what in {s.value for s in JobState}:
        what = f"ended {what}"
    return JobError(DEPENDENCY_FAILED, f"dependency {dependency_id} {what}")


def finished_state(state: JobState | str) -> JobState:
    """``state`` as a finished :class:`JobState`; ``ValueError`` otherwise (for ``clean``)."""
    state = JobState(state)
    if not state.is_finished:
        raise ValueError(f"clean() takes a finished state, not {state.value!r}")
    return state


def stalled_error(stalls: int, max_stalls: int) -> JobError:
    return JobError(STALLED, f"job lost its lease {stalls} times (max_stalls={max_stalls})")


@dataclass(frozen=True)
class Lease:
    """Proof of ownership of an ``active`` job: its id and the token its claim set."""

    job_id: str
    token: str


@dataclass(frozen=True)
class Completion:
    lease: Lease
    result: Any = None


@dataclass(frozen=True)
class Retrial:
    lease: Lease
    error: JobError
    run_at: float


@dataclass(frozen=True)
class Failure:
    lease: Lease
    error: JobError


@dataclass(frozen=True)
class Claimed:
    """What :meth:`BaseBackend.claim` took.

    ``throttled_until`` is set when the rate limit kept the claim from taking as many jobs as
    asked: the instant the next token appears, or ``math.inf`` for ``rate_limit=0``.
    """

    jobs: list[Job]
    throttled_until: float | None = None


@dataclass(frozen=True)
class Promoted:
    """``count`` jobs moved from ``delayed`` to ``waiting``; the earliest still delayed is due
    at ``next_run_at`` (``None`` when no delayed job is left)."""

    count: int
    next_run_at: float | None = None


@dataclass(frozen=True)
class Repeatable:
    """A recurring job definition: fires every ``every`` seconds or on the ``cron`` schedule.

    ``job`` holds the options of each tick's job (``task_id``, ``args``, ``kwargs``,
    ``priority``, ``retries``, ``ttl``, ``timeout``, ``backoff``) in payload form.
    """

    key: str
    queue: str
    job: dict[str, Any]
    every: float | None = None
    cron: str | None = None
    created_at: float = 0.0
    paused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "queue": self.queue,
            "job": self.job,
            "every": self.every,
            "cron": self.cron,
            "created_at": self.created_at,
            "paused": self.paused,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Repeatable:
        return cls(**data)


@dataclass(frozen=True)
class WorkerInfo:
    """A worker's self-report, refreshed by its heartbeat."""

    id: str
    queue: str
    hostname: str
    pid: int
    concurrency: int
    started_at: float
    heartbeat_at: float
    active: int = 0
    processed: int = 0
    failed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "queue": self.queue,
            "hostname": self.hostname,
            "pid": self.pid,
            "concurrency": self.concurrency,
            "started_at": self.started_at,
            "heartbeat_at": self.heartbeat_at,
            "active": self.active,
            "processed": self.processed,
            "failed": self.failed,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerInfo:
        return cls(**data)


class BaseBackend(abc.ABC):
    """Where jobs live. Subclasses implement every abstract method; ``migrate``,
    ``maintain``, ``wait_and_claim`` and ``aclose`` have defaults a store may refine."""

    #: ``enqueue`` takes jobs that are built as it reads them, and stores nothing when
    #: reading one fails (see ``enqueue``). A store that writes as it reads, inside one
    #: transaction, gains from it; the others get every job built first.
    lazy_enqueue: ClassVar[bool] = False

    # -- transitions ---------------------------------------------------------------------

    @abc.abstractmethod
    async def enqueue(
        self, queue: str, jobs: Sequence[Job], now: float, *, connection: object | None = None
    ) -> list[str]:
        """Insert jobs that are absent by id, in order, and return their ids.

        A job whose id exists already changes nothing and its existing id is returned. Each
        new job starts with the backend-kept fields (``state`` onwards) at their defaults and
        lands ``delayed`` (``run_at > now``), ``waiting-children`` (unmet
        ``depends_on``; dependencies may be earlier jobs of the same call) or ``waiting``,
        with the producer's fields stored as given. Wakes workers waiting on the queue.

        ``connection`` is the caller's own driver connection or session (an asyncpg
        connection inside a transaction, a pymongo ``AsyncClientSession``, a ``sqlite3``
        connection on the same file with a transaction open): the jobs then
        exist only if the caller's transaction commits. Backends that cannot join a caller's
        transaction raise :class:`TypeError` when it is given.

        A backend whose ``lazy_enqueue`` is true may get ``jobs`` built as they are read
        (``Queue.add_bulk`` hands over a :class:`asyncmq.builder.JobBatch`): reading one can
        raise the caller's error about it, and the call must then leave nothing stored.
        """

    @abc.abstractmethod
    async def claim(
        self,
        queue: str,
        limit: int,
        *,
        lease: float,
        token: str,
        now: float,
        rate: RateLimit | None = None,
    ) -> Claimed:
        """Take up to ``limit`` waiting jobs, lowest priority number first, FIFO within one.

        Nothing is taken while the queue is paused. With ``rate``, one token of the queue's
        shared bucket is taken per job. A job never started whose ``ttl`` has passed
        (``created_at + ttl <= now``) ends ``expired`` instead (dependents cascade) and does
        not count towards ``limit``. Taken jobs become ``active`` with ``attempts + 1``,
        ``started_at = now``, ``lease_token = token`` and ``lease_until = now + lease``.
        ``token`` is unique per call: a backend may use it to replay a claim whose reply
        was lost to a dropped connection.
        """

    @abc.abstractmethod
    async def extend_lease(self, queue: str, leases: Sequence[Lease], until: float) -> list[bool]:
        """Set ``lease_until = until`` on each job still active under the same token."""

    @abc.abstractmethod
    async def complete(self, queue: str, items: Sequence[Completion], now: float) -> list[bool]:
        """Active + same token -> ``completed`` with result; release dependents now all met."""

    @abc.abstractmethod
    async def retry(self, queue: str, items: Sequence[Retrial], now: float) -> list[bool]:
        """Active + same token -> ``delayed`` (``run_at > now``) or ``waiting``; error kept."""

    @abc.abstractmethod
    async def fail(self, queue: str, items: Sequence[Failure], now: float) -> list[bool]:
        """Active + same token -> ``failed`` with ``finished_at = now``; dependents cascade."""

    @abc.abstractmethod
    async def promote_due(self, queue: str, now: float) -> Promoted:
        """Move ``delayed`` jobs with ``run_at <= now`` to ``waiting``. Idempotent."""

    @abc.abstractmethod
    async def requeue_expired(self, queue: str, now: float, *, max_stalls: int) -> int:
        """Hand back ``active`` jobs whose ``lease_until <= now``; return how many moved.

        Each gets ``stalls + 1`` and goes to ``waiting`` with its lease cleared, or to
        ``failed`` with a :data:`STALLED` error once ``stalls`` exceeds ``max_stalls``.
        Being the periodic sweep, it may also finish repair work a backend left half done
        (for example a dependency release interrupted by a crash).
        """

    @abc.abstractmethod
    async def wait_for_jobs(self, queue: str, timeout: float) -> None:
        """Return when work may be ready on ``queue`` (an enqueue, resume or promotion
        anywhere), or after ``timeout`` seconds. Spurious wake-ups are allowed."""

    async def wait_and_claim(
        self,
        queue: str,
        limit: int,
        *,
        timeout: float,
        lease: float,
        token: str,
        now: float,
        rate: RateLimit | None = None,
    ) -> Claimed:
        """:meth:`wait_for_jobs`, then, where the store can do it in the same round trip as
        the wake-up, :meth:`claim` with these arguments; an idle worker's path to its next
        job. Returns what was claimed, often nothing: the caller then claims as usual.

        A claim made here runs later than ``now`` (when the wait ended), and the jobs carry
        that later instant (``started_at``, ``lease_until``, ttl checks). Cancelled, it leaves
        no job claimed under ``token``. The default only waits.
        """
        await self.wait_for_jobs(queue, timeout)
        return Claimed([])

    # -- inspection and admin ------------------------------------------------------------

    @abc.abstractmethod
    async def get_job(self, queue: str, job_id: str) -> Job | None: ...

    @abc.abstractmethod
    async def list_jobs(
        self, queue: str, state: JobState, *, offset: int = 0, limit: int = 100
    ) -> list[Job]:
        """A page of jobs in ``state``: ``waiting`` in claim order, ``delayed`` by
        ``run_at``, finished states newest ``finished_at`` first."""

    @abc.abstractmethod
    async def counts(self, queue: str) -> dict[JobState, int]:
        """The number of jobs in every state (all eight keys present). Never a scan of the
        job store: counters, or at worst a count over an index on (queue, state)."""

    @abc.abstractmethod
    async def list_queues(self) -> list[str]:
        """Names of queues that hold jobs, repeatables or a pause flag."""

    @abc.abstractmethod
    async def pause(self, queue: str) -> None: ...

    @abc.abstractmethod
    async def resume(self, queue: str) -> None:
        """Unpause and wake waiting workers."""

    @abc.abstractmethod
    async def is_paused(self, queue: str) -> bool: ...

    @abc.abstractmethod
    async def cancel(self, queue: str, job_id: str, now: float) -> bool:
        """Any unfinished job -> ``cancelled`` (lease cleared, so its worker's settle is
        stale and its heartbeat learns to stop it); dependents cascade. False if finished
        or absent."""

    @abc.abstractmethod
    async def retry_job(self, queue: str, job_id: str, now: float) -> bool:
        """A ``failed``, ``expired`` or ``cancelled`` job -> ``waiting`` with attempts,
        stalls and error reset. False otherwise."""

    @abc.abstractmethod
    async def remove(self, queue: str, job_id: str, now: float) -> bool:
        """Delete a job in any state; jobs waiting on it fail as for a failed dependency,
        with the message ``dependency <id> was removed``."""

    @abc.abstractmethod
    async def clean(
        self,
        queue: str,
        state: JobState,
        *,
        finished_before: float | None = None,
        keep_last: int | None = None,
        limit: int = 1000,
    ) -> int:
        """Delete up to ``limit`` jobs in a finished ``state``: those with ``finished_at <
        finished_before`` and those beyond the newest ``keep_last``. Returns the count.
        Raises ``ValueError`` for an unfinished state."""

    @abc.abstractmethod
    async def drain(self, queue: str) -> int:
        """Delete every ``waiting``, ``delayed`` and ``waiting-children`` job."""

    @abc.abstractmethod
    async def obliterate(self, queue: str) -> int:
        """Delete everything of the queue: jobs in every state, repeatables, pause flag,
        rate-limit bucket and worker records. Returns the number of jobs deleted."""

    @abc.abstractmethod
    async def update_progress(self, queue: str, lease: Lease, progress: Any) -> bool:
        """Store ``progress`` on an active job still held under the same token."""

    # -- repeatables and workers ---------------------------------------------------------

    @abc.abstractmethod
    async def save_repeatable(self, repeatable: Repeatable) -> None:
        """Insert or replace the definition with this key. An existing one keeps its
        ``created_at`` (so its schedule does not shift) and its ``paused`` flag (so an app
        declaring its repeatables at start-up does not resume one an operator paused)."""

    @abc.abstractmethod
    async def list_repeatables(self, queue: str) -> list[Repeatable]: ...

    @abc.abstractmethod
    async def remove_repeatable(self, queue: str, key: str) -> bool: ...

    @abc.abstractmethod
    async def set_repeatable_paused(self, queue: str, key: str, paused: bool) -> bool: ...

    @abc.abstractmethod
    async def record_worker(self, info: WorkerInfo) -> None:
        """Insert or refresh a worker's report."""

    @abc.abstractmethod
    async def remove_worker(self, queue: str, worker_id: str) -> None: ...

    @abc.abstractmethod
    async def list_workers(self, queue: str, *, seen_since: float) -> list[WorkerInfo]:
        """Workers whose last heartbeat is at or after ``seen_since``; older records may be
        deleted."""

    # -- lifecycle -----------------------------------------------------------------------

    async def migrate(self) -> None:  # noqa: B027 - a schemaless store has nothing to migrate
        """Create or upgrade the storage schema and indexes (``asyncmq db migrate``).

        Every backend also does this on first use; the command lets deployments do it ahead.
        """

    async def maintain(self, queue: str, now: float) -> None:  # noqa: B027 - most stores need none
        """Housekeeping that keeps the cost per job flat as jobs churn through ``queue``.

        The scanner calls it once per scan interval after promotion, requeue and retention.
        It must be cheap when there is nothing to do and safe in many processes at once.
        PostgreSQL vacuums its tables here; stores that reclaim space by themselves do nothing.
        """

    async def aclose(self) -> None:  # noqa: B027 - a backend without connections has none to close
        """Release connections. The backend may not be used afterwards."""

    async def __aenter__(self: _Backend) -> _Backend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

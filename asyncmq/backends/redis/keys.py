"""Redis key names: the only place that builds them. Every key of a queue carries the hash tag
``{<queue>}`` so one script touches one Cluster slot.

Layout, for ``prefix="asyncmq"`` and queue ``emails``::

    asyncmq:queues                           SET   queue names (list_queues); its own slot
    asyncmq:{emails}:meta                    HASH  seq (arrival counter), paused, rate-limit
                                                   bucket (rate_limit, rate_interval, tokens,
                                                   updated_at)
    asyncmq:{emails}:waiting                 ZSET  score priority, member <seq:12 hex><job id>:
                                                   equal scores sort by member, so FIFO
    asyncmq:{emails}:delayed                 ZSET  score run_at, member as in waiting
    asyncmq:{emails}:waiting-children        ZSET  score seq, member job id
    asyncmq:{emails}:active                  ZSET  score lease_until, member job id
    asyncmq:{emails}:completed|failed|expired|cancelled
                                             ZSET  score finished_at, member job id
    asyncmq:{emails}:marker                  LIST  at most one element: the wake-up a waiting
                                                   worker blocks on (BLPOP)
    asyncmq:{emails}:repeatables             HASH  key -> Repeatable JSON
    asyncmq:{emails}:workers                 HASH  worker id -> WorkerInfo JSON
    asyncmq:{emails}:workers-seen            ZSET  score heartbeat_at, member worker id
    asyncmq:{emails}:job:<id>                HASH  one job: records.JOB_FIELDS (``data`` is
                                                   the JSON of the producer's fields, the rest
                                                   one field each, absent for None; the lease
                                                   fields count only while active), plus
                                                   member (its waiting/delayed member),
                                                   expires_at and ttl (with a ttl), and
                                                   has_dependents
    asyncmq:{emails}:pending:<id>            SET   unmet dependencies of a waiting-children job
    asyncmq:{emails}:dependents:<id>         SET   jobs waiting on job <id>
    asyncmq:{emails}:claims:<token>          STRING JSON list of the job ids one claim took,
                                                   kept for one lease so a claim retried after
                                                   a lost reply returns the same jobs
    asyncmq:{emails}:woke:<token>            LIST  an idle worker's wait (wait_and_claim):
                                                   the server time it began, then the marker
                                                   element if a wake-up came; read and
                                                   deleted by the claim sent behind the wait

Scripts get the fixed keys and the prefixes ending in ``:`` (to which Lua appends a job id or
a claim token) as KEYS, in :data:`QUEUE_KEYS` order.
"""

from __future__ import annotations

#: The suffixes of a queue's KEYS, in the order every script receives them.
QUEUE_KEYS = (
    "meta",
    "waiting",
    "delayed",
    "waiting-children",
    "active",
    "completed",
    "failed",
    "expired",
    "cancelled",
    "marker",
    "repeatables",
    "workers",
    "workers-seen",
    "job:",
    "pending:",
    "dependents:",
    "claims:",
    "woke:",
)
_INDEX = {name: i for i, name in enumerate(QUEUE_KEYS)}


def registry(prefix: str) -> str:
    """The set of queue names."""
    return f"{prefix}:queues"


def queue_keys(prefix: str, queue: str) -> list[str]:
    """The KEYS every script of ``queue`` takes, in :data:`QUEUE_KEYS` order."""
    base = f"{prefix}:{{{queue}}}:"
    return [base + name for name in QUEUE_KEYS]


def pick(keys: list[str], name: str) -> str:
    """One key out of :func:`queue_keys`, by its suffix in :data:`QUEUE_KEYS`."""
    return keys[_INDEX[name]]


def job(keys: list[str], job_id: str) -> str:
    """The hash of one job."""
    return keys[_INDEX["job:"]] + job_id


def woke(keys: list[str], token: str) -> str:
    """The list an idle worker's wait moves the wake-up marker to (see claim.lua)."""
    return keys[_INDEX["woke:"]] + token

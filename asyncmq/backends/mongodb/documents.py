"""How jobs are stored in MongoDB: the job document, the indexes and the update pipelines.

Each pipeline is built here, next to the fields it touches; user-given strings are wrapped in
``$literal`` so a value starting with ``$`` is never read as a field path.
"""

from __future__ import annotations

import math
from typing import Any

from asyncmq import serializers
from asyncmq.backends.base import STALLED
from asyncmq.jobs import Job, JobError, JobState
from asyncmq.ratelimit import RateLimit

Doc = dict[str, Any]

WAITING = JobState.WAITING.value
DELAYED = JobState.DELAYED.value
WAITING_CHILDREN = JobState.WAITING_CHILDREN.value
ACTIVE = JobState.ACTIVE.value

# Fields kept as JSON bytes: user values that BSON would alter (tuples, ints past 2**63,
# keys with "$" or ".", non-string keys) round-trip exactly as in the other backends.
# Documents written before a field existed lack it; from_doc gives it its default.
_ENCODED = ("args", "kwargs", "context", "result", "progress")

# Claim order: priority, then the instant-derived sequence of entering ``waiting``. Jobs
# that entered in one write share ``seq``; ``rank`` orders them as the reference does: by
# ``run_at`` when promoted, by ``started_at`` when requeued, else 0 (then by id).
WAITING_ORDER = [("priority", 1), ("seq", 1), ("rank", 1), ("id", 1)]


def claim_order(doc: Doc) -> tuple[Any, ...]:
    return (doc["priority"], doc["seq"], doc["rank"], doc["id"])


DELAYED_ORDER = [("run_at", 1), ("seq", 1)]
FINISHED_ORDER = [("finished_at", -1), ("seq", 1)]

# Every index, in one place, with the queries it serves. Created on first use.
Index = tuple[list[tuple[str, int]], dict[str, Any], str]
JOB_INDEXES: list[Index] = [
    ([("queue", 1), ("id", 1)], {"unique": True}, "insert-if-absent, get_job, transitions by id"),
    (
        [("queue", 1), ("state", 1), *WAITING_ORDER],
        {},
        "claim candidates and list_jobs(waiting) in claim order; counts; drain",
    ),
    ([("queue", 1), ("state", 1), *DELAYED_ORDER], {}, "promote_due, next_run_at, delayed"),
    ([("queue", 1), ("state", 1), ("lease_until", 1)], {}, "requeue_expired"),
    ([("queue", 1), ("state", 1), *FINISHED_ORDER], {}, "clean, list finished jobs"),
    ([("queue", 1), ("state", 1), ("deps_left", 1)], {}, "release and cascade dependents"),
    ([("queue", 1), ("op", 1)], {}, "read back the jobs one batched write changed"),
    (
        [("queue", 1), ("deps_pending", 1)],
        {"partialFilterExpression": {"deps_pending": True}},
        "repair: finished jobs whose dependents were not yet released or failed",
    ),
    (
        [("queue", 1), ("admitting", 1)],
        {"partialFilterExpression": {"admitting": True}},
        "repair: new jobs whose dependencies were not yet resolved",
    ),
]
QUEUE_INDEXES: list[Index] = [
    ([("paused", 1)], {"partialFilterExpression": {"paused": True}}, "list_queues: paused ones")
]
REPEATABLE_INDEXES: list[Index] = [
    ([("queue", 1), ("key", 1)], {"unique": True}, "save/list/remove repeatables")
]
WORKER_INDEXES: list[Index] = [
    ([("queue", 1), ("id", 1)], {"unique": True}, "record_worker"),
    ([("queue", 1), ("heartbeat_at", 1)], {}, "list_workers and pruning"),
]

# The backend-kept fields of a new job, as Job.fresh() sets them.
_FRESH = {
    "attempts": 0,
    "stalls": 0,
    "started_at": None,
    "finished_at": None,
    "lease_until": None,
    "result": None,
    "error": None,
    "progress": None,
    "lease_token": None,
}


# Range bounds on indexed instants are written as strict bounds on the neighbouring float,
# the same sets on every server, because SecantusDB 0.7.0b3 drops the documents equal to an
# inclusive bound ("$lte" on an ascending key, "$gte" on a descending one) when the key is
# not the index's last.
def at_most(instant: float) -> Doc:
    return {"$lt": math.nextafter(instant, math.inf)}


def at_least(instant: float) -> Doc:
    return {"$gt": math.nextafter(instant, -math.inf)}


def encode(value: Any) -> bytes | None:
    return None if value is None else serializers.dumps(value)


def decode(value: Any) -> Any:
    return None if value is None else serializers.loads(value)


def to_doc(job: Job, queue: str, state: JobState, seq: int) -> Doc:
    """A fresh job's document; ``deps_left`` holds its unmet dependencies."""
    # The queue in _id puts it in every change event's documentKey, so an update wakes only
    # the waiters of its own queue.
    doc = {"_id": {"queue": queue, "id": job.id}, **job.to_dict(), **_FRESH}
    for name in _ENCODED:
        doc[name] = encode(doc[name])
    doc["queue"] = queue
    doc["state"] = state.value
    doc["seq"] = seq
    doc["rank"] = 0.0
    doc["expires_at"] = None if job.ttl is None else job.created_at + job.ttl
    doc["expiry"] = None if job.ttl is None else expiry_error(job.ttl).to_dict()
    doc["has_dependents"] = False
    if state is JobState.WAITING_CHILDREN:
        doc["deps_left"] = list(dict.fromkeys(job.depends_on))
        doc["admitting"] = True
    return doc


def expiry_error(ttl: float) -> JobError:
    return JobError("JobExpiredError", f"not started within ttl={ttl}s")


def from_doc(doc: Doc) -> Job:
    data = dict(doc)
    for name in _ENCODED:
        data[name] = decode(data.get(name))
    return Job.from_dict(data)


def ready_state(run_at: float | None, now: float) -> JobState:
    return JobState.DELAYED if run_at is not None and run_at > now else JobState.WAITING


def literal(fields: Doc) -> Doc:
    """Values for a pipeline ``$set``, taken as they are (a string may start with ``$``)."""
    return {name: {"$literal": value} for name, value in fields.items()}


def finish_pipeline(state: JobState, now: float, **fields: Any) -> list[Doc]:
    """A move to a finished state: lease cleared, ``finished_at = now``.

    ``deps_pending`` marks, in the same write, a job whose dependents still have to be
    released or failed; it is cleared once they are, and a crash in between is repaired.
    """
    values = literal(fields)
    return [
        {
            "$set": {
                "state": state.value,
                "finished_at": now,
                "lease_token": None,
                "lease_until": None,
                **values,
                "deps_pending": {"$cond": ["$has_dependents", True, "$$REMOVE"]},
            }
        }
    ]


def claim_one_pipeline(now: float, lease: float, token: str) -> list[Doc]:
    """Take one ``waiting`` job, or end it ``expired`` if its ttl passed before its start.

    Either way the job leaves ``waiting`` in this one write; the caller looks at ``state``.
    """
    expired = {
        "$and": [
            {"$eq": ["$attempts", 0]},
            {"$ne": [{"$ifNull": ["$expires_at", None]}, None]},
            {"$lte": ["$expires_at", now]},
        ]
    }

    def either(if_expired: Any, if_taken: Any) -> Doc:
        return {"$cond": ["$expired", if_expired, if_taken]}

    pending = {"$cond": ["$has_dependents", True, {"$ifNull": ["$deps_pending", "$$REMOVE"]}]}
    return [
        {"$set": {"expired": expired}},
        {
            "$set": {
                "state": either(JobState.EXPIRED.value, ACTIVE),
                "attempts": either("$attempts", {"$add": ["$attempts", 1]}),
                "started_at": either("$started_at", now),
                "lease_token": either(None, {"$literal": token}),
                "lease_until": either(None, now + lease),
                "finished_at": either(now, "$finished_at"),
                "error": either("$expiry", "$error"),
                "deps_pending": either(pending, {"$ifNull": ["$deps_pending", "$$REMOVE"]}),
            }
        },
        {"$unset": "expired"},
    ]


def release_pipeline(dependency_id: str, now: float, seq: int) -> list[Doc]:
    """Drop one met dependency from ``deps_left``; the last one moves the job on.

    Removing the id (rather than decrementing a counter) makes a repeated release of the same
    dependency a no-op, and the state change happens in the same document update, so
    concurrent completions release a dependent exactly once.
    """
    left = {
        "$filter": {"input": "$deps_left", "cond": {"$ne": ["$$this", {"$literal": dependency_id}]}}
    }
    later = {"$gt": [{"$ifNull": ["$run_at", None]}, now]}
    ready = {"$cond": [later, DELAYED, WAITING]}
    return [
        {"$set": {"deps_left": left}},
        {
            "$set": {
                "state": {
                    "$cond": [{"$gt": [{"$size": "$deps_left"}, 0]}, WAITING_CHILDREN, ready]
                },
                "seq": seq,
                "rank": 0.0,
            }
        },
    ]


def stalled_pipeline(now: float, max_stalls: int) -> list[Doc]:
    """Fail a job that lost its lease once too often, naming its stall count."""
    message = [
        "job lost its lease ",
        {"$toString": "$stalls"},
        f" times (max_stalls={max_stalls})",
    ]
    error = {"type": STALLED, "message": {"$concat": message}, "traceback": ""}
    return [
        {"$set": {"stalls": {"$add": ["$stalls", 1]}}},
        *finish_pipeline(JobState.FAILED, now),
        {"$set": {"error": error}},
    ]


def bucket_take_pipeline(rate: RateLimit, wanted: int, now: float) -> list[Doc]:
    """Refill the queue's token bucket and take up to ``wanted`` whole tokens.

    The arithmetic is :class:`asyncmq.ratelimit.TokenBucket`'s, step for step; the grant lands
    in ``granted`` of the returned document (0 while the queue is paused).
    """
    limit = float(rate.limit)
    same = {
        "$and": [
            {"$eq": ["$bucket.limit", rate.limit]},
            {"$eq": ["$bucket.interval", rate.interval]},
        ]
    }
    full = {"limit": rate.limit, "interval": rate.interval, "tokens": limit, "updated_at": now}
    elapsed = {"$subtract": [now, "$bucket.updated_at"]}
    refilled = {
        "$min": [
            limit,
            {"$add": ["$bucket.tokens", {"$multiply": [elapsed, rate.limit / rate.interval]}]},
        ]
    }
    grant = {"$max": [0, {"$min": [wanted, {"$floor": "$bucket.tokens"}]}]}
    return [
        {"$set": {"bucket": {"$cond": [same, "$bucket", {"$literal": full}]}}},
        {
            "$set": {
                "bucket.tokens": {
                    "$cond": [{"$gt": [now, "$bucket.updated_at"]}, refilled, "$bucket.tokens"]
                },
                "bucket.updated_at": {"$max": [now, "$bucket.updated_at"]},
            }
        },
        {"$set": {"granted": {"$cond": [{"$eq": ["$paused", True]}, 0, grant]}}},
        {"$set": {"bucket.tokens": {"$subtract": ["$bucket.tokens", "$granted"]}}},
    ]


def bucket_give_back_pipeline(count: int) -> list[Doc]:
    limit = {"$ifNull": ["$bucket.limit", 0]}
    return [{"$set": {"bucket.tokens": {"$min": [limit, {"$add": ["$bucket.tokens", count]}]}}}]

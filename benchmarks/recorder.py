"""Counts finished jobs outside the library under test: a Redis counter written in batches.

Imported by every target's job function, in every peer's virtualenv, so it needs only `redis`.
"""

from __future__ import annotations

import os
import threading
import time

import redis

RECORDER_URL = os.environ.get("BENCH_RECORDER_URL", "redis://127.0.0.1:6379/14")
DONE = "bench:done"
LATENCIES = "bench:lat"
FIRST = "bench:first:"  # + pid: wall time of the first job this process finished since reset
LAST = "bench:last:"  # + pid: wall time of the latest job this process finished
FLUSH_INTERVAL = 0.05

_lock = threading.Lock()
_pending = 0
_first = 0.0
_last = 0.0
_latencies: list[str] = []
_owner_pid = 0


def record(enqueued_at: float = 0.0) -> None:
    """Count one finished job; `enqueued_at` (wall clock) > 0 also records its start latency.

    The job only bumps in-process numbers; a daemon thread ships them every 50 ms, so the
    recorder costs the same tiny amount for every library and never caps the throughput.
    """
    global _pending, _first, _last
    now = time.time()
    with _lock:
        if _owner_pid != os.getpid():
            _start_flusher()
        _pending += 1
        _last = now
        if not _first:
            _first = now
        if enqueued_at:
            _latencies.append(repr(now - enqueued_at))


def _start_flusher() -> None:
    # Started lazily and per pid: forking workers (celery prefork, rq) lose threads on fork.
    global _owner_pid, _pending, _first, _latencies
    _owner_pid = os.getpid()
    _pending, _first, _latencies = 0, 0.0, []
    threading.Thread(target=_flush_forever, name="bench-recorder", daemon=True).start()


def _flush_forever() -> None:
    global _pending, _first, _latencies
    client = redis.Redis.from_url(RECORDER_URL)
    pid = os.getpid()
    while True:
        time.sleep(FLUSH_INTERVAL)
        with _lock:
            count, latencies, first, last = _pending, _latencies, _first, _last
            _pending, _first, _latencies = 0, 0.0, []
        if not count:
            continue
        pipe = client.pipeline(transaction=False)
        # NX: after a reset the key is gone, so the first batch since the reset sets it.
        pipe.set(f"{FIRST}{pid}", repr(first), nx=True)
        pipe.set(f"{LAST}{pid}", repr(last))
        if latencies:
            pipe.rpush(LATENCIES, *latencies)
        pipe.incrby(DONE, count)
        pipe.execute()


def reset(client: redis.Redis) -> None:
    """Forget every count, timestamp and latency (between measurements)."""
    keys = [DONE, LATENCIES, *client.keys(FIRST + "*"), *client.keys(LAST + "*")]
    client.delete(*keys)


def done(client: redis.Redis) -> int:
    """How many jobs finished since the last reset."""
    return int(client.get(DONE) or 0)


def span(client: redis.Redis) -> tuple[float, float]:
    """(earliest first, latest last) finish time over all worker processes since the reset."""
    firsts = [float(v) for v in client.mget(client.keys(FIRST + "*")) if v]
    lasts = [float(v) for v in client.mget(client.keys(LAST + "*")) if v]
    return (min(firsts) if firsts else 0.0, max(lasts) if lasts else 0.0)


def latencies(client: redis.Redis) -> list[float]:
    """Every recorded start latency, in seconds."""
    return [float(v) for v in client.lrange(LATENCIES, 0, -1)]

"""Several OS processes share one SQLite file: claims never overlap, a fresh file's schema is
created once, and a job added by one process runs in another with the default backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import anyio

from asyncmq.backends.base import Completion, Lease
from asyncmq.backends.sqlite import SQLiteBackend
from asyncmq.jobs import Job, JobState
from asyncmq.queues import Queue
from tests.integration import running, tasks, wait_until

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "shared"
TIMEOUT = 60.0


# -- what the child processes run ----------------------------------------------------------


def _ready_then_go() -> None:
    """Tell the parent this process has started, then wait for its go, so all start at once."""
    print("ready", flush=True)
    sys.stdin.readline()


def claim_until_empty(path: str, worker: str) -> None:
    async def main() -> list[str]:
        claimed: list[str] = []
        async with SQLiteBackend(path) as backend:
            await backend.counts(QUEUE)  # open the file before the go
            _ready_then_go()
            while True:
                now = time.time()
                got = await backend.claim(QUEUE, 5, lease=60, token=worker, now=now)
                if not got.jobs:
                    return claimed
                leases = [Completion(Lease(j.id, worker), worker) for j in got.jobs]
                assert await backend.complete(QUEUE, leases, now) == [True] * len(leases)
                claimed.extend(j.id for j in got.jobs)
                await anyio.sleep(0.002)  # the jobs' work: lets the processes interleave

    print(json.dumps(anyio.run(main)), flush=True)


def enqueue_some(path: str, worker: str) -> None:
    async def main() -> None:
        _ready_then_go()  # before the first use: every process races to create the schema
        async with SQLiteBackend(path) as backend:
            jobs = [Job("tests.noop", args=[worker, i], created_at=time.time()) for i in range(50)]
            await backend.enqueue(QUEUE, jobs, time.time())

    anyio.run(main)
    print(json.dumps([]), flush=True)


def produce() -> None:
    async def main() -> None:
        await Queue("q").add(tasks.add, args=[2, 3], job_id="cross-process")

    anyio.run(main)


def consume() -> None:
    async def main() -> object:
        queue = Queue("q", scan_interval=0.1)

        async def added() -> bool:
            return await queue.get_job("cross-process") is not None

        async with running(queue):
            await wait_until(added, timeout=TIMEOUT)
            return await queue.result("cross-process", timeout=TIMEOUT)

    print(json.dumps(anyio.run(main)), flush=True)


# -- the parent ----------------------------------------------------------------------------


def _python(call: str, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "ASYNCMQ_BACKEND_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    code = f"from tests.integration.test_sqlite_multiprocess import *; {call}"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_together(calls: Sequence[str], cwd: Path) -> list[list[str]]:
    """Start the children, wait until each is ready, release them at once, collect output."""
    children = [_python(call, cwd) for call in calls]
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line == "ready\n", (line, child.stderr.read() if child.stderr else "")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=TIMEOUT) for child in children]
    finally:
        for child in children:
            child.kill()
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    return [json.loads(out) for out, _ in outputs]


def test_processes_never_claim_the_same_job(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"

    async def fill() -> None:
        async with SQLiteBackend(path) as backend:
            jobs = [Job("tests.noop", args=[i], created_at=time.time()) for i in range(300)]
            await backend.enqueue(QUEUE, jobs, time.time())

    anyio.run(fill)
    claims = _run_together(
        [f"claim_until_empty({str(path)!r}, 'w{n}')" for n in range(3)], tmp_path
    )
    every = [job_id for claimed in claims for job_id in claimed]
    assert len(every) == len(set(every)) == 300
    assert sum(1 for claimed in claims if claimed) >= 2, [len(c) for c in claims]

    async def check() -> None:
        async with SQLiteBackend(path) as backend:
            counts = await backend.counts(QUEUE)
            assert counts[JobState.COMPLETED] == 300
            assert sum(counts.values()) == 300

    anyio.run(check)


def test_processes_racing_to_create_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "new.db"
    _run_together([f"enqueue_some({str(path)!r}, 'w{n}')" for n in range(3)], tmp_path)

    async def check() -> None:
        async with SQLiteBackend(path) as backend:
            assert (await backend.counts(QUEUE))[JobState.WAITING] == 150

    anyio.run(check)


def test_a_job_added_in_one_process_runs_in_another(tmp_path: Path) -> None:
    worker = _python("consume()", tmp_path)  # waits for the job before it exists
    try:
        producer = _python("produce()", tmp_path)
        _, err = producer.communicate(timeout=TIMEOUT)
        assert producer.returncode == 0, err
        out, err = worker.communicate(timeout=TIMEOUT)
        assert worker.returncode == 0, err
    finally:
        worker.kill()
    assert json.loads(out) == 5
    assert (tmp_path / "asyncmq.db").exists()  # the default backend, in the working directory

"""`asyncmq worker` as users run it: separate processes sharing the default SQLite backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from asyncmq.backends import from_url
from asyncmq.backends.base import BaseBackend
from asyncmq.jobs import JobState
from asyncmq.queues import Queue
from tests.integration import tasks, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _spawn(tmp_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASYNCMQ_SCAN_INTERVAL": "0.1"}
    env.pop("ASYNCMQ_BACKEND_URL", None)
    command = [
        sys.executable,
        "-m",
        "asyncmq.cli",
        "worker",
        "e2e",
        "--app",
        "tests.integration.tasks",
    ]
    return subprocess.Popen([*command, *extra], cwd=tmp_path, env=env)


def _backend(tmp_path: Path) -> BaseBackend:
    # The worker uses the default, sqlite:///asyncmq.db relative to its working directory.
    return from_url(f"sqlite:///{tmp_path / 'asyncmq.db'}")


@pytest.mark.anyio
async def test_supervisor_runs_restarts_and_stops_workers(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    queue = Queue("e2e", backend=backend)
    supervisor = _spawn(tmp_path, "--processes", "2", "--concurrency", "4")
    try:
        ids = [await queue.add(tasks.add, args=[i, 1]) for i in range(20)]
        assert [await queue.result(i, timeout=30) for i in ids] == [i + 1 for i in range(20)]
        children = await _worker_pids(backend, 2)
        os.kill(children[0], signal.SIGKILL)
        await anyio.sleep(1.0)
        more = [await queue.add(tasks.multiply, args=[i, 2]) for i in range(10)]
        assert [await queue.result(i, timeout=30) for i in more] == [i * 2 for i in range(10)]
    finally:
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0
        await backend.aclose()


async def _worker_pids(backend: BaseBackend, count: int) -> list[int]:
    with anyio.fail_after(30):
        while True:
            workers = await backend.list_workers("e2e", seen_since=time.time() - 30)
            if len({w.pid for w in workers}) >= count:
                return sorted({w.pid for w in workers})
            await anyio.sleep(0.2)


@pytest.mark.anyio
async def test_sigterm_lets_the_running_job_finish(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    queue = Queue("e2e", backend=backend)
    worker = _spawn(tmp_path)
    try:
        job_id = await queue.add(tasks.sleepy, args=["cli", 1.0])

        async def started() -> bool:
            job = await queue.get_job(job_id)
            return job is not None and job.state is JobState.ACTIVE

        await wait_until(started, timeout=30)
        worker.send_signal(signal.SIGTERM)
        assert await queue.result(job_id, timeout=30) == "slept"
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        await backend.aclose()

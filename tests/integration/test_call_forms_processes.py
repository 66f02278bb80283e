"""The call forms across processes: a real ``asyncmq worker`` runs plain functions added here,
with their context, options and schedule, and refuses what its allowlist does not name."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncmq import context
from asyncmq.backends import from_url
from asyncmq.jobs import JobState
from asyncmq.queues import Queue
from tests.integration import plain

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(params=["sqlite", "redis", "postgres"])
def url(request: pytest.FixtureRequest, servers: object) -> str:
    _, found = servers.url(request.param)  # type: ignore[attr-defined]
    return str(found)


@pytest.fixture
def worker(url: str, queue_name: str, tmp_path: Path) -> Iterator[Path]:
    marker = tmp_path / "forbidden-imported"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASYNCMQ_SCAN_INTERVAL": "0.1",
        "ASYNCMQ_TEST_FORBIDDEN_MARKER": str(marker),
    }
    env.pop("ASYNCMQ_IMPORTS", None)
    command = [sys.executable, "-m", "asyncmq.cli", "--backend", url, "worker", queue_name]
    process = subprocess.Popen(
        [*command, "--app", "tests.integration.plain", "-c", "4"], cwd=tmp_path, env=env
    )
    try:
        yield marker
    finally:
        process.terminate()
        process.wait(timeout=60)


async def test_a_worker_process_runs_plain_functions_with_their_context(
    url: str, queue_name: str, worker: Path
) -> None:
    queue = Queue(queue_name, backend=from_url(url))
    try:
        context.set("locale", "pt_BR")
        token = plain.user.set("grace")
        try:
            sync_id = await queue.add_task(plain.whoami, "sync")
            async_id = await queue.add_task(plain.awhoami, "async")
        finally:
            plain.user.reset(token)
            context.clear()
        run_at = time.time() + 1.5
        scheduled = await queue.add_task(plain.stamp, __run_at=run_at)
        slow = await queue.add_task(plain.nap, 60, __soft_timeout_s=0.3, __hard_timeout_s=90)
        refused = [
            await queue.add("tests.integration.forbidden.boom"),
            await queue.add("os.system", ["touch should-not-exist"]),
        ]
        expected = {"user": "grace", "context": {"locale": "pt_BR"}}
        assert await queue.result(sync_id, timeout=30) == {"tag": "sync", **expected}
        assert await queue.result(async_id, timeout=30) == {"tag": "async", **expected}
        assert await queue.result(scheduled, timeout=30) >= run_at
        for job_id in [slow, *refused]:
            with pytest.raises(Exception, match="ended failed"):
                await queue.result(job_id, timeout=30)
        job = await queue.get_job(slow)
        assert job is not None and job.error is not None and job.hard_timeout == 90
        assert job.error.type == "JobTimeoutError"
        for job_id in refused:
            job = await queue.get_job(job_id)
            assert job is not None and job.state is JobState.FAILED and job.error is not None
            assert job.error.type == "TaskNotAllowedError"
            assert "ASYNCMQ_IMPORTS" in job.error.message
        leftovers = [worker, worker.parent / "should-not-exist"]
        assert not any(map(os.path.exists, leftovers)), "a job ran what it was not allowed to"
    finally:
        await queue.obliterate()
        await queue.backend.aclose()

"""What the admin commands print and do, on SQLite files and Redis: tables with local times and
yes/no, tracebacks as text, retry-failed, the repeatable commands, drain's confirmation and
--watch."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest

from asyncmq.backends import from_url
from asyncmq.backends.base import Failure, Lease
from asyncmq.jobs import JobError
from asyncmq.queues import Queue
from tests.cli import ROOT, cli, error_line, json_of
from tests.conftest import _Servers

TOKYO = {"TZ": "JST-9"}  # a fixed +09:00 zone, whatever the machine's


@pytest.fixture
def queue(queue_name: str) -> str:
    return queue_name


@pytest.fixture(params=["sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path, servers: _Servers) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    return servers.url("redis")[1]


def failed_jobs(url: str, queue: str, count: int) -> list[str]:
    """Add ``count`` jobs and fail them with a real traceback, as a worker would."""

    async def main() -> list[str]:
        backend = from_url(url)
        try:
            ids = [await Queue(queue, backend=backend).add("app.boom", [i]) for i in range(count)]
            claimed = await backend.claim(queue, count, lease=30, token="t", now=time.time())
            failures = []
            for job in claimed.jobs:
                try:
                    raise ValueError(f"bad input {job.args[0]}")
                except ValueError as exc:
                    error = JobError.from_exception(exc, traceback.format_exc())
                failures.append(Failure(Lease(job.id, "t"), error))
            await backend.fail(queue, failures, time.time())
            return ids
        finally:
            await backend.aclose()

    return anyio.run(main)


def add_repeatable(url: str, queue: str) -> str:
    async def main() -> str:
        backend = from_url(url)
        try:
            await Queue(queue, backend=backend).add_repeatable("app.digest", cron="0 8 * * *")
            (repeatable,) = await backend.list_repeatables(queue)
            return repeatable.key
        finally:
            await backend.aclose()

    return anyio.run(main)


def in_tokyo(instant: float) -> str:
    zone = timezone(timedelta(hours=9))
    return datetime.fromtimestamp(instant, zone).isoformat(" ", "seconds")


def test_job_shows_local_times_yes_no_and_the_traceback_as_text(
    tmp_path: Path, url: str, queue: str
) -> None:
    (job_id,) = failed_jobs(url, queue, 1)
    row = json_of(tmp_path, "job", queue, job_id, "--backend", url)
    assert row["error"]["type"] == "ValueError"  # --json: the stored record, epoch times
    assert isinstance(row["finished_at"], float)

    done = cli(tmp_path, "job", queue, job_id, "--backend", url, env=TOKYO)
    assert done.returncode == 0
    fields, _, trace = done.stdout.partition("\n\n")
    lines = dict(line.split(None, 1) for line in fields.splitlines())
    assert lines["created_at"] == in_tokyo(row["created_at"])
    assert lines["finished_at"].endswith("+09:00")
    assert lines["error"] == "ValueError: bad input 0"
    assert lines["run_at"] == "-"
    assert trace.startswith("Traceback (most recent call last):\n")
    assert trace.rstrip().endswith("\nValueError: bad input 0")


def test_tables_of_queues_stats_and_jobs(tmp_path: Path, url: str, queue: str) -> None:
    failed_jobs(url, queue, 2)
    json_of(tmp_path, "pause", queue, "--backend", url)
    stats = cli(tmp_path, "stats", queue, "--backend", url)
    assert "failed            2\n" in stats.stdout
    assert stats.stdout.endswith("paused            yes\n")

    queues = cli(tmp_path, "queues", "--backend", url).stdout.splitlines()
    header = (
        "QUEUE PAUSED WAITING DELAYED WAITING-CHILDREN ACTIVE COMPLETED FAILED EXPIRED CANCELLED"
    )
    assert queues[0].split() == header.split()
    (row,) = [line.split() for line in queues if line.startswith(queue)]
    assert row == [queue, "yes", "0", "0", "0", "0", "0", "2", "0", "0"]
    assert "{" not in "\n".join(queues)

    jobs = cli(tmp_path, "jobs", queue, "--state", "failed", "--backend", url, env=TOKYO)
    lines = jobs.stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "TASK",
        "PRIORITY",
        "ATTEMPTS",
        "CREATED",
        "FINISHED",
        "ERROR",
    ]
    assert len(lines) == 3
    assert "+09:00" in lines[1]
    assert lines[1].endswith("ValueError: bad input 1") or lines[1].endswith("bad input 0")
    empty = cli(tmp_path, "jobs", queue, "--backend", url)
    assert empty.stdout == "(no waiting jobs)\n"


def test_retry_failed_retries_every_failed_job(tmp_path: Path, url: str, queue: str) -> None:
    failed_jobs(url, queue, 3)
    done = cli(tmp_path, "retry-failed", queue, "--backend", url)
    assert (done.returncode, done.stdout) == (0, "retried 3 failed jobs\n")
    stats = json_of(tmp_path, "stats", queue, "--backend", url)
    assert (stats["waiting"], stats["failed"]) == (3, 0)
    assert json_of(tmp_path, "retry-failed", queue, "--backend", url) == {"retried": 0}


def test_retry_cancel_remove_print_what_they_did(tmp_path: Path, url: str, queue: str) -> None:
    (job_id,) = failed_jobs(url, queue, 1)
    assert (
        cli(tmp_path, "retry", queue, job_id, "--backend", url).stdout == f"retried job {job_id}\n"
    )
    assert cli(tmp_path, "cancel", queue, job_id, "--backend", url).stdout == (
        f"cancelled job {job_id}\n"
    )
    again = cli(tmp_path, "cancel", queue, job_id, "--backend", url)
    assert again.returncode == 1
    assert error_line(again) == (
        f"asyncmq: error: job '{job_id}' is cancelled; it has finished already"
    )
    assert cli(tmp_path, "remove", queue, job_id, "--backend", url).stdout == (
        f"removed job {job_id}\n"
    )


def test_repeatable_pause_resume_remove(tmp_path: Path, url: str, queue: str) -> None:
    key = add_repeatable(url, queue)
    listed = cli(tmp_path, "repeatables", queue, "--backend", url).stdout.splitlines()
    assert listed[0].split() == ["KEY", "TASK", "SCHEDULE", "PAUSED", "CREATED"]
    assert listed[1].split()[:6] == [key, "app.digest", "cron", "0", "8", "*"]
    assert listed[1].split()[8] == "no"

    paused = cli(tmp_path, "repeatable", "pause", queue, key, "--backend", url)
    assert (paused.returncode, paused.stdout) == (0, f"paused repeatable {key}\n")
    assert json_of(tmp_path, "repeatables", queue, "--backend", url)[0]["paused"] is True
    assert json_of(tmp_path, "repeatable", "resume", queue, key, "--backend", url) == {
        "paused": False
    }
    assert json_of(tmp_path, "repeatables", queue, "--backend", url)[0]["paused"] is False
    removed = cli(tmp_path, "repeatable", "remove", queue, key, "--backend", url)
    assert (removed.returncode, removed.stdout) == (0, f"removed repeatable {key}\n")
    assert json_of(tmp_path, "repeatables", queue, "--backend", url) == []

    missing = cli(tmp_path, "repeatable", "pause", queue, key, "--backend", url)
    assert missing.returncode == 1
    assert error_line(missing) == (
        f"asyncmq: error: no repeatable '{key}' in queue '{queue}' (see: asyncmq repeatables QUEUE)"
    )


def _on_a_terminal(tmp_path: Path, answer: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run with stdin a terminal that has ``answer`` typed into it."""
    leader, follower = pty.openpty()
    try:
        os.write(leader, answer.encode())
        return cli(tmp_path, *argv, stdin=follower)
    finally:
        os.close(leader)
        os.close(follower)


def test_drain_asks_on_a_terminal_only(tmp_path: Path, url: str, queue: str) -> None:
    backend = ["--backend", url]
    for _ in range(2):
        json_of(tmp_path, "add", queue, "app.send", *backend)

    refused = _on_a_terminal(tmp_path, "n\n", "drain", queue, *backend)
    assert refused.returncode == 1
    question = f"Delete the 2 jobs of queue '{queue}' that have not started? "
    assert refused.stderr.startswith(question + "This cannot be undone. [y/N] ")
    assert refused.stderr.endswith("asyncmq: error: nothing deleted\n")
    assert json_of(tmp_path, "stats", queue, *backend)["waiting"] == 2

    agreed = _on_a_terminal(tmp_path, "y\n", "drain", queue, *backend)
    assert (agreed.returncode, agreed.stdout) == (0, "removed 2 jobs\n")

    json_of(tmp_path, "add", queue, "app.send", *backend)
    skipped = _on_a_terminal(tmp_path, "", "drain", queue, "--yes", *backend)
    assert (skipped.returncode, skipped.stdout, skipped.stderr) == (0, "removed 1 jobs\n", "")

    # A script's stdin is no terminal: it is never asked.
    json_of(tmp_path, "add", queue, "app.send", *backend)
    scripted = cli(tmp_path, "drain", queue, *backend)
    assert (scripted.returncode, scripted.stdout, scripted.stderr) == (0, "removed 1 jobs\n", "")


def test_clean_asks_on_a_terminal_and_takes_a_duration(tmp_path: Path, queue: str) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    failed_jobs(url, queue, 2)
    argv = ["clean", queue, "--state", "failed", "--backend", url]
    recent = _on_a_terminal(tmp_path, "y\n", *argv, "--older-than", "1h")
    assert recent.stderr.startswith(
        f"Delete the failed jobs of queue '{queue}' that finished over 1h ago (2 in all)? "
    )
    assert (recent.returncode, recent.stdout) == (0, "removed 0 jobs\n")
    assert json_of(tmp_path, *argv, "--older-than", "0s") == {"removed": 2}


@pytest.mark.parametrize("command", ["stats", "queues"])
def test_watch_redraws_until_ctrl_c(tmp_path: Path, command: str) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    json_of(tmp_path, "add", "emails", "app.send", "--backend", url)
    argv = [command, "emails"] if command == "stats" else [command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASYNCMQ_")}
    watcher = subprocess.Popen(
        [sys.executable, "-m", "asyncmq", *argv, "--watch", "0.2", "--backend", url],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        headers = 0
        deadline = time.monotonic() + 30
        while headers < 2 and time.monotonic() < deadline:
            headers += "(Ctrl-C to stop)" in watcher.stdout.readline()
        watcher.send_signal(signal.SIGINT)
        _, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert headers == 2
    assert (watcher.returncode, err) == (0, "")

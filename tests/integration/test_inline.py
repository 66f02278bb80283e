"""The inline driver (``sync://``): jobs run inside ``add()`` and are recorded as a worker
records them."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator

import anyio
import pytest

import asyncmq
from asyncmq.backends import from_url
from asyncmq.backends.base import DEPENDENCY_FAILED
from asyncmq.backends.inline import InlineBackend
from asyncmq.errors import InvalidURLError, JobFailedError, UnknownTaskError
from asyncmq.jobs import JobState
from asyncmq.queues import Queue
from asyncmq.settings import Settings, settings
from asyncmq.testing import FakeClock
from tests.integration import inline_tasks as fns

pytestmark = pytest.mark.anyio


@pytest.fixture
def token() -> Iterator[str]:
    value = uuid.uuid4().hex
    yield value
    fns.calls.pop(value, None)
    fns.queues.pop(value, None)


def inline_queue(name: str, **options: bool) -> Queue:
    return Queue(name, backend=InlineBackend(**options))


async def test_sync_async_and_task_functions_run_before_add_returns(
    queue_name: str, token: str
) -> None:
    queue = inline_queue(queue_name)
    sync_id = await queue.add(fns.append, [token, 1])
    assert fns.calls[token] == [1]
    async_id = await queue.add_task(fns.aappend, token, 2)
    assert fns.calls[token] == [1, 2]
    by_name = await queue.add("tests.integration.inline_tasks.append", [token, 3])
    assert fns.calls[token] == [1, 2, 3]
    assert [await queue.result(i, timeout=1) for i in (sync_id, async_id, by_name)] == [1, 2, 3]
    stats = await queue.queue_stats()
    assert stats["completed"] == 3
    assert sum(stats.values()) == 3


async def test_state_result_and_progress_are_recorded(queue_name: str, token: str) -> None:
    clock = FakeClock(start=1_000_000.0)
    queue = Queue(queue_name, backend=InlineBackend(), clock=clock)
    job_id = await queue.add(fns.progressing, [token])
    job = await queue.get_job(job_id)
    assert job is not None
    assert (job.state, job.result, job.progress, job.attempts) == (
        JobState.COMPLETED,
        "done",
        50,
        1,
    )
    assert fns.calls[token] == [1]  # the job saw its own claimed record
    assert job.lease_token is None and job.error is None
    # The producer's clock, plus the little time the job took.
    assert job.started_at is not None and job.finished_at is not None
    assert 1_000_000.0 <= job.started_at <= job.finished_at < 1_000_000.0 + 5
    assert [j.id for j in await queue.list_jobs("completed")] == [job_id]


async def test_retries_happen_at_once(queue_name: str, token: str) -> None:
    queue = inline_queue(queue_name)
    started = time.monotonic()
    job_id = await queue.add(fns.flaky, [token, 2], retries=3, backoff=10.0)
    assert time.monotonic() - started < 1.0
    job = await queue.get_job(job_id)
    assert job is not None
    assert (job.state, job.result, job.attempts) == (JobState.COMPLETED, 3, 3)
    # The last failure is kept, and run_at says when a worker would have retried.
    assert job.error is not None and job.error.type == "ConnectionError"
    assert job.run_at is not None and job.run_at >= job.created_at + 10


async def test_raise_true_raises_the_tasks_exception_after_recording(queue_name: str) -> None:
    queue = Queue(queue_name, backend=from_url("sync://?raise=true"))
    with pytest.raises(KeyError, match="lost"):
        await queue.add(fns.boom, ["lost"], retries=1, job_id="doomed")
    job = await queue.get_job("doomed")
    assert job is not None and job.error is not None
    assert (job.state, job.attempts, job.error.type) == (JobState.FAILED, 2, "KeyError")
    with pytest.raises(UnknownTaskError, match="no_such_function"):
        await queue.add("tests.integration.inline_tasks.no_such_function")


async def test_raise_true_raises_a_timeout_as_job_failed(queue_name: str, token: str) -> None:
    queue = Queue(queue_name, backend=InlineBackend(raise_errors=True))
    with pytest.raises(JobFailedError, match="timeout"):
        await queue.add(fns.nap, [token, 5], timeout=0.1, job_id="slow")
    job = await queue.get_job("slow")
    assert job is not None and job.error is not None
    assert (job.state, job.error.type) == (JobState.FAILED, "JobTimeoutError")
    assert fns.calls[token] == ["started"]


async def test_without_raise_a_failure_is_logged_and_recorded(
    queue_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    queue = inline_queue(queue_name)
    with caplog.at_level(logging.INFO, logger="asyncmq.inline"):
        job_id = await queue.add(fns.boom, ["gone"], retries=1)
    job = await queue.get_job(job_id)
    assert job is not None and job.error is not None
    assert (job.state, job.attempts, job.error.type) == (JobState.FAILED, 2, "KeyError")
    assert "Traceback" in job.error.traceback
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert job_id in errors[0].getMessage() and "gone" in errors[0].getMessage()
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is KeyError
    with pytest.raises(JobFailedError, match="gone"):
        await queue.result(job_id, timeout=1)


async def test_dependencies_run_when_met_and_fail_with_theirs(queue_name: str, token: str) -> None:
    queue = inline_queue(queue_name)
    dependency, dependent = await queue.add_bulk(
        [
            {"task_id": fns.append, "args": [token, "dependency"], "job_id": "dependency"},
            {"task_id": fns.append, "args": [token, "dependent"], "depends_on": ["dependency"]},
        ]
    )
    assert fns.calls[token] == ["dependency", "dependent"]
    # A dependency still waiting (the queue is paused): the dependent waits for it.
    await queue.pause()
    parent = await queue.add(fns.append, [token, "parent"])
    child = await queue.add(fns.append, [token, "child"], depends_on=[parent, dependent])
    assert (await queue.get_job(child)).state is JobState.WAITING_CHILDREN  # type: ignore[union-attr]
    assert fns.calls[token] == ["dependency", "dependent"]
    await queue.resume()
    assert fns.calls[token] == ["dependency", "dependent", "parent", "child"]
    # A dependency that fails fails its dependents, which never run.
    await queue.pause()
    bad = await queue.add(fns.boom, ["bad"])
    orphan = await queue.add(fns.append, [token, "orphan"], depends_on=[bad])
    await queue.resume()
    job = await queue.get_job(orphan)
    assert job is not None and job.error is not None
    assert (job.state, job.error.type) == (JobState.FAILED, DEPENDENCY_FAILED)
    assert "orphan" not in fns.calls[token]
    assert dependency == "dependency"


async def test_delayed_jobs_run_at_once_and_keep_their_run_at(queue_name: str, token: str) -> None:
    queue = inline_queue(queue_name)
    before = time.time()
    job_id = await queue.add(fns.append, [token, "later"], delay=3600)
    assert fns.calls[token] == ["later"]
    job = await queue.get_job(job_id)
    assert job is not None and job.state is JobState.COMPLETED
    assert job.run_at is not None and job.run_at >= before + 3600
    assert await queue.list_delayed() == []


async def test_repeatables_are_stored_and_not_run(queue_name: str, token: str) -> None:
    queue = inline_queue(queue_name)
    key = await queue.add_repeatable(fns.append, every=60, args=[token, "tick"])
    assert [r.key for r in await queue.list_repeatables()] == [key]
    assert fns.calls[token] == []
    assert sum((await queue.queue_stats()).values()) == 0


async def test_a_job_added_by_a_job_runs_after_it(queue_name: str, token: str) -> None:
    queue = inline_queue(queue_name)
    fns.queues[token] = queue
    parent = await queue.add(fns.parent, [token])
    assert fns.calls[token] == ["parent started", "parent added the child", "child"]
    assert await queue.result(parent, timeout=1) == "parent"
    assert (await queue.queue_stats())["completed"] == 2


async def test_sync_functions_run_in_a_worker_thread_or_the_loops(queue_name: str) -> None:
    fns.local.value = "the caller's"
    try:
        threaded = inline_queue(queue_name)
        seen = await threaded.result(await threaded.add(fns.thread_state), timeout=1)
        assert seen["thread"] != threading.get_ident() and seen["local"] is None
        same = Queue(queue_name, backend=from_url("sync://?threads=false"))
        seen = await same.result(await same.add(fns.thread_state), timeout=1)
        assert seen == {"thread": threading.get_ident(), "local": "the caller's"}
    finally:
        del fns.local.value


async def test_a_sync_function_in_the_loops_thread_still_times_out(queue_name: str) -> None:
    queue = Queue(queue_name, backend=InlineBackend(threads=False))
    job_id = await queue.add(fns.snooze, [0.3], timeout=0.1)
    job = await queue.get_job(job_id)
    assert job is not None and job.error is not None
    assert (job.state, job.error.type) == (JobState.FAILED, "JobTimeoutError")


async def test_a_jobs_context_changes_stay_in_the_job(queue_name: str) -> None:
    queue = inline_queue(queue_name)
    token = fns.undeclared.set("caller")
    try:
        job_id = await queue.add(fns.set_undeclared, ["job"])
        assert await queue.result(job_id, timeout=1) == "job"
        assert fns.undeclared.get() == "caller"
    finally:
        fns.undeclared.reset(token)


async def test_concurrent_adds_each_return_after_their_own_job(queue_name: str, token: str) -> None:
    queue = inline_queue(queue_name)
    states: list[JobState] = []

    async def add(n: int) -> None:
        job_id = await queue.add(fns.nap, [token, 0.05 * n])
        job = await queue.get_job(job_id)
        assert job is not None
        states.append(job.state)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for n in range(1, 4):
                tg.start_soon(add, n)
    assert states == [JobState.COMPLETED] * 3
    # One job at a time: each started after the one before it finished.
    assert fns.calls[token] == ["started", "finished"] * 3


async def test_a_cancelled_add_hands_its_job_back(queue_name: str, token: str) -> None:
    queue = inline_queue(queue_name)
    with anyio.move_on_after(0.1):
        await queue.add(fns.nap, [token, 0.5], job_id="cut-short")
    job = await queue.get_job("cut-short")
    assert job is not None and job.error is not None
    assert (job.state, job.error.type, job.lease_token) == (
        JobState.WAITING,
        "InlineCancelled",
        None,
    )
    # The next call that runs jobs of the queue runs it again.
    await queue.add(fns.append, [token, "next"])
    assert fns.calls[token] == ["started", "started", "finished", "next"]
    job = await queue.get_job("cut-short")
    assert job is not None and (job.state, job.attempts) == (JobState.COMPLETED, 2)


async def test_retry_job_runs_the_job_again(queue_name: str, token: str) -> None:
    queue = inline_queue(queue_name)
    job_id = await queue.add(fns.flaky, [token, 1])
    assert (await queue.get_job(job_id)).state is JobState.FAILED  # type: ignore[union-attr]
    assert await queue.retry_job(job_id)
    assert await queue.result(job_id, timeout=1) == 2


def test_from_url_reads_the_options() -> None:
    plain = from_url("sync://")
    assert isinstance(plain, InlineBackend)
    assert (plain.raise_errors, plain.threads) == (False, True)
    both = from_url("sync://?raise=true&threads=0")
    assert isinstance(both, InlineBackend)
    assert (both.raise_errors, both.threads) == (True, False)
    for bad in ("sync://?raise=maybe", "sync://?retries=3"):
        with pytest.raises(InvalidURLError, match="sync backend takes"):
            from_url(bad)


async def test_the_backend_url_setting_selects_it(
    monkeypatch: pytest.MonkeyPatch, queue_name: str, token: str
) -> None:
    monkeypatch.setenv("ASYNCMQ_BACKEND_URL", "sync://")
    fresh = Settings()
    assert isinstance(fresh.backend, InlineBackend)
    monkeypatch.setattr(settings, "backend_url", fresh.backend_url)
    monkeypatch.setattr(settings, "_backend", None)
    await Queue(queue_name).add(fns.append, [token, "default queue"])
    await asyncmq.enqueue(fns.aappend, token, "enqueue()", __queue=queue_name)
    assert fns.calls[token] == ["default queue", "enqueue()"]
    assert isinstance(settings.backend, InlineBackend)

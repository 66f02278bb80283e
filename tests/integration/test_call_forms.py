"""Every call form on every backend: plain functions, add_task and its options, run_at, the
allowlist of importable modules, and the context that follows a job."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import asyncmq
from asyncmq import TaskNotAllowedError, context
from asyncmq.backends.base import BaseBackend
from asyncmq.errors import SerializationError
from asyncmq.jobs import JobState
from asyncmq.propagation import MAX_CONTEXT_BYTES
from asyncmq.queues import Queue
from asyncmq.testing import run_until_idle
from tests.integration import plain

pytestmark = pytest.mark.anyio

ALLOWED = ["tests.integration.plain"]


def _worker(queue: Queue) -> Queue:
    """The same queue as a worker process would run it: allowed to import the test module."""
    return Queue(queue.name, backend=queue.backend, imports=ALLOWED, concurrency=1)


async def _finish(queue: Queue) -> None:
    await run_until_idle(_worker(queue), timeout=30)


async def test_plain_functions_in_every_form(backend: BaseBackend, queue_name: str) -> None:
    queue = Queue(queue_name, backend=backend)
    ids = [
        await queue.add_task(plain.add, 1, b=2),
        await queue.add_task(plain.aadd, 3, b=4),
        await queue.add(plain.add, [5], {"b": 6}),
        await queue.add("tests.integration.plain.aadd", [7, 8]),
        *await queue.add_bulk(
            [{"task_id": plain.add, "args": [9, 10]}, {"task": plain.aadd, "args": [11]}]
        ),
    ]
    job = await queue.get_job(ids[0])
    assert job is not None and job.task_id == "tests.integration.plain.add"
    await _finish(queue)
    assert [await queue.result(i, timeout=10) for i in ids] == [3, 7, 11, 15, 19, 11]


@pytest.mark.parametrize(
    ("fn", "why"),
    [
        (lambda: None, "lambda"),
        (plain.Service().method, "bound method"),
        (plain.Service.method, "is a method"),
        (plain.Service.static, "is a method"),
        (print, "not a plain Python function"),
        (plain.Service, "not a plain Python function"),
    ],
)
async def test_functions_a_worker_cannot_import_are_refused(
    backend: BaseBackend, queue_name: str, fn: Any, why: str
) -> None:
    queue = Queue(queue_name, backend=backend)
    with pytest.raises(TypeError, match=why):
        await queue.add_task(fn)
    with pytest.raises(TypeError, match=why):
        await queue.add_bulk([{"task_id": fn}])
    assert sum((await queue.queue_stats()).values()) == 0


async def test_nested_and_main_functions_are_refused(backend: BaseBackend, queue_name: str) -> None:
    def nested() -> None:
        pass

    def script_level() -> None:
        pass

    script_level.__module__ = "__main__"
    script_level.__qualname__ = "script_level"
    queue = Queue(queue_name, backend=backend)
    with pytest.raises(TypeError, match="move it to module level"):
        await queue.add_task(nested)
    with pytest.raises(TypeError, match="__main__"):
        await queue.add(script_level)
    assert sum((await queue.queue_stats()).values()) == 0


@pytest.mark.parametrize(
    "task_id",
    ["os.system", "subprocess.run", "tests.integration.forbidden.boom", "builtins.eval"],
)
async def test_a_worker_imports_only_allowed_modules(
    backend: BaseBackend, backend_name: str, queue_name: str, task_id: str
) -> None:
    if backend_name == "sync":
        pytest.skip("the inline driver runs jobs in the producer's own process")
    sys.modules.pop("tests.integration.forbidden", None)
    queue = Queue(queue_name, backend=backend)
    job_id = await queue.add(task_id, ["echo should-not-run"])
    await _finish(queue)
    job = await queue.get_job(job_id)
    assert job is not None and job.state is JobState.FAILED and job.error is not None
    assert job.error.type == TaskNotAllowedError.__name__
    assert "ASYNCMQ_IMPORTS" in job.error.message and "Queue(imports=" in job.error.message
    assert "tests.integration.forbidden" not in sys.modules


async def test_allowed_module_must_define_the_function(
    backend: BaseBackend, backend_name: str, queue_name: str
) -> None:
    if backend_name == "sync":
        pytest.skip("the inline driver runs jobs in the producer's own process")
    queue = Queue(queue_name, backend=backend)
    # Imported into the allowed module, not defined there, or not a function at all.
    ids = [
        await queue.add("tests.integration.plain.propagate"),
        await queue.add("tests.integration.plain.user"),
        await queue.add("tests.integration.plain.Service.static"),
    ]
    await _finish(queue)
    for job_id in ids:
        job = await queue.get_job(job_id)
        assert job is not None and job.state is JobState.FAILED and job.error is not None
        assert job.error.type == "UnknownTaskError", job.error


async def test_imports_from_the_environment(
    backend: BaseBackend, backend_name: str, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend_name == "sync":
        pytest.skip("the inline driver runs jobs in the producer's own process")
    monkeypatch.setenv("ASYNCMQ_IMPORTS", "some.other, tests.integration")
    queue = Queue(queue_name, backend=backend)
    job_id = await queue.add_task(plain.add, 20, 22)
    await run_until_idle(Queue(queue_name, backend=backend), timeout=30)
    assert await queue.result(job_id, timeout=10) == 42


async def test_add_task_options(backend: BaseBackend, queue_name: str) -> None:
    queue = Queue(queue_name, backend=backend)
    job_id = await queue.add_task(
        plain.add,
        1,
        b=2,
        __soft_timeout_s=30,
        __hard_timeout_s=60,
        __priority=1,
        __retries=2,
        __job_id="fixed-id",
    )
    assert job_id == "fixed-id"
    job = await queue.get_job(job_id)
    assert job is not None
    assert (job.args, job.kwargs) == ([1], {"b": 2})
    assert (job.timeout, job.hard_timeout, job.priority, job.retries) == (30, 60, 1, 2)
    with pytest.raises(TypeError, match="unknown option '__soft_timeout'"):
        await queue.add_task(plain.add, 1, __soft_timeout=3)


async def test_soft_timeout_option_cancels_the_attempt(
    backend: BaseBackend, backend_name: str, queue_name: str
) -> None:
    if backend_name == "sync":
        pytest.skip("the inline driver's own tests cover timeouts")
    queue = Queue(queue_name, backend=backend)
    job_id = await queue.add_task(plain.nap, 30, __soft_timeout_s=0.2)
    started = time.monotonic()
    await _finish(queue)
    assert time.monotonic() - started < 10
    job = await queue.get_job(job_id)
    assert job is not None and job.state is JobState.FAILED and job.error is not None
    assert job.error.type == "JobTimeoutError"


async def test_run_at(backend: BaseBackend, backend_name: str, queue_name: str) -> None:
    queue = Queue(queue_name, backend=backend)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    with pytest.raises(ValueError, match="no timezone"):
        await queue.add(plain.add, [1], run_at=datetime.now() + timedelta(hours=1))
    with pytest.raises(ValueError, match="not both"):
        await queue.add(plain.add, [1], run_at=later, delay=5)
    with pytest.raises(TypeError, match="epoch seconds"):
        await queue.add(plain.add, [1], run_at="tomorrow")  # type: ignore[arg-type]
    assert sum((await queue.queue_stats()).values()) == 0
    if backend_name != "sync":
        ids = [
            await queue.add(plain.add, [1], run_at=later),
            await queue.add_task(plain.add, 1, __run_at=later.timestamp()),
            *await queue.add_bulk([{"task_id": plain.add, "args": [1], "run_at": later}]),
        ]
        for job_id in ids:
            job = await queue.get_job(job_id)
            assert job is not None and job.state is JobState.DELAYED
            assert job.run_at == pytest.approx(later.timestamp())
        await queue.drain()
    past = datetime.now(timezone(timedelta(hours=-5))) - timedelta(minutes=5)
    due = await queue.add(plain.add, [2, 3], run_at=past)
    await _finish(queue)
    assert await queue.result(due, timeout=10) == 5


async def test_task_enqueue_takes_run_at(backend: BaseBackend, queue_name: str) -> None:
    from tests.integration import tasks

    later = time.time() + 3600
    job_id = await tasks.add.enqueue(1, 2, backend=backend, run_at=later, hard_timeout=9)
    job = await Queue("e2e", backend=backend).get_job(job_id)
    assert job is not None and job.run_at == pytest.approx(later) and job.hard_timeout == 9
    await Queue("e2e", backend=backend).remove_job(job_id)


async def test_context_follows_the_job(backend: BaseBackend, queue_name: str) -> None:
    queue = Queue(queue_name, backend=backend)
    context.set("locale", "fr_CH")
    token = plain.user.set("ada")
    try:
        ids = [
            await queue.add_task(plain.whoami, "sync"),
            await queue.add_task(plain.awhoami, "async"),
            *await queue.add_bulk([{"task_id": plain.whoami, "args": ["bulk"]}]),
        ]
    finally:
        plain.user.reset(token)
        context.clear()
    bare = await queue.add_task(plain.whoami, "bare")
    await _finish(queue)
    expected = {"user": "ada", "context": {"locale": "fr_CH"}}
    for job_id, tag in zip(ids, ["sync", "async", "bulk"], strict=True):
        assert await queue.result(job_id, timeout=10) == {"tag": tag, **expected}
    assert await queue.result(bare, timeout=10) == {"tag": "bare", "user": None, "context": {}}


async def test_a_jobs_own_context_changes_do_not_leak(
    backend: BaseBackend, queue_name: str
) -> None:
    queue = Queue(queue_name, backend=backend)
    ids = [
        await queue.add_task(plain.set_context_inside, "sync"),
        await queue.add_task(plain.awhoami, "after sync"),
        await queue.add_task(plain.aset_context_inside, "async"),
        await queue.add_task(plain.awhoami, "after async"),
    ]
    # The worker's own value, which jobs that carry none see: a job's change must not stay.
    token = plain.user.set("worker")
    try:
        await _finish(queue)  # one slot: each job runs in the task that ran the one before
    finally:
        plain.user.reset(token)
    results = [await queue.result(i, timeout=10) for i in ids]
    after = {"user": "worker", "context": {}}
    assert results == [
        "sync",
        {"tag": "after sync", **after},
        "async",
        {"tag": "after async", **after},
    ]


async def test_context_refusals_name_the_variable(backend: BaseBackend, queue_name: str) -> None:
    queue = Queue(queue_name, backend=backend)
    with pytest.raises(SerializationError, match="context\\['when'\\]"):
        context.set("when", datetime.now(timezone.utc))
    token = plain.user.set({1, 2})  # type: ignore[arg-type]
    try:
        with pytest.raises(SerializationError, match=r"tests\.integration\.plain\.user"):
            await queue.add_task(plain.whoami, "x")
    finally:
        plain.user.reset(token)
    context.set("blob", "x" * (MAX_CONTEXT_BYTES + 1))
    try:
        with pytest.raises(SerializationError, match=r"'asyncmq\.context'.*carry ids"):
            await queue.add_task(plain.whoami, "x")
    finally:
        context.clear()
    assert sum((await queue.queue_stats()).values()) == 0


async def test_trace_context_links_the_job_span(backend: BaseBackend, queue_name: str) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    queue = Queue(queue_name, backend=backend)
    original = trace.get_tracer_provider
    trace.get_tracer_provider = lambda: provider  # type: ignore[assignment]
    try:
        with tracer.start_as_current_span("request") as request:
            job_id = await queue.add_task(plain.aadd, 1, 1)
        job = await queue.get_job(job_id)
        assert job is not None and "traceparent" in job.context["trace"]
        await _finish(queue)
        assert await queue.result(job_id, timeout=10) == 2
    finally:
        trace.get_tracer_provider = original  # type: ignore[assignment]
    (span,) = [s for s in exporter.get_finished_spans() if s.name.startswith("asyncmq run")]
    assert span.name == "asyncmq run tests.integration.plain.aadd"
    assert [link.context.span_id for link in span.links] == [request.get_span_context().span_id]
    assert span.attributes is not None and span.attributes["asyncmq.job_id"] == job_id


def test_functions_defined_in_a_script_are_refused_with_advice(tmp_path: Any) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        "import anyio\n"
        "from asyncmq import Queue\n"
        "from asyncmq.backends.inmemory import InMemoryBackend\n"
        "def job():\n    pass\n"
        "async def main():\n"
        "    await Queue('q', backend=InMemoryBackend()).add_task(job)\n"
        "anyio.run(main)\n"
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert run.returncode == 1
    assert "job is defined in __main__" in run.stderr
    assert "move it to a module" in run.stderr


async def test_enqueue_uses_the_default_queue(
    backend: BaseBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asyncmq.settings import settings

    monkeypatch.setattr(type(settings), "backend", property(lambda self: backend))
    job_id = await asyncmq.enqueue(plain.add, 2, 2, __priority=3)
    job = await Queue("default", backend=backend).get_job(job_id)
    assert job is not None and job.priority == 3 and job.args == [2, 2]
    other = await asyncmq.enqueue(plain.add, 1, __queue="elsewhere")
    assert await Queue("elsewhere", backend=backend).get_job(other) is not None
    await Queue("default", backend=backend).obliterate()
    await Queue("elsewhere", backend=backend).obliterate()

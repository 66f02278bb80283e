"""The blocking API (asyncmq.blocking) and the default backend from many event loops: every call
form from sync code, threads and a forked child, on memory, SQLite, Redis and PostgreSQL."""

from __future__ import annotations

import ast
import asyncio
import gc
import inspect
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import asyncmq
import asyncmq.queues
from asyncmq import blocking, context
from asyncmq.backends.base import BaseBackend
from asyncmq.blocking import BlockingQueue
from asyncmq.errors import JobNotFoundError, SerializationError
from asyncmq.jobs import JobState
from asyncmq.queues import Queue
from asyncmq.settings import Settings
from asyncmq.testing import run_until_idle
from tests.conftest import _Servers
from tests.integration import tasks
from tests.servers import postgres as postgres_server

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@pytest.fixture(autouse=True)
def fresh_loop() -> Iterator[None]:
    """Every test starts and ends without a shared loop; closing it must leave nothing open."""
    blocking.close()
    yield
    blocking.close()
    gc.collect()  # an unclosed socket would warn now, inside this test


@pytest.fixture(params=["memory", "sqlite", "redis", "postgres"])
def explicit_backend(servers: _Servers, request: pytest.FixtureRequest) -> Iterator[BaseBackend]:
    """A backend used on the shared loop only, and closed there."""
    module, url = servers.url(request.param)
    built: BaseBackend = module.build(url, uuid.uuid4().hex[:12])
    yield built
    blocking.run(built.aclose())


@pytest.fixture(params=["sqlite", "redis", "postgres"])
def default_url(servers: _Servers, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``ASYNCMQ_BACKEND_URL`` for this test, as a user sets it, behind a fresh ``Settings``."""
    _module, url = servers.url(request.param)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'default.db'}"
    elif request.param == "postgres":
        url = f"{url}?schema={schema}"
        postgres_server._created.add(schema)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ASYNCMQ_BACKEND_URL", url)
        patch.setattr(asyncmq.queues, "settings", Settings())
        yield url
        blocking.close()  # the shared loop's default backend, before its Settings goes
    if request.param == "postgres":
        postgres_server._run_now(
            lambda: postgres_server._execute(
                postgres_server._url, f"DROP SCHEMA IF EXISTS {schema} CASCADE"
            )
        )
        postgres_server._created.discard(schema)


def queue_name() -> str:
    return f"q-{uuid.uuid4().hex[:12]}"


def in_threads(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in ``count`` threads started together; their results, or the first
    exception raised."""
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a thread hangs"
    if errors:
        raise errors[0]
    return results


def process(queue: Queue) -> dict[str, int]:
    """Run the queue's worker on the shared loop until its work is done."""
    worker = Queue(queue.name, backend=queue._backend, scan_interval=0.1)
    return blocking.run(run_until_idle(worker, timeout=60))


# -- the blocking API ----------------------------------------------------------------------


def test_producer_and_admin_calls_block_and_return(explicit_backend: BaseBackend) -> None:
    queue = BlockingQueue(queue_name(), backend=explicit_backend)
    by_id = queue.add("tests.integration.tasks.add", [1, 2])
    by_function = queue.add(tasks.add, kwargs={"a": 3, "b": 4}, priority=1)
    by_task = queue.add_task(tasks.multiply, 6, 7)
    bulk = queue.add_bulk(
        [{"task_id": tasks.add, "args": [5, 5]}, {"task_id": tasks.explode, "args": ["x"]}]
    )
    cancelled = queue.add(tasks.add, [0, 0])
    queue.cancel_job(cancelled)
    later = queue.add(tasks.add, [0, 0], delay=60)

    job = queue.get_job(by_id)
    assert job is not None and (job.state, job.args) == (JobState.WAITING, [1, 2])
    assert queue.get_job("no-such-job") is None
    assert queue.cancel_job(later) is True
    stats = queue.queue_stats()
    assert (stats["waiting"], stats["cancelled"]) == (5, 2)
    assert {j.id for j in queue.list_jobs("waiting")} == {by_id, by_function, by_task, *bulk}
    assert {j.id for j in queue.list_jobs(JobState.CANCELLED)} == {cancelled, later}
    assert queue.retry_job(cancelled) is True

    stats = process(queue.queue)
    assert (stats["completed"], stats["failed"], stats["cancelled"]) == (5, 1, 1)
    assert [queue.result(i, timeout=10) for i in (by_id, by_function, by_task)] == [3, 7, 42]
    assert queue.result(bulk[0], timeout=10) == 10
    assert queue.result(cancelled, timeout=10) == 0
    with pytest.raises(asyncmq.JobFailedError):
        queue.result(bulk[1], timeout=10)
    with pytest.raises(asyncmq.JobFailedError, match="cancelled"):
        queue.result(later, timeout=10)
    with pytest.raises(TimeoutError):
        queue.result(queue.add(tasks.add, [0, 0], delay=60), timeout=0.2)
    queue.obliterate()


def test_errors_keep_their_type(explicit_backend: BaseBackend) -> None:
    queue = BlockingQueue(queue_name(), backend=explicit_backend)
    with pytest.raises(SerializationError, match="positional argument 0"):
        queue.add(tasks.add, [object()])
    with pytest.raises(JobNotFoundError):
        queue.result("no-such-job", timeout=1)
    with pytest.raises(ValueError):
        queue.list_jobs("no-such-state")
    assert sum(queue.queue_stats().values()) == 0


def test_eight_threads_share_the_loop(explicit_backend: BaseBackend) -> None:
    queue = BlockingQueue(queue_name(), backend=explicit_backend)

    def produce(index: int) -> list[str]:
        ids = [queue.add(tasks.add, [index, n]) for n in range(20)]
        assert all(queue.get_job(i) is not None for i in ids[::5])
        return ids

    ids = [i for batch in in_threads(8, produce) for i in batch]
    assert len(set(ids)) == 160
    assert queue.queue_stats()["waiting"] == 160
    # One thread runs the worker (and so the loop) while seven wait on results through it.
    worker = threading.Thread(target=process, args=(queue.queue,))
    worker.start()
    sums = in_threads(7, lambda index: sum(queue.result(i, timeout=60) for i in ids[index::7]))
    worker.join(60)
    assert sum(sums) == sum(i * 20 + sum(range(20)) for i in range(8))
    queue.obliterate()


def test_the_callers_context_goes_with_the_job(explicit_backend: BaseBackend) -> None:
    queue = BlockingQueue(queue_name(), backend=explicit_backend)

    def add_as(index: int) -> str:
        context.set("user", index)
        return queue.add(tasks.add, [1, 1])

    for index, job_id in enumerate(in_threads(4, add_as)):
        job = queue.get_job(job_id)
        assert job is not None
        assert job.context["vars"]["asyncmq.context"] == {"user": index}
    queue.obliterate()


def test_calls_from_a_running_loop_raise_instead_of_blocking() -> None:
    queue = BlockingQueue(queue_name(), backend=asyncmq.from_url("memory://"))

    async def main() -> None:
        with pytest.raises(RuntimeError, match="await the async API"):
            queue.add(tasks.add, [1, 2])
        with pytest.raises(RuntimeError, match="await the async API"):
            blocking.run(asyncio.sleep(0))  # closed, so no "never awaited" warning either
        with pytest.raises(RuntimeError, match="await the async API"):
            blocking.enqueue(tasks.add, 1, 2)
        with pytest.raises(RuntimeError, match="await the async API"):
            blocking.close()

    asyncio.run(main())
    assert blocking.run(queue.queue.queue_stats())["waiting"] == 0  # nothing was added


def test_every_coroutine_method_of_queue_is_there_and_typed() -> None:
    declared: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(BlockingQueue))):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id.startswith("_blocking_")
        ):
            declared.update(t.id for t in node.targets if isinstance(t, ast.Name))
    methods = {
        name
        for name, value in vars(Queue).items()
        if inspect.iscoroutinefunction(value) and not name.startswith("_")
    }
    missing = methods - declared - {"run"}
    assert not missing, f"declare in BlockingQueue's typed view: {sorted(missing)}"
    queue = BlockingQueue(queue_name())
    for name in methods - {"run"}:
        assert callable(getattr(queue, name))
    with pytest.raises(AttributeError, match="start"):
        queue.run  # noqa: B018
    with pytest.raises(AttributeError, match="not a coroutine method"):
        queue.clock  # noqa: B018


# -- the default backend from many event loops ----------------------------------------------


def test_asyncio_run_per_call_works_every_time(default_url: str) -> None:
    """The workaround users try first: one ``asyncio.run`` per request."""
    name = queue_name()
    first = asyncio.run(Queue(name).add(tasks.add, [1, 2]))
    second = asyncio.run(Queue(name).add(tasks.add, [3, 4]))
    third = asyncio.run(asyncmq.enqueue(tasks.add, 5, 6, __queue=name))
    stats = asyncio.run(run_until_idle(Queue(name, scan_interval=0.1), timeout=60))
    assert stats["completed"] == 3
    results = [asyncio.run(Queue(name).result(i, timeout=10)) for i in (first, second, third)]
    assert results == [3, 7, 11]
    asyncio.run(Queue(name).obliterate())


@pytest.mark.parametrize("threads", [2, 8])
def test_asyncio_run_from_threads_at_once(default_url: str, threads: int) -> None:
    name = queue_name()

    def request(index: int) -> list[str]:
        return [asyncio.run(Queue(name).add(tasks.add, [index, n])) for n in range(3)]

    ids = [i for batch in in_threads(threads, request) for i in batch]
    assert len(set(ids)) == 3 * threads
    stats = asyncio.run(run_until_idle(Queue(name, scan_interval=0.1), timeout=60))
    assert stats["completed"] == 3 * threads
    asyncio.run(Queue(name).obliterate())


def test_blocking_calls_on_the_default_backend(default_url: str) -> None:
    name = queue_name()
    queue = BlockingQueue(name)
    ids = in_threads(8, lambda index: queue.add(tasks.add, [index, 1]))
    ids.append(blocking.enqueue(tasks.add, 10, 20, __queue=name))
    # The worker on a loop of its own (asyncio.run), reading what the shared loop wrote.
    stats = asyncio.run(run_until_idle(Queue(name, scan_interval=0.1), timeout=60))
    assert stats["completed"] == 9
    assert [queue.result(i, timeout=10) for i in ids] == [*range(1, 9), 30]
    queue.obliterate()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
def test_a_forked_child_opens_its_own_connections(default_url: str) -> None:
    name = queue_name()
    queue = BlockingQueue(name)
    before = queue.add(tasks.add, [1, 1])  # the parent's loop and connections are open
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the job id, or the error, and leave without cleanup
        code = 1
        try:
            os.close(reader)
            child_id = BlockingQueue(name).add(tasks.add, [2, 2])
            assert BlockingQueue(name).get_job(before) is not None
            blocking.close()  # closes the child's default backend only
            os.write(writer, child_id.encode())
            code = 0
        except BaseException as exc:
            os.write(writer, f"error: {exc!r}".encode())
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        reported = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, reported
    # The parent's connections are untouched by the child: they still work, in step.
    after = queue.add(tasks.add, [3, 3])
    assert {j.id for j in queue.list_jobs("waiting")} == {before, reported, after}
    queue.obliterate()


def test_a_script_exits_promptly_and_closes_the_default_backend(tmp_path: Path) -> None:
    script = (
        "from asyncmq.blocking import BlockingQueue\n"
        "queue = BlockingQueue('script')\n"
        "job_id = queue.add('tests.integration.tasks.add', [1, 2])\n"
        "assert queue.get_job(job_id) is not None\n"
    )
    env = {**os.environ, "ASYNCMQ_BACKEND_URL": f"sqlite:///{tmp_path / 'script.db'}"}
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    # SQLite removes the write-ahead log when its last connection closes: closed at exit.
    assert (tmp_path / "script.db").exists()
    assert not (tmp_path / "script.db-wal").exists()

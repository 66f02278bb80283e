from __future__ import annotations

import pytest

from asyncmq.backends.base import BaseBackend, Repeatable, WorkerInfo
from tests.conformance import T0

pytestmark = pytest.mark.anyio


async def test_repeatables_round_trip(backend: BaseBackend, queue_name: str) -> None:
    every = Repeatable("k1", queue_name, {"task_id": "t.a", "args": [1]}, every=5.0, created_at=T0)
    cron = Repeatable("k2", queue_name, {"task_id": "t.b"}, cron="*/5 * * * *", created_at=T0)
    await backend.save_repeatable(every)
    await backend.save_repeatable(cron)
    listed = sorted(await backend.list_repeatables(queue_name), key=lambda r: r.key)
    assert listed == [every, cron]
    moved = Repeatable(
        "k1", queue_name, {"task_id": "t.a", "args": [2]}, every=7.0, created_at=T0 + 9
    )
    await backend.save_repeatable(moved)
    (stored,) = [r for r in await backend.list_repeatables(queue_name) if r.key == "k1"]
    assert (stored.every, stored.job["args"], stored.created_at) == (7.0, [2], T0)
    assert await backend.set_repeatable_paused(queue_name, "k2", True)
    assert not await backend.set_repeatable_paused(queue_name, "nope", True)
    (paused,) = [r for r in await backend.list_repeatables(queue_name) if r.key == "k2"]
    assert paused.paused
    assert await backend.remove_repeatable(queue_name, "k1")
    assert not await backend.remove_repeatable(queue_name, "k1")
    assert [r.key for r in await backend.list_repeatables(queue_name)] == ["k2"]


async def test_workers_are_listed_while_alive(backend: BaseBackend, queue_name: str) -> None:
    old = WorkerInfo("w1", queue_name, "host", 1, 3, T0, T0)
    new = WorkerInfo("w2", queue_name, "host", 2, 3, T0, T0 + 10, active=2, processed=7)
    await backend.record_worker(old)
    await backend.record_worker(new)
    assert sorted(w.id for w in await backend.list_workers(queue_name, seen_since=T0)) == [
        "w1",
        "w2",
    ]
    assert await backend.list_workers(queue_name, seen_since=T0 + 5) == [new]
    await backend.remove_worker(queue_name, "w2")
    assert await backend.list_workers(queue_name, seen_since=T0 + 5) == []


async def test_saving_again_keeps_the_pause(backend: BaseBackend, queue_name: str) -> None:
    rep = Repeatable("k", queue_name, {"task_id": "t.a"}, every=5.0, created_at=T0)
    await backend.save_repeatable(rep)
    assert await backend.set_repeatable_paused(queue_name, "k", True)
    await backend.save_repeatable(Repeatable("k", queue_name, {"task_id": "t.a"}, every=5.0))
    (stored,) = await backend.list_repeatables(queue_name)
    assert (stored.paused, stored.created_at) == (True, T0)

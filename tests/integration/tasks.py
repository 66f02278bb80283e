"""Tasks the end-to-end tests enqueue. Shared state is keyed by a per-test token."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import anyio

from asyncmq.tasks import report_progress, task

calls: dict[str, list[Any]] = defaultdict(list)
events: dict[str, anyio.Event] = {}


@task(queue="e2e")
async def add(a: int, b: int) -> int:
    return a + b


@task(queue="e2e")
def multiply(a: int, b: int) -> int:
    time.sleep(0.01)
    return a * b


@task(queue="e2e")
async def record(token: str, value: Any = None) -> Any:
    calls[token].append((value, time.monotonic()))
    return value


@task(queue="e2e")
async def flaky(token: str, failures: int) -> str:
    calls[token].append(time.monotonic())
    if len(calls[token]) <= failures:
        raise RuntimeError(f"failure {len(calls[token])}")
    return "recovered"


@task(queue="e2e")
async def explode(message: str) -> None:
    raise ValueError(message)


@task(queue="e2e")
async def sleepy(token: str, seconds: float) -> str:
    calls[token].append("started")
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        calls[token].append("cancelled")
        raise
    calls[token].append("finished")
    return "slept"


@task(queue="e2e")
async def progressing(token: str) -> str:
    await report_progress(50)
    calls[token].append("reported")
    await anyio.sleep(0.6)
    await report_progress(100)
    return "done"


@task(queue="e2e")
async def concurrent(token: str) -> None:
    calls[token].append(+1)
    current = sum(calls[token])
    calls[f"{token}:max"].append(current)
    await anyio.sleep(0.05)
    calls[token].append(-1)

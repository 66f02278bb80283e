"""Plain functions the inline driver tests add: none is a ``@task`` or on an import allowlist.
Shared state is keyed by a per-test token."""

from __future__ import annotations

import contextvars
import threading
import time
from collections import defaultdict
from typing import Any

import anyio

from asyncmq import current_job
from asyncmq.queues import Queue

calls: dict[str, list[Any]] = defaultdict(list)
# The queues the tests hand to jobs that add jobs, by token.
queues: dict[str, Queue] = {}
local = threading.local()
undeclared: contextvars.ContextVar[str] = contextvars.ContextVar("inline_tasks.undeclared")


def append(token: str, value: Any) -> Any:
    calls[token].append(value)
    return value


async def aappend(token: str, value: Any) -> Any:
    await anyio.lowlevel.checkpoint()
    calls[token].append(value)
    return value


async def progressing(token: str) -> str:
    await current_job().report_progress(50)
    calls[token].append(current_job().job.attempts)
    return "done"


def flaky(token: str, failures: int) -> int:
    calls[token].append(time.monotonic())
    if len(calls[token]) <= failures:
        raise ConnectionError(f"failure {len(calls[token])}")
    return len(calls[token])


def boom(message: str) -> None:
    raise KeyError(message)


def thread_state() -> dict[str, Any]:
    return {"thread": threading.get_ident(), "local": getattr(local, "value", None)}


async def nap(token: str, seconds: float) -> str:
    calls[token].append("started")
    await anyio.sleep(seconds)
    calls[token].append("finished")
    return "rested"


def snooze(seconds: float) -> str:
    time.sleep(seconds)
    return "rested"


async def parent(token: str) -> str:
    calls[token].append("parent started")
    await queues[token].add(append, [token, "child"])
    calls[token].append("parent added the child")
    return "parent"


async def set_undeclared(value: str) -> str:
    undeclared.set(value)
    return value

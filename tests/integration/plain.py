"""Plain module-level functions (no ``@task``) that the call-form tests enqueue."""

from __future__ import annotations

import contextvars
import time
from typing import Any

import anyio
import anyio.lowlevel

from asyncmq import context, propagate

user: contextvars.ContextVar[str] = contextvars.ContextVar("tests.integration.plain.user")
propagate(user)


def _seen(tag: str) -> dict[str, Any]:
    return {"tag": tag, "user": user.get(None), "context": context.to_dict()}


def whoami(tag: str) -> dict[str, Any]:
    return _seen(tag)


async def awhoami(tag: str) -> dict[str, Any]:
    await anyio.lowlevel.checkpoint()
    return _seen(tag)


def add(a: int, b: int = 0) -> int:
    return a + b


async def aadd(a: int, b: int = 0) -> int:
    return a + b


def stamp() -> float:
    return time.time()


async def nap(seconds: float) -> str:
    await anyio.sleep(seconds)
    return "rested"


def set_context_inside(value: str) -> str:
    # A job's own changes must not leak into the next job run by the same worker slot.
    context.set("leaked", value)
    user.set(value)
    return value


async def aset_context_inside(value: str) -> str:
    return set_context_inside(value)


class Service:
    def method(self) -> None:
        pass

    @staticmethod
    def static() -> None:
        pass

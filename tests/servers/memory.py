"""The in-memory backend needs no server."""

from __future__ import annotations

from pathlib import Path

from asyncmq.backends.base import BaseBackend
from asyncmq.backends.inmemory import InMemoryBackend


def start(workdir: Path) -> str:
    return "memory://"


def stop() -> None:
    pass


def build(url: str, test_id: str) -> BaseBackend:
    return InMemoryBackend()

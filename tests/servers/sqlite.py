"""SQLite needs no server: every test gets its own database file in the session's workdir."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from asyncmq.backends.base import BaseBackend
from asyncmq.backends.sqlite import SQLiteBackend


def start(workdir: Path) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{workdir.resolve() / 'asyncmq.db'}"


def stop() -> None:
    pass


def build(url: str, test_id: str) -> BaseBackend:
    folder = Path(urlsplit(url).path[1:]).parent
    return SQLiteBackend(folder / f"{test_id}.db")

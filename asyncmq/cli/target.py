"""The backend a command runs against: URL checks, storage that read commands never create, and
every failure turned into one ``asyncmq: error: ...`` line at the command's boundary."""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio

from asyncmq.backends import from_url
from asyncmq.backends.base import BaseBackend
from asyncmq.backends.sqlite import SQLiteBackend
from asyncmq.cli.output import Output, emit, warn
from asyncmq.errors import AsyncMQError, InvalidURLError
from asyncmq.settings import settings

Action = Callable[[BaseBackend, argparse.Namespace], Awaitable[Output | None]]


class CommandError(Exception):
    """A command failed (exit status 1). ``data``, if any, is still printed with ``--json``."""

    def __init__(self, message: str, data: object = None) -> None:
        super().__init__(message)
        self.data = data


def add_command(
    commands: Any,
    name: str,
    action: Action,
    help: str,
    *,
    queue: bool = False,
    creates: bool = False,
    warn_unknown: bool = False,
) -> argparse.ArgumentParser:
    """A subcommand running ``action``; ``creates`` lets it create an SQLite file,
    ``warn_unknown`` warns when its queue is unknown."""
    cmd: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help)
    if queue:
        cmd.add_argument("queue")
    cmd.add_argument("--json", action="store_true", help="print JSON, the form scripts read")
    cmd.set_defaults(
        handler=lambda args: run(action, args), creates=creates, warn_unknown=warn_unknown
    )
    return cmd


def run(action: Action, args: argparse.Namespace) -> int:
    """Run ``action`` on the backend ``args`` name and print its output.

    Unless ``args.creates`` is set, an SQLite file that does not exist is an error rather
    than a file to create. Failures raise :class:`CommandError` with a one-line message.
    """
    url = args.backend or settings.backend_url

    async def main() -> Output | None:
        check_url(url)
        # Backends built here are this command's to close; the settings' default is closed by
        # the settings when the event loop ends (or belongs to whoever set it).
        backend = from_url(args.backend) if args.backend else settings.backend
        try:
            if not args.creates:
                _require_storage(backend)
            if args.warn_unknown and not await known_queue(backend, args.queue):
                warn(UNKNOWN.format(args.queue))
            return await action(backend, args)
        finally:
            if args.backend:
                await backend.aclose()

    try:
        output = anyio.run(main)
    except CommandError as exc:
        if exc.data is not None and args.json:
            emit(Output(exc.data, ""), as_json=True)
        raise
    except Exception as exc:
        raise CommandError(describe(exc, url)) from exc
    if output is not None:
        emit(output, args.json)
    return 0


def check_url(url: str) -> None:
    """Refuse what a driver would misread: a bad port, or a Redis database that is not a
    number (redis-py silently uses database 0 for ``redis://host:6379/abc``)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("sqlite", "memory"):
        return
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        raise InvalidURLError(f"bad port in {redacted(url)}: {exc}") from None
    database = parts.path.strip("/")
    if scheme in ("redis", "rediss") and database and not database.isdigit():
        raise InvalidURLError(
            f"the Redis database in {redacted(url)} must be a number, "
            "as in redis://localhost:6379/0"
        )


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def describe(exc: BaseException, url: str) -> str:
    """One line for a failure: our own errors as they are, driver errors with their type
    and the backend they came from."""
    if isinstance(exc, AsyncMQError):
        return str(exc)
    text = str(exc).strip()
    message = f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
    return f"{message} (backend {redacted(url)})"


def _require_storage(backend: BaseBackend) -> None:
    # Opening an SQLite backend creates the file and its folders: a typo in the path would
    # otherwise show an empty queue and leave a new database behind.
    if not isinstance(backend, SQLiteBackend) or backend.path == ":memory:":
        return
    if not os.path.exists(backend.path):
        raise CommandError(
            f"no SQLite database at {backend.path}; this command does not create one "
            "(check --backend or ASYNCMQ_BACKEND_URL, or the working directory)"
        )


async def known_queue(backend: BaseBackend, queue: str) -> bool:
    """The queue holds jobs, repeatables or a pause flag, or a worker has reported on it."""
    if queue in await backend.list_queues():
        return True
    return bool(await backend.list_workers(queue, seen_since=0.0))


UNKNOWN = "queue {!r} is unknown (no jobs, repeatables, pause flag or workers)"

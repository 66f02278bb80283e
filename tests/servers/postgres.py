"""PostgreSQL: ASYNCMQ_TEST_POSTGRES_URL, else the local server if one answers. Each test gets
its own schema, dropped when its backend closes (and any left over at stop())."""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from asyncmq.backends.base import BaseBackend
from tests.servers import Unavailable

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
_created: set[str] = set()
_url = ""


async def _execute(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncio.wait_for(asyncpg.connect(url), 5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _migrate(url: str, schema: str) -> None:
    from asyncmq.backends.postgres import PostgresBackend

    backend = PostgresBackend(url, schema=schema, min_pool=1, max_pool=1)
    try:
        await backend.migrate()
    finally:
        await backend.aclose()


def _run_now(work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``work()`` from synchronous code, even while the caller's event loop runs."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def start(workdir: Path) -> str:
    global _url
    url = os.environ.get("ASYNCMQ_TEST_POSTGRES_URL") or DEFAULT_URL
    try:
        import asyncpg  # noqa: F401
    except ImportError as exc:
        raise Unavailable(f"asyncpg is not installed ({exc})") from None
    try:
        _run_now(lambda: _execute(url, "SELECT 1"))
    except Exception as exc:
        raise Unavailable(f"no PostgreSQL server answers at {url}: {exc!r}") from None
    _url = url
    return url


def stop() -> None:
    leftovers = sorted(_created)
    _created.clear()
    if leftovers and _url:
        names = ", ".join(leftovers)
        _run_now(lambda: _execute(_url, f"DROP SCHEMA IF EXISTS {names} CASCADE"))


@functools.cache
def _backend_class() -> type[BaseBackend]:
    # imported here: without asyncpg this module must still load, for start() to say why
    from asyncmq.backends.postgres import PostgresBackend

    class TestBackend(PostgresBackend):
        """Drops its schema when closed, so the test database does not fill up."""

        def __init__(self, url: str, schema: str) -> None:
            super().__init__(url, schema=schema, min_pool=1, max_pool=2)
            self._test_url = url
            self._test_schema = schema

        async def aclose(self) -> None:
            await super().aclose()
            await _execute(self._test_url, f"DROP SCHEMA IF EXISTS {self._test_schema} CASCADE")
            _created.discard(self._test_schema)

    return TestBackend


def build(url: str, test_id: str) -> BaseBackend:
    schema = f"t_{test_id}"
    _created.add(schema)
    # Create the schema here, in the fixture, so that the DDL's time does not fall inside
    # the timing-sensitive part of a test (the backend would otherwise do it on first use).
    _run_now(lambda: _migrate(url, schema))
    return _backend_class()(url, schema)  # type: ignore[call-arg]

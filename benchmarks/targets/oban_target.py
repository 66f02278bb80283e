"""oban (oban-py, published on PyPI as `oban`): needs Python >= 3.12; import-checked here."""

from __future__ import annotations

import oban  # noqa: F401 - a SyntaxError here on Python 3.11 is the reported failure

from benchmarks.targets import Producer


async def setup(url: str) -> None:
    raise RuntimeError("not wired: oban needs Python >= 3.12 and this machine has 3.11")


async def open_producer(url: str) -> Producer:
    raise RuntimeError("not wired")

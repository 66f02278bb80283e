"""oban (oban-py, published on PyPI as `oban`): needs Python >= 3.12, so it fails here on 3.11."""

from __future__ import annotations

import sys

from benchmarks.targets import Producer

if sys.version_info < (3, 12):
    raise ImportError(
        "oban 0.7.0 requires Python >= 3.12 (Requires-Python, and it fails with SyntaxError on "
        f"import); this machine has {sys.version.split()[0]}"
    )

import oban


async def setup(url: str) -> None:
    raise RuntimeError(f"oban {oban.__name__}: not wired up; no Python >= 3.12 here to try it")


async def open_producer(url: str) -> Producer:
    raise RuntimeError("not wired up")

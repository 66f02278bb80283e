"""The SQL of the SQLite backend, loaded from ``sql/<verb>.sql`` with importlib.resources.

A file opens with a header comment; each statement follows a ``-- name: <name>`` line.
"""

from __future__ import annotations

import re
from importlib import resources

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def script(verb: str) -> str:
    """The whole file, for ``executescript`` (the schema)."""
    return _read(verb)


def load(verb: str) -> dict[str, str]:
    """The named statements of ``sql/<verb>.sql``."""
    text = _read(verb)
    parts = _NAME.split(text)
    found = {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    if not found:
        raise LookupError(f"sql/{verb}.sql has no '-- name:' statements")
    return found


def _read(verb: str) -> str:
    folder = resources.files("asyncmq.backends.sqlite").joinpath("sql")
    return folder.joinpath(f"{verb}.sql").read_text("utf-8")

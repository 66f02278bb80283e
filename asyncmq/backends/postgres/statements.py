"""The SQL of the PostgreSQL backend: files in ``sql/`` loaded with importlib.resources, with
the schema and table prefix substituted once, after checking they are plain identifiers."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib.resources import files

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*\Z")
_SECTION = re.compile(r"^-- name: (\w+)[ \t]*$", re.MULTILINE)
_MIGRATION = re.compile(r"(\d+)_\w+\.sql\Z")


def check_identifiers(schema: str, prefix: str) -> None:
    """Refuse a schema or prefix that is not a lowercase SQL identifier (they are pasted into
    SQL text), or too long to leave room for table and channel names."""
    if not _IDENTIFIER.match(schema) or len(schema) > 40:
        raise ValueError(f"schema must match [a-z_][a-z0-9_]* (at most 40 chars): {schema!r}")
    if prefix and (not _IDENTIFIER.match(prefix) or len(prefix) > 16):
        raise ValueError(f"table_prefix must match [a-z_][a-z0-9_]* (at most 16 chars): {prefix!r}")


@dataclass(frozen=True)
class Statements:
    """Every statement by ``verb`` or ``verb.section``, plus the schema and its migrations."""

    channel: str
    by_name: dict[str, str]
    schema_sql: str
    migrations: list[tuple[int, str]]

    def __getitem__(self, name: str) -> str:
        return self.by_name[name]

    @classmethod
    def load(cls, schema: str, prefix: str) -> Statements:
        check_identifiers(schema, prefix)
        return _load(schema, prefix)


@functools.cache
def _load(schema: str, prefix: str) -> Statements:
    """Read and render every file once per schema and prefix."""
    channel = f"{schema}.{prefix}jobs"

    def render(text: str) -> str:
        return (
            text.replace("{schema}", schema)
            .replace("{prefix}", prefix)
            .replace("{channel}", channel)
        )

    folder = files(__package__).joinpath("sql")
    by_name: dict[str, str] = {}
    schema_sql = ""
    for entry in folder.iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        text = render(entry.read_text(encoding="utf-8"))
        verb = name[: -len(".sql")]
        if verb == "schema":
            schema_sql = text
            continue
        parts = _SECTION.split(text)
        if len(parts) == 1:
            by_name[verb] = text
        for section, body in zip(parts[1::2], parts[2::2], strict=True):
            by_name[f"{verb}.{section}"] = body
    migrations = []
    found = folder.joinpath("migrations")
    if found.is_dir():
        for entry in found.iterdir():
            match = _MIGRATION.match(entry.name)
            if match:
                migrations.append((int(match[1]), render(entry.read_text(encoding="utf-8"))))
    return Statements(channel, by_name, schema_sql, sorted(migrations))

"""What a command prints: JSON for scripts, or aligned text for people (local times, yes/no,
tracebacks as text)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncmq.cli.options import format_duration


@dataclass(frozen=True)
class Output:
    """A command's result: ``data`` is what ``--json`` prints, ``text`` what people read."""

    data: Any
    text: str


def emit(output: Output, as_json: bool, *, lines: bool = False) -> None:
    """Print ``output``; ``lines`` prints JSON on one line (one document per ``--watch`` tick)."""
    if as_json:
        print(json.dumps(output.data, default=str, indent=None if lines else 2))
    else:
        print(output.text)
    sys.stdout.flush()


def warn(message: str) -> None:
    print(f"asyncmq: warning: {message}", file=sys.stderr)


def local_time(instant: float | None) -> str:
    """An epoch instant in the local time zone, to the second: ``2026-12-01 14:03:22+01:00``."""
    if instant is None:
        return "-"
    return datetime.fromtimestamp(instant).astimezone().isoformat(" ", "seconds")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def cell(name: str, value: Any) -> str:
    """One value as text: instants (``*_at``, ``lease_until``) in local time, booleans as
    yes/no, durations with their unit, nothing as ``-``, structures as compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, (int, float)) and name.endswith(("_at", "_until")):
        return local_time(value)
    if isinstance(value, (int, float)) and name in ("ttl", "timeout", "hard_timeout", "every"):
        return format_duration(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, separators=(", ", ": "))
    return str(value)


def record(fields: Mapping[str, Any]) -> str:
    """``name  value`` lines with the values aligned."""
    width = max((len(name) for name in fields), default=0)
    return "\n".join(f"{name:<{width}}  {cell(name, v)}".rstrip() for name, v in fields.items())


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str) -> str:
    """Aligned columns under upper-case headers; numbers right-aligned; ``empty`` if no rows."""
    if not rows:
        return empty
    texts = [[str(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(headers))
    ]
    widths = [max(len(h), *(len(row[i]) for row in texts)) for i, h in enumerate(headers)]
    lines = []
    for row in [[h.upper() for h in headers], *texts]:
        cells = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def shorten(text: str, width: int = 60) -> str:
    """The first line of ``text``, cut to ``width`` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 3] + "..."

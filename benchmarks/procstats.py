"""CPU time and peak memory of a worker's process tree, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces; the fields after its closing parenthesis are fixed.
    return text[text.rindex(")") + 2 :].split()


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not yet reaped, does not)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def tree(root: int) -> list[int]:
    """`root` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(roots: list[int]) -> float:
    """User + system CPU of the trees under `roots`, reaped children included."""
    total = 0
    for root in roots:
        for pid in tree(root):
            if fields := _stat(pid):
                total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return total / _TICK


def peak_rss_mb(roots: list[int]) -> float:
    """Sum over the trees under `roots` of each process's peak resident memory (VmHWM)."""
    total_kb = 0
    for root in roots:
        for pid in tree(root):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024

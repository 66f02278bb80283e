"""The ``asyncmq`` command, run as users run it: a separate process in its own directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


def cli(
    cwd: Path,
    *argv: str,
    env: dict[str, str] | None = None,
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
    pythonpath: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m asyncmq ARGV`` in ``cwd``, with the environment's asyncmq settings removed."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASYNCMQ_")}
    environ["PYTHONPATH"] = pythonpath or str(ROOT)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "asyncmq", *argv],
        cwd=cwd,
        env=environ,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def json_of(cwd: Path, *argv: str, env: dict[str, str] | None = None) -> Any:
    """The JSON output of a command that must succeed."""
    done = cli(cwd, *argv, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a failure prints; fails if there is a traceback or more than one line."""
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("asyncmq: error: "), done.stderr
    return lines[0]

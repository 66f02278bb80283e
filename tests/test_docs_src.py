"""Every docs_src example runs, so the docs never show code that does not work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(
    p.stem
    for p in (ROOT / "docs_src").glob("*.py")
    if p.stem not in {"__init__", "demo_tasks", "audit_tasks"}
)


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_runs(example: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ASYNCMQ_BACKEND_URL", None)  # the demo shows the default backend
    done = subprocess.run(
        [sys.executable, "-m", f"docs_src.{example}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    if example == "quickstart":
        assert "welcome mail sent to user 3" in done.stdout
    if example == "progress_and_cancel":
        assert "state: cancelled" in done.stdout
    if example == "testing_fake_clock":
        assert "before the hour: 1 delayed" in done.stdout
        assert "after the hour: reminded 7" in done.stdout
    if example == "plain_functions":
        assert "[req-7f3a] user 42 did login (locale pt_BR)" in done.stdout
        assert "report r-1 for user 42" in done.stdout
        assert "did reminder" in done.stdout
    if example == "flow":
        assert "published" in done.stdout
    if example == "demo":
        assert "completed" in done.stdout and "failed" in done.stdout
        assert "dependent job ran after the uploads" in done.stdout

"""A tiny end-to-end run of the benchmark harness: asyncmq on SQLite, a few hundred jobs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Unavailable, free_port, required
from tests.servers.redis import spawn

REPO = Path(__file__).resolve().parent.parent


def _unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"{reason} (ASYNCMQ_REQUIRE_BACKENDS=1)")
    pytest.skip(reason)


@pytest.fixture
def recorder_url(tmp_path: Path) -> Iterator[str]:
    """A private Redis for the harness's completion counter (the jobs themselves use SQLite)."""
    try:
        server = spawn(tmp_path / "redis", port := free_port())
    except Unavailable as exc:
        _unavailable(f"the benchmark recorder needs Redis: {exc}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_harness_runs_asyncmq_on_sqlite_and_writes_json(recorder_url: str, tmp_path: Path) -> None:
    if not (REPO / "asyncmq" / "backends" / "sqlite").exists():
        _unavailable("asyncmq has no SQLite backend in this checkout")
    out = tmp_path / "results" / "smoke.json"
    command = [sys.executable, "-m", "benchmarks", "run", "--target", "asyncmq-sqlite"]
    command += ["--jobs", "300", "--warmup", "50", "--latency-samples", "20", "--repeats", "1"]
    command += ["--latency-rate", "200", "--skip-best", "--out", str(out)]
    env = {**os.environ, "BENCH_RECORDER_URL": recorder_url}
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, proc.stderr[-2000:]

    (row,) = json.loads(out.read_text())["targets"]
    assert row["status"] == "ok", row
    assert row["errors"] == {}, row["errors"]
    for figure in ("add_one", "add_concurrent", "add_bulk", "process", "drain"):
        assert row["figures"][figure]["median"] > 0
    assert row["figures"]["latency_p50_ms"]["median"] >= 0
    assert "| asyncmq-sqlite |" in out.with_suffix(".md").read_text()
